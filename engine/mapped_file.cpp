#include "engine/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "engine/model_error.h"

namespace gossamer::engine {

bool huge_pages_available() {
    std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string modes;
    std::getline(in, modes);
    return modes.find("[always]") != std::string::npos ||
           modes.find("[madvise]") != std::string::npos;
}

namespace {

// MemAvailable from /proc/meminfo in bytes (0 when unknown).
std::uint64_t available_memory() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::uint64_t kib = 0;
    std::string unit;
    while (in >> key >> kib >> unit)
        if (key == "MemAvailable:") return kib * 1024;
    return 0;
}

// A private anonymous copy of the file (huge pages requested), or null when memory is refused
// or a read fails: the caller keeps the file mapping then.
void* copy_into_memory(int fd, std::size_t size) {
    // Leave room for everything else (a mapping can be evicted under pressure; a copy cannot).
    const std::uint64_t margin = std::uint64_t{1} << 30;
    if (available_memory() < static_cast<std::uint64_t>(size) + margin) return nullptr;
    void* copy = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (copy == MAP_FAILED) return nullptr;
    ::madvise(copy, size, MADV_HUGEPAGE);
    constexpr std::size_t kChunk = std::size_t{64} << 20;
    for (std::size_t done = 0; done < size;) {
        const ssize_t n = ::pread(fd, static_cast<char*>(copy) + done,
                                  std::min(kChunk, size - done), static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::munmap(copy, size);
            return nullptr;
        }
        done += static_cast<std::size_t>(n);
    }
    ::mprotect(copy, size, PROT_READ);
    return copy;
}

}  // namespace

MappedFile::MappedFile(const std::filesystem::path& path, Residency residency) : path_(path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw ModelError(path.string() + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int err = errno;
        ::close(fd);
        throw ModelError(path.string() + ": not a regular file" +
                         (err ? std::string(": ") + std::strerror(err) : ""));
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw ModelError(path.string() + ": cannot map: " + std::strerror(err));
        }
        data_ = static_cast<const std::byte*>(p);
        if (residency == Residency::Memory && huge_pages_available()) {
            if (void* copy = copy_into_memory(fd, size_)) {
                ::munmap(p, size_);
                data_ = static_cast<const std::byte*>(copy);
                in_memory_ = true;
            }
        }
    }
    ::close(fd);
}

bool MappedFile::rewrite(const std::byte* at, std::size_t bytes,
                         const std::function<void(std::byte*)>& edit) {
    if (!in_memory_ || at < data_ || bytes > size_ ||
        at - data_ > static_cast<std::ptrdiff_t>(size_ - bytes))
        return false;
    // mprotect works on whole pages; the neighbours are this same private copy.
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto first = reinterpret_cast<std::uintptr_t>(at) / page * page;
    const auto last = (reinterpret_cast<std::uintptr_t>(at) + bytes + page - 1) / page * page;
    auto* start = reinterpret_cast<void*>(first);
    if (::mprotect(start, last - first, PROT_READ | PROT_WRITE) != 0) return false;
    edit(const_cast<std::byte*>(at));
    ::mprotect(start, last - first, PROT_READ);
    return true;
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
}

}  // namespace gossamer::engine
