// Hostile cases against the filesystem view (agents-sandbox.md section 1.11, cases 5, 7-11,
// 15-18, 45): real Python in the real sandbox; each case checks containment, a clear
// result, and that the next call works.
#include <doctest/doctest.h>

#include <fstream>

#include "tests/sandbox/sandbox_support.h"

using namespace gossamer::test;

TEST_CASE("sandbox: host secrets are not there (case 7)") {
    REQUIRE_SANDBOX();
    const auto r = py(R"(
import os
for p in ["/etc/shadow", "/etc/gshadow", "/root", "/home", "/root/.ssh", "/var", "/run",
          "/etc/ssh", "/etc/sudoers", "/sys", "/boot", "/mnt", "/opt", "/srv"]:
    print(p, os.path.exists(p))
)");
    CHECK_MESSAGE(r.exit_code == 0, describe(r));
    CHECK(r.stdout_text.find("True") == std::string::npos);
    check_next_call_works();
}

TEST_CASE("sandbox: the host's /tmp and the runtime's files are invisible (cases 8, 11)") {
    REQUIRE_SANDBOX();
    SandboxTempDir host_dir;  // lives in the host's /tmp
    { std::ofstream(host_dir.path / "session.sqlite") << "transcript"; }
    const auto r = py("import os; print(os.listdir('/tmp')); print(os.path.exists('" +
                      host_dir.path.string() + "'))");
    CHECK_MESSAGE(r.stdout_text == "[]\nFalse\n", describe(r));
    const auto write = sh("echo x > " + (host_dir.path / "planted").string());
    CHECK(write.exit_code != 0);
    CHECK(!fs::exists(host_dir.path / "planted"));
}

TEST_CASE("sandbox: no host sockets (case 5)") {
    REQUIRE_SANDBOX();
    const auto r = py(R"(
import socket, os
for p in ["/var/run/docker.sock", "/run/dbus/system_bus_socket", "/tmp/.X11-unix/X0"]:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(p); print("CONNECTED", p)
    except OSError as e:
        print(p, e.errno)
print(os.environ.get("SSH_AUTH_SOCK"))
)");
    CHECK_MESSAGE(r.exit_code == 0, describe(r));
    CHECK(r.stdout_text.find("CONNECTED") == std::string::npos);
    CHECK(r.stdout_text.find("None") != std::string::npos);
}

TEST_CASE("sandbox: /proc shows only the sandbox's processes (cases 9, 10, 34)") {
    REQUIRE_SANDBOX();
    const auto r = py(R"(
import os
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print(pids[:2], len(pids) <= 3)
try:
    open("/proc/1/environ").read(); print("READ init environ")
except OSError as e:
    print("environ", e.errno)
try:
    os.listdir("/proc/1/root"); print("READ init root")
except OSError as e:
    print("root", e.errno)
print(open("/proc/self/cgroup").read().strip())
)");
    CHECK_MESSAGE(r.exit_code == 0, describe(r));
    CHECK(r.stdout_text.find("[1, 2] True") != std::string::npos);
    CHECK(r.stdout_text.find("READ") == std::string::npos);
    CHECK(r.stdout_text.find("0::/\n") != std::string::npos);  // own cgroup namespace
    const auto mem = sh("echo x > /proc/1/mem");
    CHECK(mem.exit_code != 0);
}

TEST_CASE("sandbox: /dev holds only null, zero, full, random, urandom (case 16)") {
    REQUIRE_SANDBOX();
    const auto r = sh("ls /dev | tr '\\n' ' '");
    CHECK(r.stdout_text == "fd full null random shm stderr stdin stdout urandom zero ");
    const auto m = probe("mknod");
    CHECK_MESSAGE(m.exit_code != 0, describe(m));
    const auto kmsg = py("open('/dev/kmsg')");
    CHECK(kmsg.exit_code != 0);
    check_next_call_works();
}

TEST_CASE("sandbox: hard links out of the workspace fail (case 15)") {
    REQUIRE_SANDBOX();
    SandboxTempDir workspace;
    auto policy = test_policy();
    policy.workspace_host = workspace.path.string();
    const auto r = py(R"(
import os
for src in ["/usr/bin/python3", "/etc/passwd", "/tmp"]:
    try:
        os.link(src, "/workspace/link"); print("LINKED", src)
    except OSError as e:
        print(src, e.errno)
)",
                      policy);
    CHECK_MESSAGE(r.exit_code == 0, describe(r));
    CHECK(r.stdout_text.find("LINKED") == std::string::npos);
}

TEST_CASE("sandbox: disk and inode exhaustion in /tmp are capped (cases 17, 18)") {
    REQUIRE_SANDBOX();
    auto policy = test_policy();
    policy.limits.tmp_bytes = 8 << 20;
    policy.limits.tmp_inodes = 512;
    const auto fill = py(R"(
n = 0
try:
    with open("/tmp/big", "wb") as f:
        while True:
            f.write(b"x" * 65536); n += 65536
except OSError as e:
    print("stopped", e.errno, n <= 8 << 20)
)",
                         policy);
    CHECK_MESSAGE(fill.stdout_text == "stopped 28 True\n", describe(fill));  // ENOSPC
    const auto inodes = py(R"(
n = 0
try:
    while True:
        open(f"/tmp/f{n}", "w").close(); n += 1
except OSError as e:
    print("stopped", e.errno, n < 600)
)",
                           policy);
    CHECK_MESSAGE(inodes.stdout_text == "stopped 28 True\n", describe(inodes));
    check_next_call_works(policy);
}

TEST_CASE("sandbox: RLIMIT_FSIZE caps a single file in the workspace (case 17)") {
    REQUIRE_SANDBOX();
    SandboxTempDir workspace;
    auto policy = test_policy();
    policy.workspace_host = workspace.path.string();
    policy.limits.file_bytes = 1 << 20;
    const auto r = py(R"(
try:
    with open("/workspace/big", "wb") as f:
        f.write(b"x" * (2 << 20))
except OSError as e:
    print("stopped", e.errno)
)",
                      policy);
    CHECK_MESSAGE(r.stdout_text == "stopped 27\n", describe(r));  // EFBIG (python ignores SIGXFSZ)
    CHECK(fs::file_size(workspace.path / "big") <= (1u << 20));
}

TEST_CASE("sandbox: the command's own binary cannot be overwritten (case 45)") {
    REQUIRE_SANDBOX();
    const auto r = py(R"(
import os
try:
    open("/proc/self/exe", "wb"); print("OPENED")
except OSError as e:
    print(e.errno)
)");
    CHECK(r.stdout_text.find("OPENED") == std::string::npos);
}

TEST_CASE("sandbox: symlinks in the workspace do not lead out (case 13, sandbox side)") {
    REQUIRE_SANDBOX();
    SandboxTempDir workspace;
    auto policy = test_policy();
    policy.workspace_host = workspace.path.string();
    const auto r = py(R"(
import os
os.symlink("/etc/shadow", "/workspace/shadow")
os.symlink("/root", "/workspace/root")
for p in ["/workspace/shadow", "/workspace/root"]:
    print(p, os.path.exists(p))
)",
                      policy);
    CHECK_MESSAGE(r.stdout_text == "/workspace/shadow False\n/workspace/root False\n", describe(r));
}

TEST_CASE("sandbox: kernel symbols are hidden and /sys is absent (case 10)") {
    REQUIRE_SANDBOX();
    const auto r = py(R"(
import os
line = open("/proc/kallsyms").readline().split()
print(line[0] == "0" * 16, os.path.exists("/sys"))
)");
    CHECK_MESSAGE(r.stdout_text == "True False\n", describe(r));
}

TEST_CASE("sandbox: one run's /tmp is gone in the next run (case 49, per run)") {
    REQUIRE_SANDBOX();
    const auto first = sh("echo secret > /tmp/left-behind && ls /tmp");
    CHECK(first.stdout_text == "left-behind\n");
    const auto second = sh("ls -A /tmp /dev/shm");
    CHECK_MESSAGE(second.stdout_text == "/dev/shm:\n\n/tmp:\n", describe(second));
}
