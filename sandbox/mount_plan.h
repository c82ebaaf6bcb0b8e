// The filesystem the sandbox sees, as an ordered list of mount steps computed from a Policy.
// Pure: it only looks at the host through the `HostLookup` it is given (tests pass a fake),
// never mounts anything. mounts.h executes a plan inside the child. Paths in a plan are in the
// staging view: host paths under kOldRoot, the new root under kNewRoot (see mounts.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sandbox/policy.h"

namespace gossamer::sandbox {

inline constexpr const char* kOldRoot = "/oldroot";  // the host's root during setup
inline constexpr const char* kNewRoot = "/newroot";  // the sandbox's root during setup

enum class MountOp {
    tmpfs,       // mount a tmpfs at target with options `data` (size=, nr_inodes=, mode=)
    mkdir,       // mkdir target (mode)
    touch,       // create an empty file at target (a mount point for a file bind)
    symlink,     // symlink target -> source (the link text)
    bind_ro,     // bind source at target, recursively read-only, nosuid, nodev
    bind_rw,     // bind source at target, writable, nosuid, nodev
    bind_dev,    // bind one device node at target: read-only mount (the device stays
                 // writable, its inode cannot be chmod'ed), nosuid, noexec
    proc,        // a fresh procfs at target (must run inside the new pid namespace)
    write_file,  // create target holding `data`, mode
    remount_ro,  // make the mount at target read-only (the root tmpfs, once filled)
    protect,     // bind `data` (a path relative to the workspace mount at `source`) read-only
                 // over itself, resolved beneath it with no symlinks; missing: skipped
};

struct MountStep {
    MountOp op;
    std::string target;
    std::string source;
    std::string data;
    std::uint32_t mode = 0;
    // Binds only: a detached copy of the source made by the launcher with open_tree(2) while
    // it could still reach it (as root, folders such as a 0700 /root are closed to the
    // sandbox's uid); the child moves it into place instead of binding `source` by path.
    // -1: bind by path. Not part of the plan's identity (tests compare plans without it).
    int source_fd = -1;

    bool operator==(const MountStep& o) const {
        return op == o.op && target == o.target && source == o.source && data == o.data &&
               mode == o.mode;
    }
};

// What a host path is, for planning.
struct HostEntry {
    enum class Kind { missing, directory, file, symlink } kind = Kind::missing;
    std::string link_text;  // for symlinks: what the link says (not resolved)
};
using HostLookup = std::function<HostEntry(const std::string& path)>;

// lstat() on the real host.
HostEntry lookup_host(const std::string& path);

// Throws PolicyError when a required bind source is missing or a sandbox path is unusable.
std::vector<MountStep> build_mount_plan(const Policy& policy, const HostLookup& lookup);

// The synthesized /etc/passwd (root, the sandbox user with HOME at the workspace, nobody).
std::string synthesized_passwd(const Policy& policy);

}  // namespace gossamer::sandbox
