#include "tools/patch/patch_apply.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <set>
#include <utility>

namespace gossamer::tools::patch {

namespace {

struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            if (fd >= 0) ::close(fd);
            fd = std::exchange(o.fd, -1);
        }
        return *this;
    }
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
    throw PatchError(path + ": " + why);
}

// The components of a workspace-relative path; refused when it could leave the workspace or
// touch a protected name.
std::vector<std::string> components(const std::string& path, const ApplyOptions& o) {
    if (path.empty()) refuse("(empty path)", "a path is required");
    if (path.front() == '/') refuse(path, "paths are relative to the workspace, not absolute");
    if (path.find('\0') != std::string::npos) refuse(path, "a path must not hold NUL");
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at <= path.size()) {
        std::size_t slash = std::min(path.find('/', at), path.size());
        std::string part = path.substr(at, slash - at);
        at = slash + 1;
        if (part.empty() || part == ".") continue;
        if (part == "..") refuse(path, "'..' is not allowed: paths stay inside the workspace");
        if (std::find(o.protected_names.begin(), o.protected_names.end(), part) !=
            o.protected_names.end())
            refuse(path, "'" + part + "' is protected: it cannot be changed");
        out.push_back(std::move(part));
    }
    if (out.empty()) refuse(path, "names no file");
    return out;
}

std::string why_not(int err) {
    if (err == ELOOP || err == EMLINK) return "a symlink is on the way (symlinks are not followed)";
    if (err == ENOTDIR) return "a part of it is not a directory";
    return std::strerror(err);
}

// The directory holding `parts`' last element, walked from `root` without following links.
// `create`: make missing directories; otherwise a missing one gives Fd{-1} (nothing exists
// there yet).
// As root, what apply_patch creates belongs to the workspace folder's owner (the sandbox's uid
// once a sandboxed tool has run there), so the shell and python can change it afterwards.
struct Owner {
    bool give = false;
    uid_t uid = 0;
    gid_t gid = 0;
};

Owner workspace_owner(int root) {
    struct stat st {};
    if (::geteuid() != 0 || ::fstat(root, &st) != 0 || st.st_uid == 0) return {};
    return {true, st.st_uid, st.st_gid};
}

Fd open_parent(int root, const std::vector<std::string>& parts, bool create,
               const std::string& path, const Owner& owner = {}) {
    Fd cur(::dup(root));
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        int next =
            ::openat(cur.fd, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT) {
            if (!create) return Fd{};
            if (::mkdirat(cur.fd, parts[i].c_str(), 0755) != 0) {
                if (errno != EEXIST) refuse(path, "cannot create its folder: " + why_not(errno));
            } else if (owner.give) {
                ::fchownat(cur.fd, parts[i].c_str(), owner.uid, owner.gid, AT_SYMLINK_NOFOLLOW);
            }
            next =
                ::openat(cur.fd, parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            const int err = errno;
            struct stat st {};
            if (::fstatat(cur.fd, parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode))
                refuse(path, "'" + parts[i] + "' is a symlink (symlinks are not followed)");
            refuse(path, why_not(err));
        }
        cur = Fd(next);
    }
    return cur;
}

struct FileState {
    bool exists = false;
    std::string content;
    mode_t mode = 0644;
};

FileState read_file(int dir, const std::string& name, const std::string& path,
                    const ApplyOptions& o) {
    FileState s;
    if (dir < 0) return s;
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return s;
        refuse(path, why_not(errno));
    }
    if (S_ISLNK(st.st_mode)) refuse(path, "is a symlink (symlinks are not followed)");
    if (!S_ISREG(st.st_mode)) refuse(path, "is not a regular file");
    Fd f(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (f.fd < 0) refuse(path, why_not(errno));
    if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) refuse(path, "is not a regular file");
    if (static_cast<std::size_t>(st.st_size) > o.max_file_bytes)
        refuse(path, "is larger than " + std::to_string(o.max_file_bytes) + " bytes");
    s.exists = true;
    s.mode = st.st_mode & 07777;
    char buf[65536];
    for (ssize_t n; (n = ::read(f.fd, buf, sizeof buf)) != 0;) {
        if (n < 0) {
            if (errno == EINTR) continue;
            refuse(path, why_not(errno));
        }
        s.content.append(buf, static_cast<std::size_t>(n));
        if (s.content.size() > o.max_file_bytes)
            refuse(path, "is larger than " + std::to_string(o.max_file_bytes) + " bytes");
    }
    return s;
}

std::string join_lines(const std::vector<std::string>& lines, bool final_newline) {
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        out += lines[i];
        if (i + 1 < lines.size() || final_newline) out += '\n';
    }
    return out;
}

std::string rstripped(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}
std::string stripped(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    return rstripped(s);
}

// The first index >= from where `want` matches `lines` at `level` (0 exact, 1 trailing white
// space ignored, 2 surrounding white space ignored); -1 when none.
long find_at(const std::vector<std::string>& lines, const std::vector<std::string>& want,
             std::size_t from, int level, bool at_end) {
    if (want.size() > lines.size()) return -1;
    auto same = [&](const std::string& a, const std::string& b) {
        if (level == 0) return a == b;
        if (level == 1) return rstripped(a) == rstripped(b);
        return stripped(a) == stripped(b);
    };
    auto matches = [&](std::size_t at) {
        for (std::size_t k = 0; k < want.size(); ++k)
            if (!same(lines[at + k], want[k])) return false;
        return true;
    };
    const std::size_t last = lines.size() - want.size();
    if (at_end && last >= from && matches(last)) return static_cast<long>(last);
    for (std::size_t at = from; at <= last; ++at)
        if (matches(at)) return static_cast<long>(at);
    return -1;
}

long find(const std::vector<std::string>& lines, const std::vector<std::string>& want,
          std::size_t from, bool at_end) {
    for (int level = 0; level < 3; ++level)
        if (long at = find_at(lines, want, from, level, at_end); at >= 0) return at;
    return -1;
}

std::string nearest(const std::vector<std::string>& lines, const std::string& first) {
    const std::string key = stripped(first);
    std::size_t best = 0, best_len = 0;
    for (std::size_t j = 0; j < lines.size(); ++j) {
        const std::string l = stripped(lines[j]);
        std::size_t n = 0;
        while (n < l.size() && n < key.size() && l[n] == key[n]) ++n;
        if (n > best_len || (l == key && !key.empty())) best = j, best_len = n;
        if (l == key && !key.empty()) break;
    }
    if (lines.empty()) return "  (the file is empty)\n";
    std::string out;
    const std::size_t lo = best > 2 ? best - 2 : 0, hi = std::min(lines.size(), best + 3);
    for (std::size_t j = lo; j < hi; ++j)
        out += "  " + std::to_string(j + 1) + "| " + lines[j].substr(0, 200) + "\n";
    return out;
}

// A file whose lines end in CR keeps doing so for the lines a patch adds.
void match_endings(std::vector<std::string>& added, bool crlf) {
    if (!crlf) return;
    for (auto& l : added)
        if (l.empty() || l.back() != '\r') l += '\r';
}

}  // namespace

std::vector<std::string> split_lines(const std::string& text, bool& final_newline) {
    std::vector<std::string> out;
    final_newline = !text.empty() && text.back() == '\n';
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t nl = text.find('\n', at);
        if (nl == std::string::npos) nl = text.size();
        out.push_back(text.substr(at, nl - at));
        at = nl + 1;
    }
    return out;
}

std::vector<std::string> apply_hunks(const std::vector<std::string>& old,
                                     const std::vector<Hunk>& hunks, const std::string& path) {
    std::vector<std::string> lines = old;
    std::size_t crlf_count = 0;
    for (const auto& l : old) crlf_count += !l.empty() && l.back() == '\r';
    const bool crlf = !old.empty() && crlf_count * 2 > old.size();
    std::size_t cursor = 0;
    for (std::size_t k = 0; k < hunks.size(); ++k) {
        const Hunk& h = hunks[k];
        const std::string which =
            "hunk " + std::to_string(k + 1) + (h.anchor.empty() ? "" : " (@@ " + h.anchor + ")");
        if (!h.anchor.empty()) {
            long at = find(lines, {h.anchor}, cursor, false);
            if (at < 0)
                throw PatchError(path + ": " + which + ": the line '" + h.anchor +
                                 "' is not in the file after line " + std::to_string(cursor) +
                                 ". Nearest lines:\n" + nearest(lines, h.anchor));
            cursor = static_cast<std::size_t>(at) + 1;
        }
        std::vector<std::string> want, put;
        for (const auto& l : h.lines) {
            if (l.kind != '+') want.push_back(l.text);
            if (l.kind != '-') put.push_back(l.text);
        }
        match_endings(put, crlf);
        if (want.empty()) {
            const std::size_t at = h.anchor.empty() || h.end_of_file ? lines.size() : cursor;
            lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), put.begin(), put.end());
            cursor = at + put.size();
            continue;
        }
        const long at = find(lines, want, cursor, h.end_of_file);
        if (at < 0) {
            std::string expected;
            for (std::size_t j = 0; j < std::min<std::size_t>(want.size(), 6); ++j)
                expected += "  " + want[j].substr(0, 200) + "\n";
            throw PatchError(path + ": " + which +
                             " did not match: these lines are not in the file" +
                             (cursor ? " after line " + std::to_string(cursor) : "") + ":\n" +
                             expected + "Nearest lines in the file:\n" + nearest(lines, want[0]));
        }
        const auto pos = lines.begin() + at;
        lines.erase(pos, pos + static_cast<std::ptrdiff_t>(want.size()));
        lines.insert(lines.begin() + at, put.begin(), put.end());
        cursor = static_cast<std::size_t>(at) + put.size();
    }
    return lines;
}

Applied apply_patch(const std::vector<FileOp>& ops, const std::filesystem::path& workspace,
                    const ApplyOptions& options) {
    Fd root(::open(workspace.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (root.fd < 0) throw PatchError("the workspace cannot be opened: " + why_not(errno));
    const Owner owner = workspace_owner(root.fd);
    struct Write {
        std::vector<std::string> parts;
        std::string path;
        std::string content;
        mode_t mode = 0644;
        Fd dir;
        std::string tmp;
    };
    struct Remove {
        std::vector<std::string> parts;
        std::string path;
    };
    std::vector<Write> writes;
    std::vector<Remove> removes;
    std::set<std::string> touched;
    Applied done;
    // Where a `.git` file sends git (a repository kept inside the workspace) is protected too.
    const auto gitdir = gitdir_inside(workspace, workspace);
    auto claim = [&](const std::vector<std::string>& parts, const std::string& path) {
        std::string key;
        for (const auto& p : parts) key += "/" + p;
        if (gitdir && (key == "/" + *gitdir || key.rfind("/" + *gitdir + "/", 0) == 0))
            refuse(path, "it is inside the repository '" + *gitdir +
                             "' that .git points to: it cannot be changed");
        if (!touched.insert(key).second) refuse(path, "appears twice in one patch");
    };
    auto state = [&](const std::vector<std::string>& parts, const std::string& path) {
        Fd dir = open_parent(root.fd, parts, false, path);
        return read_file(dir.fd, parts.back(), path, options);
    };
    // 1. Every new content, in memory; nothing is written yet.
    for (const auto& op : ops) {
        if (const auto* a = std::get_if<AddFile>(&op)) {
            auto parts = components(a->path, options);
            claim(parts, a->path);
            if (state(parts, a->path).exists)
                refuse(a->path, "already exists (use '*** Update File:' to change it)");
            writes.push_back({parts, a->path, join_lines(a->lines, true), 0644, {}, {}});
            done.summary.push_back("A " + a->path);
        } else if (const auto* d = std::get_if<DeleteFile>(&op)) {
            auto parts = components(d->path, options);
            claim(parts, d->path);
            if (!state(parts, d->path).exists) refuse(d->path, "does not exist");
            removes.push_back({parts, d->path});
            done.summary.push_back("D " + d->path);
        } else if (const auto* u = std::get_if<UpdateFile>(&op)) {
            auto parts = components(u->path, options);
            claim(parts, u->path);
            const FileState old = state(parts, u->path);
            if (!old.exists) refuse(u->path, "does not exist (use '*** Add File:' to create it)");
            bool final_newline = false;
            const auto lines =
                apply_hunks(split_lines(old.content, final_newline), u->hunks, u->path);
            std::string content = join_lines(lines, final_newline || old.content.empty());
            if (u->move_to) {
                auto to = components(*u->move_to, options);
                claim(to, *u->move_to);
                if (state(to, *u->move_to).exists)
                    refuse(*u->move_to, "already exists (the move would overwrite it)");
                writes.push_back({to, *u->move_to, std::move(content), old.mode, {}, {}});
                removes.push_back({parts, u->path});
                done.summary.push_back("M " + u->path + " -> " + *u->move_to);
            } else {
                writes.push_back({parts, u->path, std::move(content), old.mode, {}, {}});
                done.summary.push_back("M " + u->path);
            }
        }
    }
    // 2. Temp files beside their targets; any failure removes them all.
    std::mt19937_64 rng{std::random_device{}()};
    auto cleanup = [&] {
        for (auto& w : writes)
            if (w.dir.fd >= 0 && !w.tmp.empty()) ::unlinkat(w.dir.fd, w.tmp.c_str(), 0);
    };
    try {
        for (auto& w : writes) {
            w.dir = open_parent(root.fd, w.parts, true, w.path, owner);
            w.tmp = ".";
            w.tmp.append(w.parts.back(), 0, 200);
            w.tmp += ".gossamer-patch-";
            w.tmp += std::to_string(rng() % 1000000000);
            Fd f(::openat(w.dir.fd, w.tmp.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, w.mode));
            if (f.fd < 0) {
                w.tmp.clear();
                refuse(w.path, "cannot be written: " + why_not(errno));
            }
            if (owner.give) ::fchown(f.fd, owner.uid, owner.gid);
            ::fchmod(f.fd, w.mode);
            std::size_t off = 0;
            while (off < w.content.size()) {
                const ssize_t n = ::write(f.fd, w.content.data() + off, w.content.size() - off);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) refuse(w.path, "cannot be written: " + why_not(errno));
                off += static_cast<std::size_t>(n);
            }
            // On disk before it replaces anything: "Done!" must not outlive a power cut.
            if (::fsync(f.fd) != 0) refuse(w.path, "cannot be written: " + why_not(errno));
        }
    } catch (...) {
        cleanup();
        throw;
    }
    // 3. Into place: renames (atomic per file), then the removals.
    for (auto& w : writes)
        if (::renameat(w.dir.fd, w.tmp.c_str(), w.dir.fd, w.parts.back().c_str()) != 0) {
            cleanup();
            refuse(w.path, "cannot be replaced: " + why_not(errno));
        }
    for (const auto& r : removes) {
        Fd dir = open_parent(root.fd, r.parts, false, r.path);
        if (dir.fd < 0 || ::unlinkat(dir.fd, r.parts.back().c_str(), 0) != 0)
            refuse(r.path, "cannot be removed: " + why_not(errno));
        ::fsync(dir.fd);
    }
    for (auto& w : writes) ::fsync(w.dir.fd);  // the renames themselves
    return done;
}

}  // namespace gossamer::tools::patch
