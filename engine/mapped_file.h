// A read-only memory mapping of a whole file. Pages are read on first touch, so mapping a
// 13 GB checkpoint costs nothing until the weights are used. It must not parse anything.
#pragma once

#include <cstddef>
#include <filesystem>

namespace gossamer::engine {

class MappedFile {
public:
    // Throws ModelError naming the path and the system's reason.
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::byte* data() const { return data_; }
    std::size_t size() const { return size_; }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace gossamer::engine
