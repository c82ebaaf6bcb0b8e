// Parent side of a launch (launcher.h): plan, pipes, cgroups, clone, maps, release.
#include "sandbox/launcher.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <tuple>

#include "sandbox/doctor.h"
#include "sandbox/egress_proxy.h"
#include "sandbox/landlock.h"
#include "sandbox/launch_pool.h"
#include "sandbox/netns_listener.h"
#include "sandbox/seccomp_filter.h"

namespace gossamer::sandbox {
namespace {

std::string errno_text(int err) {
    return std::string(std::strerror(err));
}

bool needs_layer(const Policy& policy, Layer layer) {
    const auto layers = required_layers(policy);
    return std::find(layers.begin(), layers.end(), layer) != layers.end();
}

// Where no namespace can be made at all, the one way left; said, never taken silently.
constexpr const char* kContainerHint =
    " Where no namespace can be made (a user inside a container), `sandbox: {mode: container}` "
    "in the spec (`--sandbox container`, `sandbox exec --mode container`) runs the tools with "
    "seccomp, Landlock and limits but no namespaces (docs/SECURITY.md says what it leaves "
    "open).";

[[noreturn]] void refuse(Layer layer, const std::string& why) {
    // For user namespaces, what is in the way on this machine and its own fix.
    const auto situations =
        layer == Layer::user_ns ? diagnose(read_host_facts()) : std::vector<Situation>{};
    const std::string hint = layer == Layer::user_ns ? kContainerHint : "";
    throw LaunchError("sandbox layer '" + std::string(layer_name(layer)) +
                      "' is required by the policy but unavailable here: " + why +
                      (situations.empty() ? ". Fix: " + std::string(layer_fix_hint(layer)) + "."
                                          : ". " + situation_text(situations)) +
                      hint +
                      " (`gossamer doctor` lists every layer; `gossamer sandbox exec "
                      "--unsandboxed` runs without isolation.)");
}

// Compiled once per network setting and mode; the rules depend on nothing else.
const std::vector<sock_filter>& seccomp_program(bool network, bool container, bool proxied) {
    static std::mutex mutex;
    static std::map<std::tuple<bool, bool, bool>, std::vector<sock_filter>> cache;
    std::lock_guard lock(mutex);
    const auto key = std::make_tuple(network, container, proxied);
    auto it = cache.find(key);
    if (it == cache.end())
        it = cache.emplace(key, compile_seccomp(seccomp_rules(network, container, proxied))).first;
    return it->second;
}

std::string env_value(const Policy& policy, const std::string& name) {
    for (const auto& [key, value] : policy.env)
        if (key == name) return value;
    return "";
}

std::vector<std::string> exec_candidates(const Policy& policy, const std::string& command) {
    if (command.find('/') != std::string::npos) return {command};
    std::vector<std::string> paths;
    std::string path_var = env_value(policy, "PATH");
    if (path_var.empty()) path_var = "/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= path_var.size()) {
        const std::size_t end = std::min(path_var.find(':', start), path_var.size());
        const std::string dir = path_var.substr(start, end - start);
        paths.push_back((dir.empty() ? "." : dir) + "/" + command);
        start = end + 1;
    }
    return paths;
}

struct Pipe {
    int read = -1, write = -1;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw LaunchError("pipe2: " + errno_text(errno));
        read = fds[0], write = fds[1];
    }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    ~Pipe() { close_both(); }
    void close_both() { close_read(), close_write(); }
    void close_read() {
        if (read >= 0) ::close(read), read = -1;
    }
    void close_write() {
        if (write >= 0) ::close(write), write = -1;
    }
    int take_read() { return std::exchange(read, -1); }
};

// stdin is written whole before the child starts, so the parent never blocks or gets SIGPIPE.
void fill_stdin(Pipe& pipe, const std::string& bytes, bool keep_open) {
    if (bytes.size() > 65536) {
        const int wanted = static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 20));
        ::fcntl(pipe.write, F_SETPIPE_SZ, wanted);
    }
    const int capacity = ::fcntl(pipe.write, F_GETPIPE_SZ);
    if (capacity < 0 || bytes.size() > static_cast<std::size_t>(capacity))
        throw LaunchError("stdin of " + std::to_string(bytes.size()) +
                          " bytes exceeds the pipe capacity (" + std::to_string(capacity) +
                          " bytes); pass large inputs through the workspace");
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(pipe.write, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw LaunchError("write(stdin pipe): " + errno_text(errno));
        done += static_cast<std::size_t>(n);
    }
    if (!keep_open) pipe.close_write();
}

void write_proc_file(pid_t pid, const char* name, const std::string& text) {
    const std::string path = "/proc/" + std::to_string(pid) + "/" + name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        const int err = errno;
        if (fd >= 0) ::close(fd);
        throw LaunchError("write " + path + " '" + text.substr(0, text.find('\n')) +
                          "': " + errno_text(err));
    }
    ::close(fd);
}

// Who the sandbox is on the host: the caller, or policy.root_host_uid when the caller is
// root (a process of host uid 0 owns every root file it can reach, and the kernel never
// applies RLIMIT_NPROC to uid 0).
struct HostIds {
    uid_t uid;
    gid_t gid;
};
HostIds host_ids(const Policy& policy) {
    if (::geteuid() != 0) return {::geteuid(), ::getegid()};
    return {policy.root_host_uid, policy.root_host_uid};
}

// Container mode has no mount namespace: the sandbox sees host paths. Its /tmp is a fresh
// folder of the host's temporary directory, given to the sandbox's uid; a path the policy
// names inside (the cwd, an environment value) under /tmp or the workspace's inside path is
// rewritten to the host folder that stands for it.
std::string make_private_tmp(HostIds host) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "gossamer-sandbox-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
        throw LaunchError("mkdtemp " + tmpl + ": " + errno_text(errno));
    if (::geteuid() == 0 && ::chown(tmpl.c_str(), host.uid, host.gid) != 0) {
        const int err = errno;
        ::rmdir(tmpl.c_str());
        throw LaunchError("chown " + tmpl + ": " + errno_text(err));
    }
    return tmpl;
}

std::string host_view(const Policy& policy, const std::string& tmp, const std::string& path) {
    const auto under = [&](const std::string& root) {
        return path == root ||
               (path.size() > root.size() && path.starts_with(root) && path[root.size()] == '/');
    };
    if (under("/tmp")) return tmp + path.substr(4);
    for (const Bind& bind : policy.read_only_binds)
        if (bind.sandbox_path != bind.host_path && under(bind.sandbox_path))
            return bind.host_path + path.substr(bind.sandbox_path.size());
    if (under(policy.workspace_path))  // with no workspace, the empty folder is the tmp
        return (policy.workspace_host.empty() ? tmp : policy.workspace_host) +
               path.substr(policy.workspace_path.size());
    return path;
}

Policy container_view(Policy policy, const std::string& tmp) {
    policy.cwd = host_view(policy, tmp, policy.cwd);
    for (auto& [name, value] : policy.env) value = host_view(policy, tmp, value);
    set_env(policy, "TMPDIR", tmp);
    return policy;
}

// The host ids appear as policy.inner_uid inside; nothing else is mapped.
void write_id_maps(pid_t pid, std::uint32_t inner, HostIds host) {
    write_proc_file(pid, "setgroups", "deny");
    write_proc_file(pid, "uid_map",
                    std::to_string(inner) + " " + std::to_string(host.uid) + " 1\n");
    write_proc_file(pid, "gid_map",
                    std::to_string(inner) + " " + std::to_string(host.gid) + " 1\n");
}

// As root the sandbox runs as another host uid: hand it the workspace directory (its top
// only; what the sandbox creates inside is its own).
void give_workspace(const Policy& policy, HostIds host) {
    if (policy.workspace_host.empty() || ::geteuid() != 0 || host.uid == 0) return;
    struct stat st {};
    if (::stat(policy.workspace_host.c_str(), &st) == 0 && st.st_uid == host.uid &&
        st.st_gid == host.gid)
        return;
    if (::chown(policy.workspace_host.c_str(), host.uid, host.gid) != 0)
        throw LaunchError("chown " + policy.workspace_host + " to " + std::to_string(host.uid) +
                          ": " + errno_text(errno));
}

// As root, the sandbox's uid may not traverse the folders above a bind source (a clone
// under a 0700 /root). So the launcher, still the caller, detaches a copy of every bind
// source with open_tree(2), and the child moves those into place (mounts.cpp): no path is
// walked by the sandbox's uid. Without open_tree (Linux < 5.2, or no CAP_SYS_ADMIN) the
// child binds by path as before. Owns the descriptors; the child has its own copies.
class DetachedTrees {
  public:
    explicit DetachedTrees(ChildPlan& plan) {
        if (!plan.isolate || ::geteuid() != 0) return;
        const std::size_t prefix = std::strlen(kOldRoot);
        for (MountStep& step : plan.mounts) {
            const bool recursive = step.op == MountOp::bind_ro || step.op == MountOp::bind_rw;
            if (!recursive && step.op != MountOp::bind_dev) continue;
            const std::string host = step.source.substr(prefix);
            int fd = static_cast<int>(
                ::syscall(SYS_open_tree, AT_FDCWD, host.c_str(),
                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0)));
            if (fd < 0) return;        // unsupported here: every bind goes by path
            if (fd < kChildFdCount) {  // place_fds() reuses 0..4 in the child
                const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, kChildFdCount);
                ::close(fd);
                if (high < 0) throw LaunchError("fcntl(F_DUPFD_CLOEXEC): " + errno_text(errno));
                fd = high;
            }
            step.source_fd = fd;
            fds_.push_back(fd);
            plan.mount_fds.push_back(fd);
        }
        std::sort(plan.mount_fds.begin(), plan.mount_fds.end());
    }
    ~DetachedTrees() {
        for (int fd : fds_) ::close(fd);
    }
    DetachedTrees(const DetachedTrees&) = delete;
    DetachedTrees& operator=(const DetachedTrees&) = delete;

  private:
    std::vector<int> fds_;
};

// One byte on the sync pipe lets the child past its next wait_for_parent(). False when the
// child is gone already: it failed its setup (say chdir into a workspace it may not enter),
// and its report, read when the caller waits, says why.
bool release(Pipe& sync) {
    const char go = 1;
    if (::write(sync.write, &go, 1) == 1) return true;
    if (errno == EPIPE) return false;
    throw LaunchError("write(sync pipe): " + errno_text(errno));
}

unsigned long clone_flags(const Policy& policy, Mode mode) {
    unsigned long flags = CLONE_PIDFD | SIGCHLD;
    if (!policy.isolation || mode == Mode::container) return flags;
    flags |= CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
    if (mode == Mode::user_namespace) flags |= CLONE_NEWUSER;
    if (!policy.network) flags |= CLONE_NEWNET;
    return flags;
}

[[noreturn]] void explain_clone_failure(const Policy& policy, Mode mode, int err) {
    if (mode == Mode::user_namespace)
        for (const NamespaceProbe& probe : probe_namespaces())
            if (!probe.ok && (probe.layer == Layer::user_ns || needs_layer(policy, probe.layer)))
                refuse(probe.layer, probe.detail);
    throw LaunchError(
        "clone(" + std::to_string(clone_flags(policy, mode)) + "): " + errno_text(err) +
        " (sandbox mode '" + std::string(mode_name(mode)) + "': " +
        (mode == Mode::root_namespace ? "namespaces made as real root" : "user namespaces") + ")." +
        kContainerHint);
}

void check_layers_before_launch(const Policy& policy, Mode mode, int abi, Launched& launched) {
    if (!policy.isolation) return;
    if (mode == Mode::container && abi < 6)  // no pid namespace: signals need Landlock's scope
        launched.notes.push_back(
            "container mode without Landlock ABI 6: the sandbox can signal the host's "
            "processes of its uid");
    if (abi == 0) {
        if (needs_layer(policy, Layer::landlock)) refuse(Layer::landlock, "landlock ABI 0");
        launched.notes.push_back(
            "landlock unavailable: the filesystem is fenced by the mount "
            "namespace only");
    }
    if (needs_layer(policy, Layer::seccomp) && ::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0)
        refuse(Layer::seccomp, "prctl(PR_GET_SECCOMP): " + errno_text(errno));
}

void check_cgroups(const Policy& policy, Launched& launched) {
    const RunCgroups& cg = *launched.cgroups;
    if (needs_layer(policy, Layer::cgroup_memory) && !cg.memory_limited())
        refuse(Layer::cgroup_memory, "no writable memory cgroup");
    if (needs_layer(policy, Layer::cgroup_pids) && !cg.pids_limited())
        refuse(Layer::cgroup_pids, "no writable pids cgroup");
    for (const auto& note : cg.notes()) launched.notes.push_back(note);
    if (!policy.cgroups && policy.isolation)
        launched.notes.push_back("cgroups disabled by the policy: limits are rlimits only");
}

// After the clone: close the child's ends here and keep ours in `launched`.
void keep_parent_ends(Launched& launched, Pipe& in, Pipe& out, Pipe* err, Pipe& report) {
    in.close_read(), out.close_write(), report.close_write();
    if (err) err->close_write();
    if (in.write >= 0) {  // keep_stdin_open
        launched.stdin_fd = std::exchange(in.write, -1);
        ::fcntl(launched.stdin_fd, F_SETFL, O_NONBLOCK);
    }
    launched.stdout_fd = out.take_read();
    launched.stderr_fd = err ? err->take_read() : -1;
    launched.report_fd = report.take_read();
}

}  // namespace

long clone_into_cgroup(unsigned long flags, int cgroup_fd, int* pidfd) {
    struct {  // struct clone_args of <linux/sched.h>, version 2 (88 bytes, Linux 5.7)
        std::uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
            set_tid, set_tid_size, cgroup;
    } args{};
    constexpr std::uint64_t kIntoCgroup = 0x200000000ULL;  // CLONE_INTO_CGROUP
    constexpr unsigned long kSignalMask = 0xff;            // CSIGNAL
    args.flags = (flags & ~kSignalMask) | kIntoCgroup;
    args.pidfd = reinterpret_cast<std::uintptr_t>(pidfd);
    args.exit_signal = flags & kSignalMask;
    args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
    return ::syscall(SYS_clone3, &args, sizeof args);
}

bool user_namespaces_work() {
    static const bool ok = probe_in_child(CLONE_NEWUSER, [] { return 0; }) == 0;
    return ok;
}

Mode effective_mode(const Policy& policy) {
    switch (policy.mode) {
        case Mode::automatic:
            if (user_namespaces_work() || ::geteuid() != 0) return Mode::user_namespace;
            return Mode::root_namespace;
        case Mode::root_namespace:
            if (::geteuid() != 0)
                throw LaunchError(
                    "sandbox mode 'root' makes the namespaces as real root: run as root, or "
                    "use mode 'auto' (user namespaces) or 'container'");
            return Mode::root_namespace;
        case Mode::user_namespace:
        case Mode::container:
            return policy.mode;
    }
    return Mode::user_namespace;
}

ChildPlan build_child_plan(const Policy& policy_in, const LaunchRequest& request, int abi,
                           const std::string& private_tmp) {
    if (request.argv.empty() || request.argv[0].empty())
        throw LaunchError("no command to run (argv is empty)");
    const Mode mode = policy_in.isolation ? effective_mode(policy_in) : Mode::container;
    Policy policy = policy_in;
    // Without a user namespace the sandbox's uid is a host uid: root_host_uid as root.
    if (mode == Mode::root_namespace) policy.inner_uid = policy.root_host_uid;
    ChildPlan plan;
    plan.isolate = policy.isolation;
    plan.mode = mode;
    if (policy.isolation && mode != Mode::user_namespace && ::geteuid() == 0)
        plan.drop_uid = policy.root_host_uid;
    plan.seccomp_required = needs_layer(policy, Layer::seccomp);
    plan.cgroup_ns = policy.isolation && mode != Mode::container;
    plan.cgroup_ns_required = needs_layer(policy, Layer::cgroup_ns);
    plan.merge_stderr = request.merge_stderr;
    if (policy.isolation && mode == Mode::container) {
        (void)build_mount_plan(policy, lookup_host);  // the same checks: binds, workspace
        plan.landlock = build_container_landlock_plan(policy, abi, private_tmp);
        plan.seccomp = seccomp_program(policy.network, true, false);
        plan.cwd = policy.cwd;
    } else if (policy.isolation) {
        plan.mounts = build_mount_plan(policy, lookup_host);
        plan.landlock = build_landlock_plan(policy, abi);
        plan.seccomp = seccomp_program(policy.network, false, proxied_network(policy));
        plan.cwd = policy.cwd;
    } else {
        plan.cwd = policy.workspace_host;
    }
    // RLIMIT_NPROC counts every process of the uid on the host: without a uid of its own
    // (container mode as a user) the sandbox would share it with this process's threads.
    const bool own_uid = mode != Mode::container || plan.drop_uid != 0;
    Limits limits = policy.limits;
    if (policy.isolation && !own_uid) limits.pids = 0;
    plan.rlimits = rlimit_plan(limits);
    plan.hostname = policy.hostname;
    plan.inner_uid = policy.inner_uid;
    plan.exec_paths = exec_candidates(policy, request.argv[0]);
    plan.argv_storage = request.argv;
    Policy with_proxy = policy;  // the allowlist's proxy, for every client that honours these
    if (proxied_network(policy) && policy.isolation)
        for (const char* name :
             {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"})
            set_env(with_proxy, name, "http://127.0.0.1:" + std::to_string(EgressProxy::kPort));
    for (const auto& [name, value] : with_proxy.env) plan.env_storage.push_back(name + "=" + value);
    finalize_pointers(plan);
    return plan;
}

Launched::~Launched() {
    if (pid > 0) {
        kill_all();
        while (::waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
        }
    }
    kill_group();
    for (int fd : {pidfd, stdin_fd, stdout_fd, stderr_fd, report_fd})
        if (fd >= 0) ::close(fd);
    if (!private_tmp.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(private_tmp, ignored);
    }
}

void Launched::kill_all() {
    if (pid <= 0) return;
    if (pidfd >= 0) ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    if (!isolated) ::kill(-pid, SIGKILL);  // its process group (it called setsid)
    if (cgroups) cgroups->kill_all();
}

void Launched::kill_group() {
    // The group outlives its leader while a member lives, and its id is not reused till then.
    if (group > 0) ::kill(-group, SIGKILL);
    if (cgroups && group > 0) cgroups->kill_all();
}

std::unique_ptr<Launched> launch(const Policy& policy, const LaunchRequest& request) {
    auto launched = std::make_unique<Launched>();
    const Mode mode = policy.isolation ? effective_mode(policy) : Mode::container;
    launched->isolated = policy.isolation && mode != Mode::container;
    const int abi = policy.isolation ? landlock_abi() : 0;
    check_layers_before_launch(policy, mode, abi, *launched);
    const bool container = policy.isolation && mode == Mode::container;
    if (container && proxied_network(policy))
        throw LaunchError(
            "a network allowlist needs a network namespace, which container mode does not "
            "have: give the tool the whole network or none, or use another sandbox mode");
    if (container) launched->private_tmp = make_private_tmp(host_ids(policy));
    LaunchRequest host_request;  // container mode: a program named by its inside path
    if (container) {
        host_request.argv = request.argv;
        host_request.argv[0] = host_view(policy, launched->private_tmp, request.argv[0]);
        host_request.merge_stderr = request.merge_stderr;
    }
    ChildPlan plan =
        build_child_plan(container ? container_view(policy, launched->private_tmp) : policy,
                         container ? host_request : request, abi, launched->private_tmp);
    const DetachedTrees trees(plan);

    Pipe in, out, report, sync;
    std::unique_ptr<Pipe> err = request.merge_stderr ? nullptr : std::make_unique<Pipe>();
    fill_stdin(in, request.stdin_bytes, request.keep_stdin_open);
    if (policy.isolation) give_workspace(policy, host_ids(policy));
    // The run's fresh cgroups: from a pooled launcher already inside them (v1), else made now.
    const bool v1_pids = needs_layer(policy, Layer::cgroup_pids);
    std::unique_ptr<PooledLauncher> pooled;
    LaunchPool* pool = nullptr;
    if (policy.cgroups && request.use_pool) {
        pool = request.pool ? request.pool : default_launch_pool();
        if (pool) pooled = pool->claim(v1_pids, policy.limits);
    }
    if (pooled) {
        launched->cgroups = pooled->take_cgroups(policy.limits);
    } else {
        launched->cgroups = std::make_unique<RunCgroups>();
        if (policy.cgroups)
            launched->cgroups->create(pool ? pool->layout() : detect_cgroups(), policy.limits,
                                      v1_pids);
    }
    check_cgroups(policy, *launched);

    // The child's stderr is our stdout pipe when merged (and dup'ed again in the child).
    const int fds[kChildFdCount] = {in.read, out.write, err ? err->write : out.write, report.write,
                                    sync.read};
    int pidfd = -1;
    long rc = -1;
    bool in_cgroups = false;  // born inside its cgroups: nothing to move
    if (pooled) {
        rc = pooled->start(plan, fds, clone_flags(policy, mode), pidfd);
        in_cgroups = rc > 0;
        pooled.reset();  // the launcher is reaped; on failure: the slow path, same cgroups
        if (rc == -EIO)
            throw LaunchError("the sandbox's launcher died while starting it; try again");
    }
    if (!in_cgroups) {
        if (const int cgroup_fd = launched->cgroups->open_v2(); cgroup_fd >= 0) {
            rc = clone_into_cgroup(clone_flags(policy, mode), cgroup_fd, &pidfd);
            if (rc == 0) child_main(plan, fds);
            ::close(cgroup_fd);
            in_cgroups = rc > 0;  // else (old kernel, seccomp'd clone3, ...) clone and move
        }
    }
    if (!in_cgroups) {
        rc = ::syscall(SYS_clone, clone_flags(policy, mode), nullptr, &pidfd, nullptr, nullptr);
        if (rc == 0) child_main(plan, fds);
        if (rc < 0) explain_clone_failure(policy, mode, errno);
    }
    launched->pid = static_cast<pid_t>(rc);
    if (!launched->isolated) launched->group = launched->pid;  // it calls setsid first
    launched->pidfd = pidfd;
    sync.close_read();
    keep_parent_ends(*launched, in, out, err.get(), report);

    if (policy.isolation && mode == Mode::user_namespace)
        write_id_maps(launched->pid, policy.inner_uid, host_ids(policy));
    if (policy.isolation && proxied_network(policy)) {  // before the command can start
        int listener = -1;
        try {
            listener = listen_in_netns(launched->pid, EgressProxy::kPort);
        } catch (const std::exception& e) {
            throw LaunchError(e.what());
        }
        auto log = launched->network_log;
        launched->proxy = std::make_unique<EgressProxy>(
            listener, EgressRules{policy.network_allow, policy.network_deny},
            [log](const EgressDecision& d) {
                std::lock_guard lock(log->mutex);
                if (log->lines.size() < 1000) log->lines.push_back(d.text());
            });
    }
    if (!release(sync)) return launched;  // maps written: the child builds its filesystem
    if (!in_cgroups && !launched->cgroups->attach(launched->pid))
        launched->notes.push_back("could not move the sandbox into its cgroups");
    release(sync);  // in the cgroups: the child may start the command
    sync.close_write();
    return launched;
}

}  // namespace gossamer::sandbox
