// Builds the ordered mount plan for a policy (mount_plan.h). Order matters: the root tmpfs
// first, then binds (parents before children), then /tmp, /dev, /proc, synthesized /etc
// files, and last the root made read-only so nothing can be created outside the workspace
// and /tmp.
#include "sandbox/mount_plan.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

namespace gossamer::sandbox {
namespace {

class PlanBuilder {
  public:
    explicit PlanBuilder(const HostLookup& lookup) : lookup_(lookup) {}

    void add(MountOp op, const std::string& target, std::string source = {}, std::string data = {},
             std::uint32_t mode = 0) {
        steps_.push_back(
            {op, std::string(kNewRoot) + target, std::move(source), std::move(data), mode});
    }

    // mkdir for `path` and each missing parent (paths inside the sandbox).
    void make_dirs(const std::string& path) {
        if (path.empty() || path == "/" || made_.count(path)) return;
        make_dirs(path.substr(0, std::max<std::size_t>(path.rfind('/'), 1)));
        if (path == "/") return;
        made_.insert(path);
        add(MountOp::mkdir, path, {}, {}, 0755);
    }

    void bind(const Bind& bind) {
        check_sandbox_path(bind.sandbox_path, "read_only_binds");
        const HostEntry entry = lookup_(bind.host_path);
        const std::string source = std::string(kOldRoot) + bind.host_path;
        switch (entry.kind) {
            case HostEntry::Kind::missing:
                if (bind.optional) return;
                throw PolicyError("read-only bind source '" + bind.host_path +
                                  "' does not exist (mark it optional or remove it)");
            case HostEntry::Kind::symlink:
                if (bind.sandbox_path == bind.host_path) {
                    make_dirs(parent(bind.sandbox_path));
                    add(MountOp::symlink, bind.sandbox_path, entry.link_text);
                    return;
                }
                // a symlink bound elsewhere: mount what it points to (mount follows links)
                [[fallthrough]];
            case HostEntry::Kind::directory:
                if (entry.kind == HostEntry::Kind::directory || followed_is_dir(bind.host_path)) {
                    make_dirs(bind.sandbox_path);
                } else {
                    make_dirs(parent(bind.sandbox_path));
                    add(MountOp::touch, bind.sandbox_path, {}, {}, 0644);
                }
                add(MountOp::bind_ro, bind.sandbox_path, source);
                return;
            case HostEntry::Kind::file:
                make_dirs(parent(bind.sandbox_path));
                add(MountOp::touch, bind.sandbox_path, {}, {}, 0644);
                add(MountOp::bind_ro, bind.sandbox_path, source);
                return;
        }
    }

    void check_sandbox_path(const std::string& path, const std::string& key) {
        if (path.empty() || path[0] != '/' || path == "/")
            throw PolicyError(key + ": sandbox path '" + path + "' must be absolute and not /");
        for (const char* reserved : {"/proc", "/dev", "/tmp"})
            if (path == reserved || path.rfind(std::string(reserved) + "/", 0) == 0)
                throw PolicyError(key + ": sandbox path '" + path + "' is reserved (" + reserved +
                                  " is made by the sandbox)");
    }

    // A protected path: relative, no '.', '..' or empty parts; a symlink is refused (its
    // target could be anywhere), a missing one has nothing to protect.
    void protect(const Policy& policy, const std::string& path) {
        if (path.empty() || path[0] == '/')
            throw PolicyError("protected: '" + path + "' must be relative to the workspace");
        for (std::size_t at = 0; at <= path.size();) {
            const std::size_t end = std::min(path.find('/', at), path.size());
            const std::string part = path.substr(at, end - at);
            if (part.empty() || part == "." || part == "..")
                throw PolicyError("protected: '" + path + "' has an empty, '.' or '..' part");
            at = end + 1;
        }
        const HostEntry entry = lookup_(policy.workspace_host + "/" + path);
        if (entry.kind == HostEntry::Kind::missing) return;
        if (entry.kind == HostEntry::Kind::symlink)
            throw PolicyError("protected path '" + path +
                              "' in the workspace is a symlink; it cannot be kept read-only");
        add(MountOp::protect, policy.workspace_path + "/" + path,
            std::string(kNewRoot) + policy.workspace_path, path);
    }

    std::vector<MountStep> take() { return std::move(steps_); }

  private:
    static std::string parent(const std::string& path) {
        const auto slash = path.rfind('/');
        return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
    }
    bool followed_is_dir(const std::string& host_path) const {
        struct stat st {};
        return ::stat(host_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }

    const HostLookup& lookup_;
    std::vector<MountStep> steps_;
    std::set<std::string> made_;
};

std::string tmpfs_options(std::uint64_t bytes, std::uint64_t inodes, const char* mode) {
    std::string options = std::string("mode=") + mode;
    if (bytes) options += ",size=" + std::to_string(bytes);
    if (inodes) options += ",nr_inodes=" + std::to_string(inodes);
    return options;
}

void add_dev(PlanBuilder& plan, const Policy& policy) {
    plan.make_dirs("/dev");
    plan.add(MountOp::tmpfs, "/dev", {}, tmpfs_options(64 << 10, 64, "0755"));
    for (const char* node : {"null", "zero", "full", "random", "urandom"}) {
        const std::string path = std::string("/dev/") + node;
        plan.add(MountOp::touch, path, {}, {}, 0666);
        plan.add(MountOp::bind_dev, path, std::string(kOldRoot) + path);
    }
    plan.add(MountOp::symlink, "/dev/fd", "/proc/self/fd");
    plan.add(MountOp::symlink, "/dev/stdin", "/proc/self/fd/0");
    plan.add(MountOp::symlink, "/dev/stdout", "/proc/self/fd/1");
    plan.add(MountOp::symlink, "/dev/stderr", "/proc/self/fd/2");
    plan.add(MountOp::mkdir, "/dev/shm", {}, {}, 01777);
    plan.add(MountOp::tmpfs, "/dev/shm", {},
             tmpfs_options(policy.limits.tmp_bytes, policy.limits.tmp_inodes, "1777"));
}

}  // namespace

HostEntry lookup_host(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return {};
    if (S_ISLNK(st.st_mode)) {
        std::string text(PATH_MAX, '\0');
        const ssize_t n = ::readlink(path.c_str(), text.data(), text.size());
        if (n <= 0) return {};
        text.resize(static_cast<std::size_t>(n));
        return {HostEntry::Kind::symlink, text};
    }
    if (S_ISDIR(st.st_mode)) return {HostEntry::Kind::directory, {}};
    return {HostEntry::Kind::file, {}};
}

std::string synthesized_passwd(const Policy& policy) {
    const std::string uid = std::to_string(policy.inner_uid);
    const std::string home = policy.workspace_host.empty() ? "/" : policy.workspace_path;
    return "root:x:0:0:root:/:/usr/sbin/nologin\n"
           "sandbox:x:" +
           uid + ":" + uid + ":sandbox:" + home +
           ":/bin/sh\n"
           "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
}

std::vector<MountStep> build_mount_plan(const Policy& policy, const HostLookup& lookup) {
    PlanBuilder plan(lookup);
    plan.add(MountOp::tmpfs, "", {}, tmpfs_options(1 << 20, 1024, "0755"));
    for (const Bind& bind : policy.read_only_binds) plan.bind(bind);
    if (!policy.workspace_host.empty()) {
        plan.check_sandbox_path(policy.workspace_path, "workspace_path");
        if (lookup(policy.workspace_host).kind != HostEntry::Kind::directory)
            throw PolicyError("workspace '" + policy.workspace_host + "' is not a directory");
        plan.make_dirs(policy.workspace_path);
        plan.add(MountOp::bind_rw, policy.workspace_path,
                 std::string(kOldRoot) + policy.workspace_host);
        for (const std::string& path : policy.protected_paths) plan.protect(policy, path);
    } else if (!policy.protected_paths.empty()) {
        throw PolicyError("protected: paths need a workspace");
    }
    plan.make_dirs("/tmp");
    plan.add(MountOp::tmpfs, "/tmp", {},
             tmpfs_options(policy.limits.tmp_bytes, policy.limits.tmp_inodes, "1777"));
    add_dev(plan, policy);
    plan.make_dirs("/proc");
    plan.add(MountOp::proc, "/proc");
    plan.make_dirs("/etc");
    plan.add(MountOp::write_file, "/etc/passwd", {}, synthesized_passwd(policy), 0644);
    const std::string gid = std::to_string(policy.inner_uid);
    plan.add(MountOp::write_file, "/etc/group", {},
             "root:x:0:\nsandbox:x:" + gid + ":\nnogroup:x:65534:\n", 0644);
    plan.add(MountOp::write_file, "/etc/hosts", {},
             "127.0.0.1 localhost " + policy.hostname + "\n::1 localhost\n", 0644);
    plan.add(MountOp::write_file, "/etc/hostname", {}, policy.hostname + "\n", 0644);
    plan.make_dirs(policy.cwd);
    plan.add(MountOp::remount_ro, "");
    return plan.take();
}

}  // namespace gossamer::sandbox
