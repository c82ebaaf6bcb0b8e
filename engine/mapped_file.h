// A whole file's bytes, read-only: either a memory mapping of the file (pages are read on first
// touch, so a 13 GB checkpoint costs nothing until the weights are used) or a copy in
// anonymous memory backed by transparent huge pages (read at load; the engine then streams the
// weights faster, see Residency). It must not parse anything.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>

namespace gossamer::engine {

// Where a checkpoint's bytes live while the engine runs.
enum class Residency {
    Mapped,  // the file's page-cache pages, mapped: instant load, shared with other processes
    // A private copy in anonymous memory with MADV_HUGEPAGE. On the 2-core Zen 5 VM the decode
    // products read these 1.6-1.8x faster than mapped page-cache pages (BENCHMARKS.md), at the
    // cost of reading the file at load. Falls back to Mapped when transparent huge pages are
    // off (4 KiB page faults make the copy several times slower), when MemAvailable is below
    // the file's size plus 1 GiB, or when the memory is refused.
    Memory,
};

// Whether this system can give Residency::Memory its huge pages (THP "always" or "madvise").
bool huge_pages_available();

class MappedFile {
  public:
    // Throws ModelError naming the path and the system's reason.
    explicit MappedFile(const std::filesystem::path& path, Residency residency = Residency::Mapped);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::byte* data() const { return data_; }
    std::size_t size() const { return size_; }
    bool in_memory() const { return in_memory_; }  // Residency::Memory took effect
    // For an in-memory copy only: makes [at, at + bytes) writable, calls edit(start of the
    // range), and makes it read-only again. Returns false (and calls nothing) for a mapped file
    // or a range outside the file.
    bool rewrite(const std::byte* at, std::size_t bytes,
                 const std::function<void(std::byte*)>& edit);
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    bool in_memory_ = false;
};

}  // namespace gossamer::engine
