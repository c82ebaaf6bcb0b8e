#include "runtime/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace gossamer::runtime {
namespace fs = std::filesystem;

std::optional<std::string> write_file_atomically(const fs::path& path, const std::string& bytes) {
    std::string name = ".";  // appended piece by piece: GCC 12's -Wrestrict misfires on "." + s
    name += path.filename().string();
    name += ".tmp-";
    name += std::to_string(::getpid());
    const fs::path temp = path.parent_path() / name;
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        if (!out) return "cannot create " + temp.string() + " (" + std::strerror(errno) + ")";
        out << bytes;
        out.flush();
        if (!out) {
            const std::string why = std::strerror(errno);
            std::error_code ec;
            fs::remove(temp, ec);
            return "cannot write " + temp.string() + " (" + why + ")";
        }
    }
    std::error_code ec;
    fs::rename(temp, path, ec);
    if (ec) {
        const std::string why = ec.message();
        fs::remove(temp, ec);
        return "cannot rename into " + path.string() + " (" + why + ")";
    }
    return std::nullopt;
}

}  // namespace gossamer::runtime
