// Container mode (policy.h Mode::container: no namespaces at all) against the hostile cases it
// claims to hold: files fenced by Landlock, no network, the kernel's dangerous calls denied,
// no signals out, the whole process group killed, limits, a private /tmp that goes with the
// run. What it does not isolate (the process table, IPC, the hostname) is documented in
// docs/SECURITY.md and not asserted here. Real processes, real Python.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <sstream>

#include "sandbox/landlock.h"
#include "tests/sandbox/sandbox_support.h"

using namespace gossamer::test;

namespace {

sbx::Policy container_policy() {
    sbx::Policy policy = test_policy();
    policy.mode = sbx::Mode::container;
    return policy;
}

// The uid the command runs as: root_host_uid as root, else ours.
std::string expected_uid() {
    return std::to_string(::geteuid() == 0 ? sbx::default_policy().root_host_uid : ::geteuid());
}

}  // namespace

TEST_CASE("container: python runs in the workspace, /tmp is private and goes with the run") {
    SandboxTempDir workspace;
    auto policy = container_policy();
    policy.workspace_host = workspace.path.string();
    const auto r = py(R"(
import os, tempfile
open("result.txt", "w").write("kept")
t = tempfile.gettempdir()
open(os.path.join(t, "scratch"), "w").write("x")
print(os.getcwd()); print(t); print(os.getuid()); print(os.environ["HOME"])
)",
                      policy);
    REQUIRE_MESSAGE(r.exit_code == 0, describe(r));
    std::istringstream lines(r.stdout_text);
    std::string cwd, tmp, uid, home;
    std::getline(lines, cwd), std::getline(lines, tmp), std::getline(lines, uid);
    std::getline(lines, home);
    CHECK(cwd == workspace.path.string());
    CHECK(tmp.find("gossamer-sandbox-") != std::string::npos);
    CHECK(uid == expected_uid());
    CHECK(home == workspace.path.string());  // HOME=/workspace, seen at its host path
    CHECK(std::ifstream(workspace.path / "result.txt").good());
    CHECK_FALSE(fs::exists(tmp));  // removed with the run
    CHECK(r.notes.size() <= 2);
}

TEST_CASE("container: host files outside the binds are closed (cases 7, 8, 11)") {
    SandboxTempDir host_dir;  // in the host's /tmp, readable by everyone
    { std::ofstream(host_dir.path / "session.sqlite") << "transcript"; }
    fs::permissions(host_dir.path, fs::perms::all);
    const std::string planted = (host_dir.path / "planted").string();
    const auto r = py(R"(
import os
for p in ["/etc/shadow", "/etc/passwd", "/root", "/home", ")" +
                          (host_dir.path / "session.sqlite").string() + R"(", "/proc/1/environ",
          "/proc/self/status", "/sys/kernel", "/var/log", "/"]:
    try:
        if os.path.isdir(p): os.listdir(p)
        else: open(p).read(1)
        print("OPEN", p)
    except OSError as e:
        print(p, e.errno)
try:
    open(")" + planted + R"(", "w"); print("WROTE")
except OSError as e:
    print("write", e.errno)
)",
                      container_policy());
    CHECK_MESSAGE(r.exit_code == 0, describe(r));
    CHECK_MESSAGE(r.stdout_text.find("OPEN") == std::string::npos, r.stdout_text);
    CHECK(r.stdout_text.find("WROTE") == std::string::npos);
    CHECK_FALSE(fs::exists(planted));
    // what the binds give stays readable and runnable
    CHECK(sh("cat /usr/lib/os-release >/dev/null && ls /usr/bin >/dev/null", container_policy())
              .exit_code == 0);
}

TEST_CASE("container: no network, not even a unix socket (cases 1-5)") {
    for (const char* name : {"socket_inet", "socket_inet6", "socket_raw", "socket_packet",
                             "socket_netlink", "socket_unix"}) {
        CAPTURE(name);
        CHECK(probe(name, container_policy()).exit_code == 1);
    }
    auto online = container_policy();
    online.network = true;
    CHECK(probe("socket_inet", online).exit_code == 0);
}

TEST_CASE("container: the kernel's dangerous calls are denied (cases 33, 37-39, 50)") {
    for (const char* name : {"ptrace",
                             "process_vm_readv",
                             "unshare_user",
                             "unshare_mount",
                             "clone_newuser",
                             "setns",
                             "mount",
                             "umount",
                             "pivot_root",
                             "chroot",
                             "keyctl",
                             "bpf",
                             "perf_event_open",
                             "userfaultfd",
                             "io_uring_setup",
                             "init_module",
                             "open_by_handle_at",
                             "settimeofday",
                             "sethostname",
                             "tiocsti",
                             "setrlimit_raise"}) {
        CAPTURE(name);
        CHECK(probe(name, container_policy()).exit_code == 1);  // EPERM
    }
    CHECK(probe("mknod", container_policy()).exit_code == EACCES);  // Landlock's refusal
    CHECK(probe("nnp", container_policy()).exit_code == 0);         // no_new_privs is set
    CHECK(probe("capget", container_policy()).exit_code == 0);      // no capabilities
    CHECK(sh("id -u", container_policy()).stdout_text == expected_uid() + "\n");
}

TEST_CASE("container: no signal reaches outside the sandbox (case 31)") {
    if (sbx::landlock_abi() < 6) {
        MESSAGE("skipped: Landlock ABI < 6 has no signal scope (documented in SECURITY.md)");
        return;
    }
    // A host process of the sandbox's own uid: only the Landlock scope keeps it safe.
    const pid_t victim = ::fork();
    if (victim == 0) {
        if (::geteuid() == 0 && (::setgid(sbx::default_policy().root_host_uid) != 0 ||
                                 ::setuid(sbx::default_policy().root_host_uid) != 0))
            ::_exit(1);
        ::pause();
        ::_exit(0);
    }
    const auto r =
        py("import os, signal\n"
           "for pid in [" +
               std::to_string(victim) +
               ", os.getppid()]:\n"
               "    try: os.kill(pid, signal.SIGKILL); print('KILLED', pid)\n"
               "    except OSError as e: print(pid, e.errno)\n"
               "os.kill(-1, signal.SIGKILL)  # 0 even when every target refused\n",
           container_policy());
    CHECK_MESSAGE(r.stdout_text.find("KILLED") == std::string::npos, describe(r));
    CHECK(::kill(victim, 0) == 0);  // still there
    ::kill(victim, SIGKILL);
    ::waitpid(victim, nullptr, 0);
}

TEST_CASE("container: nothing the command started outlives it (cases 22, 27, 28)") {
    const auto r = py(R"(
import os, subprocess
subprocess.Popen(["sleep", "1101"])
if os.fork() == 0:
    try: os.setsid()
    except OSError as e: print("setsid", e.errno)
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "1102"])
    os._exit(0)
os.wait()
print("returning")
)",
                      container_policy());
    CHECK_MESSAGE(r.exit_code == 0, describe(r));
    CHECK(r.stdout_text.find("setsid 1") != std::string::npos);  // EPERM: the group stays whole
    CHECK(host_processes_with("sleep 1101") == 0);
    CHECK(host_processes_with("sleep 1102") == 0);

    auto policy = container_policy();
    policy.limits.wall_ms = 1000;
    const auto timed =
        sh("sleep 1103 & python3 -c 'while True: pass  # container-timeout'", policy);
    CHECK(timed.stop == sbx::StopReason::timed_out);
    CHECK(host_processes_with("sleep 1103") == 0);
    CHECK(host_processes_with("container-timeout") == 0);
}

TEST_CASE("container: memory and process limits hold (cases 19, 20)") {
    auto policy = container_policy();
    policy.limits.memory_bytes = 256ull << 20;
    const auto big = py("x = bytearray(1 << 30); print('allocated')", policy);
    CHECK(big.stdout_text.find("allocated") == std::string::npos);
    policy = container_policy();
    policy.limits.pids = 16;
    policy.limits.wall_ms = 10'000;
    const auto bomb = py(R"(
import os
n = 0
for _ in range(200):
    try:
        if os.fork() == 0:
            import time; time.sleep(5); os._exit(0)
        n += 1
    except OSError:
        break
print("forked", n)
)",
                         policy);
    // Bounded by RLIMIT_NPROC where the sandbox has a uid of its own (as root), else by the
    // pids cgroup where one is writable.
    CHECK_MESSAGE(bomb.stdout_text.rfind("forked ", 0) == 0, describe(bomb));
    if (::geteuid() == 0)
        CHECK_MESSAGE(bomb.stdout_text.find("forked 200") == std::string::npos, describe(bomb));
}

TEST_CASE("container: a bad policy is refused as in the other modes") {
    auto policy = container_policy();
    policy.read_only_binds.push_back({"/no/such/dir", "/no/such/dir", false});
    const auto r = run_argv({"true"}, policy);
    CHECK(r.stop == sbx::StopReason::refused);
    CHECK(r.report.find("'/no/such/dir' does not exist") != std::string::npos);
}
