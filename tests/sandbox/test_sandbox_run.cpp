// The sandbox running real processes: output, exit codes, signals, stdin, the environment,
// the workspace, the asynchronous API, fail-closed refusals and --unsandboxed.
#include <doctest/doctest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <csignal>
#include <fstream>
#include <thread>

#include "tests/sandbox/sandbox_support.h"

using namespace gossamer::test;

TEST_CASE("sandbox: echo hello") {
    REQUIRE_SANDBOX();
    const auto r = run_argv({"echo", "hello"});
    CHECK_MESSAGE(r.stop == sbx::StopReason::exited, describe(r));
    CHECK(r.exit_code == 0);
    CHECK(r.stdout_text == "hello\n");
    CHECK(r.stderr_text.empty());
    CHECK(r.report == "exited with code 0");
    CHECK(r.wall_ms > 0);
}

TEST_CASE("sandbox: exit code and signal are reported") {
    REQUIRE_SANDBOX();
    const auto exited = sh("echo out; echo err >&2; exit 7");
    CHECK(exited.stop == sbx::StopReason::exited);
    CHECK(exited.exit_code == 7);
    CHECK(exited.stdout_text == "out\n");
    CHECK(exited.stderr_text == "err\n");
    CHECK(exited.shell_status() == 7);

    const auto killed = sh("kill -SEGV $$");
    CHECK_MESSAGE(killed.stop == sbx::StopReason::signaled, describe(killed));
    CHECK(killed.term_signal == SIGSEGV);
    CHECK(killed.report == "killed by SIGSEGV");
    CHECK(killed.shell_status() == 128 + SIGSEGV);
}

TEST_CASE("sandbox: stdin is passed and then closed") {
    REQUIRE_SANDBOX();
    const auto r = run_argv({"python3", "-c", "import sys; print(sys.stdin.read()[::-1])"},
                            test_policy(), "stressed");
    CHECK_MESSAGE(r.exit_code == 0, describe(r));
    CHECK(r.stdout_text == "desserts\n");
    // with no input the command sees EOF at once (input() fails instead of blocking)
    const auto eof = py("input()");
    CHECK(eof.exit_code == 1);
    CHECK(eof.stderr_text.find("EOFError") != std::string::npos);
}

TEST_CASE("sandbox: merged stderr goes to stdout in order") {
    REQUIRE_SANDBOX();
    const auto r = sbx::run(
        test_policy(), sbx::LaunchRequest{{"sh", "-c", "echo 1; echo 2 >&2; echo 3"}, "", true});
    CHECK(r.stdout_text == "1\n2\n3\n");
    CHECK(r.stderr_text.empty());
}

TEST_CASE("sandbox: environment is the allowlist only (case 46)") {
    REQUIRE_SANDBOX();
    ::setenv("GOSSAMER_TEST_SECRET_API_KEY", "sk-hunter2", 1);
    const auto r = run_argv({"env"});
    ::unsetenv("GOSSAMER_TEST_SECRET_API_KEY");
    CHECK(r.exit_code == 0);
    CHECK(r.stdout_text.find("sk-hunter2") == std::string::npos);
    CHECK(r.stdout_text.find("SECRET") == std::string::npos);
    CHECK(r.stdout_text.find("PATH=/usr/local/bin:/usr/bin:/bin") != std::string::npos);
    CHECK(r.stdout_text.find("HOME=/workspace") != std::string::npos);
    check_next_call_works();
}

TEST_CASE("sandbox: runs as an unprivileged user with no capabilities (cases 35, 36)") {
    REQUIRE_SANDBOX();
    const auto id = run_argv({"id", "-u"});
    CHECK(id.stdout_text == std::to_string(gossamer::test::sandbox_uid()) + "\n");
    CHECK(probe("capget").exit_code == 0);
    CHECK(probe("nnp").exit_code == 0);
    const auto status =
        sh("grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status");
    CHECK(status.stdout_text.find("CapEff:\t0000000000000000") != std::string::npos);
    CHECK(status.stdout_text.find("CapBnd:\t0000000000000000") != std::string::npos);
    CHECK(status.stdout_text.find("NoNewPrivs:\t1") != std::string::npos);
    CHECK(status.stdout_text.find("Seccomp:\t2") != std::string::npos);
}

TEST_CASE("sandbox: workspace is writable and persists on the host") {
    REQUIRE_SANDBOX();
    SandboxTempDir workspace;
    auto policy = test_policy();
    policy.workspace_host = workspace.path.string();
    const auto write = sh("pwd; echo data > result.txt; mkdir -p sub && echo x > sub/y", policy);
    CHECK_MESSAGE(write.exit_code == 0, describe(write));
    CHECK(write.stdout_text == "/workspace\n");
    std::ifstream in(workspace.path / "result.txt");
    std::string line;
    std::getline(in, line);
    CHECK(line == "data");
    CHECK(fs::exists(workspace.path / "sub" / "y"));
    const auto again = sh("cat /workspace/result.txt", policy);
    CHECK(again.stdout_text == "data\n");
}

TEST_CASE("sandbox: everything but the workspace, /tmp and /dev/shm is read-only (case 11)") {
    REQUIRE_SANDBOX();
    for (const char* path : {"/usr/x", "/x", "/etc/passwd", "/bin/x", "/probe/x", "/proc/x"}) {
        const auto r = sh(std::string("echo x > ") + path);
        CHECK_MESSAGE(r.exit_code != 0, path, " was writable: ", describe(r));
    }
    const auto tmp = sh("echo x > /tmp/a && cat /tmp/a && echo y > /dev/shm/b && cat /dev/shm/b");
    CHECK_MESSAGE(tmp.stdout_text == "x\ny\n", describe(tmp));
    const auto null = sh("echo x > /dev/null && head -c 4 /dev/zero | wc -c");
    CHECK(null.stdout_text == "4\n");
    const auto chmod = sh("chmod 000 /dev/null");
    CHECK(chmod.exit_code != 0);
    check_next_call_works();
}

TEST_CASE("sandbox: command not found is an exec failure") {
    REQUIRE_SANDBOX();
    const auto r = run_argv({"no-such-command-xyz"});
    CHECK(r.stop == sbx::StopReason::exec_failed);
    CHECK(r.shell_status() == 127);
    CHECK(r.report == "cannot execute 'no-such-command-xyz': No such file or directory");
}

TEST_CASE("sandbox: async_run completes several runs on one io_context") {
    REQUIRE_SANDBOX();
    boost::asio::io_context io;
    std::vector<sbx::SandboxResult> results(3);
    for (int i = 0; i < 3; ++i)
        sbx::async_run(io, test_policy(),
                       sbx::LaunchRequest{{"sh", "-c", "echo " + std::to_string(i)}, "", false},
                       [&results, i](sbx::SandboxResult r) { results[i] = std::move(r); });
    io.run();
    for (int i = 0; i < 3; ++i) CHECK(results[i].stdout_text == std::to_string(i) + "\n");
}

TEST_CASE("sandbox: a missing required bind is refused before anything runs") {
    REQUIRE_SANDBOX();
    auto policy = test_policy();
    policy.read_only_binds.push_back({"/no/such/dir", "/opt/x", false});
    const auto r = run_argv({"true"}, policy);
    CHECK(r.stop == sbx::StopReason::refused);
    CHECK(r.report.find("'/no/such/dir' does not exist") != std::string::npos);
    CHECK(r.shell_status() == 125);
}

TEST_CASE("sandbox: --unsandboxed runs on the host with the allowlisted environment") {
    auto policy = test_policy();
    policy.isolation = false;
    ::setenv("GOSSAMER_TEST_SECRET_API_KEY", "sk-hunter2", 1);
    const auto r =
        sh("echo $GOSSAMER_TEST_SECRET_API_KEY; test -e /etc/shadow && echo host", policy);
    ::unsetenv("GOSSAMER_TEST_SECRET_API_KEY");
    CHECK_MESSAGE(r.exit_code == 0, describe(r));
    CHECK(r.stdout_text == "\nhost\n");
}

TEST_CASE("sandbox: an interpreter can be driven through a kept-open stdin") {
    REQUIRE_SANDBOX();
    sbx::LaunchRequest request{
        {"python3", "-u", "-c", "import sys\nfor line in sys.stdin: print(int(line) * 2)"},
        "1\n",
        true};
    request.keep_stdin_open = true;
    auto launched = sbx::launch(test_policy(), request);
    REQUIRE(launched->stdin_fd >= 0);
    auto read_line = [&] {
        std::string line;
        char c = 0;
        while (::read(launched->stdout_fd, &c, 1) == 1 && c != '\n') line += c;
        return line;
    };
    CHECK(read_line() == "2");
    REQUIRE(::write(launched->stdin_fd, "21\n", 3) == 3);
    CHECK(read_line() == "42");
    ::close(std::exchange(launched->stdin_fd, -1));
    CHECK(read_line().empty());  // EOF: the interpreter ended with its input
    launched.reset();            // kills (nothing left) and reaps
    check_next_call_works();
}

TEST_CASE("sandbox: launches from a busy multithreaded parent do not deadlock") {
    REQUIRE_SANDBOX();
    std::atomic<bool> stop{false};
    std::vector<std::thread> busy;
    for (int t = 0; t < 3; ++t)
        busy.emplace_back([&stop] {
            while (!stop) {  // malloc and libc locks held at random moments of the clone
                std::vector<std::string> junk(64, std::string(256, 'x'));
                std::this_thread::yield();
            }
        });
    auto policy = test_policy();
    policy.limits.wall_ms = 5000;
    int ok = 0;
    for (int i = 0; i < 20; ++i) ok += run_argv({"true"}, policy).stop == sbx::StopReason::exited;
    stop = true;
    for (auto& t : busy) t.join();
    CHECK(ok == 20);
}
