// Writes a file whole or not at all: the bytes go to a temporary file in the same folder,
// which is then renamed over the target, so a reader (or a crash) never sees half of it. Used
// for a session's outputs and a fleet's results. It must not create folders.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace gossamer::runtime {

// nullopt when written; else what failed, naming the file and the OS reason. No temporary
// file is left behind either way.
std::optional<std::string> write_file_atomically(const std::filesystem::path& path,
                                                 const std::string& bytes);

}  // namespace gossamer::runtime
