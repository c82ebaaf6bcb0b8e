// Starts a sandboxed process: prepares the ChildPlan from a policy, creates the pipes and the
// run's cgroups, clones into new user, pid, mount, ipc, uts (and net) namespaces, writes the
// uid/gid maps and releases the child. As root where user namespaces are denied, the same
// namespaces without the user one (the child drops to an unprivileged uid once its
// filesystem is built); in container mode no namespaces (policy.h, Mode). The child starts inside
// its cgroups (v2: clone3 with CLONE_INTO_CGROUP; v1: cloned by a pre-placed launcher,
// launch_pool.h) or, when that is not possible, is moved there before it may start the command.
// Fails closed: a required layer that is missing makes launch() throw LaunchError naming it and how
// to fix it. Parent side; call from any thread (the child dies with the thread that launched it, or
// with the pool's thread when a pooled launcher cloned it: PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/cgroups.h"
#include "sandbox/child.h"
#include "sandbox/policy.h"

namespace gossamer::sandbox {

class LaunchPool;
class EgressProxy;

struct LaunchError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct LaunchRequest {
    std::vector<std::string> argv;  // argv[0] searched along the policy's PATH
    std::string stdin_bytes;        // all of stdin, then EOF (at most the pipe's capacity)
    bool merge_stderr = false;      // the command's stderr into its stdout
    // Keep stdin open after stdin_bytes and hand its write end to the caller
    // (Launched::stdin_fd): for a long-lived interpreter driven call by call (the stateful
    // Python tool). async_run ignores it.
    bool keep_stdin_open = false;
    // Runs that get cgroup v1 cgroups take a launcher from this pool (launch_pool.h), or
    // from the process's default pool when null; false: always the slow path (clone, then
    // move into the cgroups), for comparisons and tests.
    LaunchPool* pool = nullptr;
    bool use_pool = true;
};

// A running sandbox: the init's pid and pidfd and the parent's ends of its pipes. Owns
// every descriptor; the destructor kills the sandbox if it still runs and reaps it.
struct Launched {
    pid_t pid = -1;  // the sandbox's init (or the command itself when unsandboxed)
    // Not isolated by a pid namespace (container mode, unsandboxed): the command's process
    // group, killed as a whole once the command is reaped and when this is destroyed.
    pid_t group = -1;
    int pidfd = -1;
    int stdin_fd = -1;  // only with LaunchRequest::keep_stdin_open (non-blocking, CLOEXEC)
    int stdout_fd = -1;
    int stderr_fd = -1;  // -1 when stderr is merged into stdout
    int report_fd = -1;
    bool isolated = true;
    std::unique_ptr<RunCgroups> cgroups;
    std::vector<std::string> notes;  // optional layers that are missing on this machine

    Launched() = default;
    Launched(const Launched&) = delete;
    Launched& operator=(const Launched&) = delete;
    ~Launched();

    // SIGKILL to the init: the kernel then kills every process in the pid namespace (or to
    // the process group and the cgroups, where there is no pid namespace).
    void kill_all();
    // What the command left behind once it was reaped (no pid namespace to end them).
    void kill_group();
    // Container mode: the run's private /tmp on the host, removed on destruction.
    std::string private_tmp;
    // A domain allowlist: the proxy's decisions ("allowed pypi.org:443 (...)", "denied ...").
    struct NetworkLog {
        std::mutex mutex;
        std::vector<std::string> lines;
    };
    std::shared_ptr<NetworkLog> network_log = std::make_shared<NetworkLog>();
    std::unique_ptr<EgressProxy> proxy;  // stopped first on destruction (declared last)
};

std::unique_ptr<Launched> launch(const Policy& policy, const LaunchRequest& request);

// clone3(CLONE_INTO_CGROUP): the child is born in the cgroup v2 directory `cgroup_fd`
// (`flags` as for clone: namespaces, CLONE_PIDFD, the exit signal in the low byte). Returns
// like clone (0 in the child, which shares nothing but a copy of our memory); -1 with errno.
// Exposed for tests.
long clone_into_cgroup(unsigned long flags, int cgroup_fd, int* pidfd);

// The mode a launch under `policy` takes on this machine (never `automatic`): the policy's
// own, or for `automatic` user namespaces where this process may make them, else the
// namespaces as real root when we are root, else user namespaces (which then fail with the
// reason and its fix). `root_namespace` without root throws LaunchError. Probes once.
Mode effective_mode(const Policy& policy);

// Whether this process may create a user namespace (probed once, in a child).
bool user_namespaces_work();

// The ChildPlan for a policy and request (pure apart from reading the host for the mount
// plan and the Landlock ABI); exposed for tests.
// `private_tmp`: container mode's host folder standing for /tmp.
ChildPlan build_child_plan(const Policy& policy, const LaunchRequest& request, int landlock_abi,
                           const std::string& private_tmp = "");

}  // namespace gossamer::sandbox
