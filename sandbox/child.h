// What runs inside the sandbox before the command: the sandbox's init (pid 1 of the new pid
// namespace) sets up the filesystem, limits and filters in a fixed order, starts the command
// as its only child, reaps every process, and when the command exits kills all that is left
// and reports the command's wait status. Everything the child needs is prepared by the
// parent in a ChildPlan; after clone nothing here allocates or takes a lock.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/landlock.h"
#include "sandbox/mount_plan.h"
#include "sandbox/policy.h"
#include "sandbox/rlimits.h"

namespace gossamer::sandbox {

// Descriptor numbers inside the child once place_fds has run.
inline constexpr int kChildReportFd = 3;  // write end of the report pipe (CLOEXEC)
inline constexpr int kChildSyncFd = 4;    // read end of the "maps written" pipe
inline constexpr int kChildFdCount = 5;   // 0, 1, 2, report, sync; everything else is closed

struct ChildPlan {
    bool isolate = true;  // false: `--unsandboxed`, only limits and the environment
    // How the sandbox is built (effective_mode: never automatic). user_namespace: become
    // inner_uid in the new user namespace first; root_namespace: build everything as real
    // root, then drop to drop_uid; container: no namespaces, the command runs directly in
    // its own process group (setsid/setpgid then denied by seccomp).
    Mode mode = Mode::user_namespace;
    std::uint32_t drop_uid = 0;  // root_namespace, container as root: the host uid/gid to take
    bool seccomp_required = true;
    bool cgroup_ns = true;  // unshare a cgroup namespace after being attached
    bool cgroup_ns_required = false;
    bool merge_stderr = false;  // the command's stderr goes to its stdout pipe
    std::vector<MountStep> mounts;
    std::vector<int> mount_fds;  // the mounts' source_fds, ascending, all >= kChildFdCount
    LandlockPlan landlock;
    std::vector<sock_filter> seccomp;  // empty: no filter
    std::vector<RlimitStep> rlimits;
    std::uint32_t inner_uid = 1000;  // the only mapped uid and gid inside
    std::string hostname;
    std::string cwd;
    std::vector<std::string> exec_paths;  // candidates for argv[0], in PATH order
    std::vector<std::string> argv_storage;
    std::vector<std::string> env_storage;  // "NAME=value"
    std::vector<char*> argv;               // into argv_storage, null-terminated
    std::vector<char*> envp;               // into env_storage, null-terminated
};

// Fills argv/envp from the storage vectors (call after the last change to them).
void finalize_pointers(ChildPlan& plan);

// The child's entry after clone: `fds` are its stdin, stdout, stderr, report and sync
// descriptors in the parent's numbering. Never returns.
[[noreturn]] void child_main(const ChildPlan& plan, const int (&fds)[kChildFdCount]) noexcept;

}  // namespace gossamer::sandbox
