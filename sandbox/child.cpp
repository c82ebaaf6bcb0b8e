// The sandbox's init and the command's process (child.h). The order of containment steps:
//   1. descriptors: only stdin, stdout, stderr, the report and sync pipes survive;
//   2. die with the parent (PR_SET_PDEATHSIG) and wait until it wrote our uid/gid maps
//      (user namespaces; made as real root there are none to write);
//   3. new session, hostname;
//   4. filesystem: staging, mount plan, pivot into the new root, meanwhile the parent puts
//      us in the run's cgroups (a slow move); wait for that, then the cgroup namespace;
//   5. rlimits; as real root the drop to root_host_uid; PR_SET_NO_NEW_PRIVS, drop every
//      capability and make ourselves undumpable;
//   6. Landlock, then seccomp (last: the filter also forbids mount and unshare);
//   7. start the command (new session, stderr merge, cwd, exec along PATH) and reap.
// Container mode skips 3-4 and the init: new session, 5-6, then the command is this process.
// After clone only raw syscalls: no allocation, no locks, no stdio, no libc wrapper that
// talks to other threads (setresuid and friends do; the copy has no other threads).
#include "sandbox/child.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "sandbox/mounts.h"
#include "sandbox/seccomp_filter.h"

namespace gossamer::sandbox {
namespace {

void send(const ChildReport& report) {
    while (::write(kChildReportFd, &report, sizeof report) < 0 && errno == EINTR) {
    }
}

[[noreturn]] void die(const ChildReport& report) {
    send(report);
    ::_exit(126);
}

[[noreturn]] void die_errno(const char* what, const char* path) {
    die(make_report(ReportKind::setup_failed, 0, errno, what, path));
}

// Moves the five descriptors to 0..4 and closes every other one.
// Closes every descriptor from `from` up, except those in `keep` (ascending).
void close_all_but(int from, const std::vector<int>& keep) {
    for (int fd : keep) {
        if (fd > from &&
            ::close_range(static_cast<unsigned>(from), static_cast<unsigned>(fd - 1), 0) != 0)
            for (int f = from; f < fd; ++f) ::close(f);
        from = fd + 1;
    }
    if (::close_range(static_cast<unsigned>(from), ~0u, 0) != 0)
        for (int fd = from; fd < 65536; ++fd) ::close(fd);
}

void place_fds(const int (&fds)[kChildFdCount], const std::vector<int>& keep) {
    int lifted[kChildFdCount];
    for (int k = 0; k < kChildFdCount; ++k) {
        lifted[k] = ::fcntl(fds[k], F_DUPFD, kChildFdCount);
        if (lifted[k] < 0) ::_exit(126);  // no report fd yet
    }
    for (int k = 0; k < kChildFdCount; ++k)
        if (::dup2(lifted[k], k) < 0) ::_exit(126);
    close_all_but(kChildFdCount, keep);
    ::fcntl(kChildReportFd, F_SETFD, FD_CLOEXEC);
    ::fcntl(kChildSyncFd, F_SETFD, FD_CLOEXEC);
}

// Signal dispositions and the mask survive execve; start the command from defaults.
void reset_signals() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

void wait_for_parent() {
    char byte = 0;
    ssize_t n;
    while ((n = ::read(kChildSyncFd, &byte, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) ::_exit(126);  // the parent gave up (or died) before releasing us
}

// The clone kept our host ids; once the maps exist, take the one mapped id (a no-op when
// the caller's own ids are the mapped ones). Capabilities in the namespace stay: our old
// uid is not the namespace's root, so no setuid fixup clears them. Raw syscalls: libc's
// wrappers would try to change the ids of the parent's other threads too, which do not
// exist in this copy, and wait for them forever.
void become_inner_user(std::uint32_t inner) {
    if (::syscall(SYS_setresgid, inner, inner, inner) != 0) die_errno("setresgid", "inner gid");
    if (::syscall(SYS_setresuid, inner, inner, inner) != 0) die_errno("setresuid", "inner uid");
}

// Namespaces made as real root (Mode::root_namespace) or container mode as root: take an
// unprivileged host uid and gid with no supplementary groups. The bounding set goes first
// (dropping it needs CAP_SETPCAP, which the uid change then clears with every other one).
void drop_to_uid(std::uint32_t uid) {
    if (::syscall(SYS_setgroups, 0, nullptr) != 0) die_errno("setgroups", "none");
    for (int cap = 0; cap <= 63; ++cap) ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (::syscall(SYS_setresgid, uid, uid, uid) != 0) die_errno("setresgid", "root_host_uid");
    if (::syscall(SYS_setresuid, uid, uid, uid) != 0) die_errno("setresuid", "root_host_uid");
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // a uid change clears it
}

void drop_capabilities() {
    for (int cap = 0; cap <= 63; ++cap) ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capset, &header, data) != 0) die_errno("capset", "all capabilities 0");
}

// Limits, identity and filters, the same in every mode: rlimits, the uid drop where we are
// real root, no_new_privs, no capabilities, undumpable, Landlock, seccomp last.
void restrict_self(const ChildPlan& plan) {
    ChildReport error;
    if (!apply_rlimits(plan.rlimits, error)) die(error);
    if (plan.drop_uid != 0) drop_to_uid(plan.drop_uid);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die_errno("prctl", "PR_SET_NO_NEW_PRIVS");
    drop_capabilities();
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (!apply_landlock(plan.landlock, error)) die(error);
    if (!plan.seccomp.empty()) {
        const int err = install_seccomp(plan.seccomp);
        if (err != 0 && plan.seccomp_required) {
            errno = err;
            die_errno("prctl(PR_SET_SECCOMP)", "");
        }
    }
}

void contain(const ChildPlan& plan) {
    ChildReport error;
    if (::setsid() < 0) die_errno("setsid", "");
    if (::sethostname(plan.hostname.data(), plan.hostname.size()) != 0)
        die_errno("sethostname", plan.hostname.c_str());
    // the filesystem is built while the parent moves us into the run's cgroups (slow)
    if (!enter_staging(error) || !run_mount_plan(plan.mounts, error) || !enter_new_root(error))
        die(error);
    wait_for_parent();  // second byte: we are in the run's cgroups
    ::close(kChildSyncFd);
    if (plan.cgroup_ns && ::unshare(CLONE_NEWCGROUP) != 0 && plan.cgroup_ns_required)
        die_errno("unshare", "CLONE_NEWCGROUP");
    restrict_self(plan);
}

[[noreturn]] void exec_command(const ChildPlan& plan) {
    // Container mode: already the leader of the group that is killed as a whole, and
    // seccomp now denies setsid.
    if (plan.mode != Mode::container && ::setsid() < 0 && plan.isolate) die_errno("setsid", "");
    if (plan.merge_stderr && ::dup2(1, 2) < 0) die_errno("dup2", "stderr");
    if (!plan.cwd.empty() && ::chdir(plan.cwd.c_str()) != 0) die_errno("chdir", plan.cwd.c_str());
    int err = ENOENT;
    for (const std::string& path : plan.exec_paths) {
        ::execve(path.c_str(), plan.argv.data(), plan.envp.data());
        if (errno != ENOENT && errno != ENOTDIR) err = errno;
        if (err == ENOENT) err = errno;
    }
    send(make_report(ReportKind::exec_failed, 0, err, "execve", plan.argv_storage[0].c_str()));
    ::_exit(127);
}

pid_t raw_fork() {
    return static_cast<pid_t>(::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
}

// pid 1: start the command, reap everything, and when the command exits kill the rest.
[[noreturn]] void init_loop(const ChildPlan& plan) {
    const pid_t command = raw_fork();
    if (command < 0) die_errno("clone", "the command's process");
    if (command == 0) exec_command(plan);
    for (int fd = 0; fd <= 2; ++fd) ::close(fd);  // only the command holds the pipes
    int command_status = 0;
    bool command_done = false;
    for (;;) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, __WALL);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break;  // ECHILD: nobody left
        }
        if (pid == command && !command_done) {
            command_done = true;
            command_status = status;
            ::kill(-1, SIGKILL);  // background processes, daemons: nothing survives the call
        }
    }
    ChildReport done = make_report(ReportKind::exited, command_status, 0, "exit", "");
    rusage usage{};
    if (::getrusage(RUSAGE_CHILDREN, &usage) == 0)
        done.cpu_us = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1'000'000 +
                      usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
    send(done);  // the parent may deliver the result now: nothing but this init is left
    ::_exit(0);
}

}  // namespace

void finalize_pointers(ChildPlan& plan) {
    plan.argv.clear();
    for (auto& arg : plan.argv_storage) plan.argv.push_back(arg.data());
    plan.argv.push_back(nullptr);
    plan.envp.clear();
    for (auto& var : plan.env_storage) plan.envp.push_back(var.data());
    plan.envp.push_back(nullptr);
}

void child_main(const ChildPlan& plan, const int (&fds)[kChildFdCount]) noexcept {
    place_fds(fds, plan.mount_fds);
    reset_signals();
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    wait_for_parent();  // first byte: our uid/gid maps are written
    if (!plan.isolate) {
        wait_for_parent();  // second byte: we are in the run's cgroups
        ::close(kChildSyncFd);
        ChildReport error;
        if (!apply_rlimits(plan.rlimits, error)) die(error);
        ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        exec_command(plan);
    }
    if (plan.mode == Mode::container) {  // no namespaces: the command runs as this process
        if (::setsid() < 0) die_errno("setsid", "");
        wait_for_parent();  // second byte: we are in the run's cgroups
        ::close(kChildSyncFd);
        restrict_self(plan);
        exec_command(plan);
    }
    if (plan.mode == Mode::user_namespace) {
        become_inner_user(plan.inner_uid);
        // A change of our host uid (as root: to root_host_uid) clears the parent-death signal.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    }
    contain(plan);
    init_loop(plan);
}

}  // namespace gossamer::sandbox
