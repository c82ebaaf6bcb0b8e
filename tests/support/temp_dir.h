// Test support: a fresh directory under the system temp dir, removed with everything in it
// when the test ends.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

namespace gossamer::test {

struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& tag = "test") {
        static std::atomic<int> counter{0};
        path = std::filesystem::temp_directory_path() /
               ("gossamer_" + tag + "_" + std::to_string(::getpid()) + "_" +
                std::to_string(counter++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

}  // namespace gossamer::test
