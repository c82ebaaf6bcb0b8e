#include "runtime/workspace_history.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include "harmony/sha256.h"

namespace gossamer::runtime {

namespace fs = std::filesystem;

namespace {

bool skipped(const std::string& name) {
    return name == ".git" || name == ".gossamer";
}

std::int64_t ns(const struct timespec& t) {
    return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

std::string read_all(int fd) {
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::strerror(errno));
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

struct Fd {
    int fd = -1;
    explicit Fd(int f = -1) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            if (fd >= 0) ::close(fd);
            fd = o.fd;
            o.fd = -1;
        }
        return *this;
    }
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// The folder holding `path`'s last part, walked from `root` with O_NOFOLLOW; `create` makes
// missing folders. Throws when a part is a symlink or not a folder.
Fd open_parent(int root, const std::string& path, bool create) {
    Fd cur(::dup(root));
    std::size_t at = 0;
    for (std::size_t slash; (slash = path.find('/', at)) != std::string::npos; at = slash + 1) {
        const std::string part = path.substr(at, slash - at);
        if (part.empty() || part == "." || part == "..")
            throw std::runtime_error(path + ": not a plain relative path");
        int next = ::openat(cur.fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (::mkdirat(cur.fd, part.c_str(), 0755) != 0 && errno != EEXIST)
                throw std::runtime_error(path +
                                         ": cannot create its folder: " + std::strerror(errno));
            next = ::openat(cur.fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0)
            throw std::runtime_error(path + ": " +
                                     (errno == ELOOP || errno == ENOTDIR
                                          ? "a symlink or file is on the way"
                                          : std::strerror(errno)));
        cur = Fd(next);
    }
    return cur;
}

std::string base_name(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Manifest WorkspaceScanner::scan(const fs::path& workspace, const BlobSink& sink) {
    Manifest out;
    std::map<std::string, Seen> now;
    std::error_code ec;
    fs::recursive_directory_iterator it(workspace, fs::directory_options::skip_permission_denied,
                                        ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const auto& path = it->path();
        if (skipped(path.filename().string())) {
            it.disable_recursion_pending();
            continue;
        }
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) continue;  // gone since the listing
        if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) continue;
        const std::string rel = path.lexically_relative(workspace).generic_string();
        Seen seen{static_cast<std::uint64_t>(st.st_size),
                  static_cast<std::uint64_t>(st.st_ino),
                  ns(st.st_mtim),
                  ns(st.st_ctim),
                  static_cast<std::uint32_t>(st.st_mode),
                  {}};
        if (auto old = seen_.find(rel);
            old != seen_.end() && old->second.size == seen.size && old->second.ino == seen.ino &&
            old->second.mtime_ns == seen.mtime_ns && old->second.ctime_ns == seen.ctime_ns &&
            old->second.mode == seen.mode) {
            seen.hash = old->second.hash;
        } else if (S_ISLNK(st.st_mode)) {
            std::string text(4096, '\0');
            const ssize_t n = ::readlink(path.c_str(), text.data(), text.size());
            if (n < 0) continue;
            text.resize(static_cast<std::size_t>(n));
            seen.hash = harmony::sha256_hex(text);
            sink(seen.hash, text);
        } else if (seen.size > kMaxFileBytes) {
            seen.hash = "large:" + std::to_string(seen.size) + ":" + std::to_string(seen.mtime_ns);
        } else {
            // A file that cannot be read (its mode says so) is still there: recorded by its
            // size and mtime, without content, as a file over the size limit is.
            Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            std::optional<std::string> bytes;
            if (fd.fd >= 0) try {
                    bytes = read_all(fd.fd);
                } catch (const std::runtime_error&) {
                }
            if (bytes) {
                seen.hash = harmony::sha256_hex(*bytes);
                sink(seen.hash, *bytes);
            } else {
                seen.hash =
                    "unreadable:" + std::to_string(seen.size) + ":" + std::to_string(seen.mtime_ns);
            }
        }
        out[rel] = {seen.hash, seen.mode};
        now[rel] = std::move(seen);
    }
    seen_ = std::move(now);
    return out;
}

std::vector<StoredChange> diff_manifests(const Manifest& before, const Manifest& after) {
    std::vector<StoredChange> out;
    auto b = before.begin();
    auto a = after.begin();
    while (b != before.end() || a != after.end()) {
        StoredChange c;
        if (a == after.end() || (b != before.end() && b->first < a->first)) {
            c.path = b->first;
            c.before_hash = b->second.hash;
            c.before_mode = b->second.mode;
            ++b;
        } else if (b == before.end() || a->first < b->first) {
            c.path = a->first;
            c.after_hash = a->second.hash;
            c.after_mode = a->second.mode;
            ++a;
        } else {
            const bool same = b->second == a->second;
            c.path = a->first;
            c.before_hash = b->second.hash;
            c.before_mode = b->second.mode;
            c.after_hash = a->second.hash;
            c.after_mode = a->second.mode;
            ++a, ++b;
            if (same) continue;
        }
        out.push_back(std::move(c));
    }
    return out;
}

Manifest state_at(const std::vector<StoredChange>& changes, std::optional<int> to_step) {
    Manifest state;
    for (const auto& c : changes) {
        if (to_step && c.step > *to_step) break;
        if (c.after_hash)
            state[c.path] = {*c.after_hash, c.after_mode};
        else
            state.erase(c.path);
    }
    return state;
}

std::vector<std::string> change_lines(const std::vector<StoredChange>& changes) {
    std::vector<std::string> out;
    for (const auto& c : changes)
        out.push_back(std::string(!c.before_hash ? "A " : !c.after_hash ? "D " : "M ") + c.path);
    return out;
}

std::vector<std::string> restore_workspace(
    const fs::path& workspace, const Manifest& current, const Manifest& target,
    const std::function<std::optional<std::string>(const std::string& hash)>& blob) {
    Fd root(::open(workspace.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (root.fd < 0)
        throw std::runtime_error("the workspace " + workspace.string() +
                                 " cannot be opened: " + std::strerror(errno));
    struct stat rs {};
    ::fstat(root.fd, &rs);
    const bool give = ::geteuid() == 0 && rs.st_uid != 0;  // as apply_patch does
    std::mt19937_64 rng(std::random_device{}());
    std::vector<std::string> done;
    for (const auto& c : diff_manifests(current, target)) {
        const std::string name = base_name(c.path);
        if (!c.after_hash) {
            const Fd dir = open_parent(root.fd, c.path, false);
            if (::unlinkat(dir.fd, name.c_str(), 0) != 0 && errno != ENOENT)
                throw std::runtime_error(c.path + ": cannot delete: " + std::strerror(errno));
            done.push_back("D " + c.path);
            continue;
        }
        const auto bytes = blob(*c.after_hash);
        if (!bytes)
            throw std::runtime_error(c.path + ": its content was not recorded (" +
                                     (c.after_hash->rfind("large:", 0) == 0 ? "larger than 16 MiB"
                                      : c.after_hash->rfind("unreadable:", 0) == 0
                                          ? "it could not be read"
                                          : "missing from the store") +
                                     ")");
        const Fd dir = open_parent(root.fd, c.path, true);
        std::string tmp = ".";
        tmp.append(name, 0, 200);
        tmp.append(".gossamer-revert-");
        tmp.append(std::to_string(rng() % 1000000000));
        if (S_ISLNK(c.after_mode)) {
            if (::symlinkat(bytes->c_str(), dir.fd, tmp.c_str()) != 0)
                throw std::runtime_error(c.path + ": cannot write: " + std::strerror(errno));
        } else {
            Fd f(::openat(dir.fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          0600));
            if (f.fd < 0)
                throw std::runtime_error(c.path + ": cannot write: " + std::strerror(errno));
            std::size_t off = 0;
            while (off < bytes->size()) {
                const ssize_t n = ::write(f.fd, bytes->data() + off, bytes->size() - off);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) {
                    ::unlinkat(dir.fd, tmp.c_str(), 0);
                    throw std::runtime_error(c.path + ": cannot write: " + std::strerror(errno));
                }
                off += static_cast<std::size_t>(n);
            }
            if (give) ::fchown(f.fd, rs.st_uid, rs.st_gid);
            ::fchmod(f.fd, static_cast<mode_t>(c.after_mode & 07777));
            ::fsync(f.fd);
        }
        // A folder where the file goes is removed only if empty (never recursively).
        struct stat st {};
        if (::fstatat(dir.fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
            ::unlinkat(dir.fd, name.c_str(), AT_REMOVEDIR) != 0) {
            ::unlinkat(dir.fd, tmp.c_str(), 0);
            throw std::runtime_error(c.path + ": a folder that is not empty is in the way");
        }
        if (::renameat(dir.fd, tmp.c_str(), dir.fd, name.c_str()) != 0) {
            ::unlinkat(dir.fd, tmp.c_str(), 0);
            throw std::runtime_error(c.path + ": cannot write: " + std::strerror(errno));
        }
        ::fsync(dir.fd);
        done.push_back(std::string(c.before_hash ? "M " : "A ") + c.path);
    }
    return done;
}

}  // namespace gossamer::runtime
