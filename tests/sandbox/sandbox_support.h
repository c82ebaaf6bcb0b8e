// Shared helpers for the sandbox tests: a temporary directory, the test policy (the default
// policy plus the probe binary read-only at /probe), one-line runners for sh, python3 and
// the probe, the "next call still works" check, and a scan of the host's process table for
// survivors. Integration tests skip with a MESSAGE only when user namespaces are missing.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sandbox/doctor.h"
#include "sandbox/sandbox.h"

namespace gossamer::test {

namespace fs = std::filesystem;
namespace sbx = gossamer::sandbox;

struct SandboxTempDir {
    fs::path path;
    SandboxTempDir() {
        static std::atomic<int> counter{0};
        path = fs::temp_directory_path() /
               ("gossamer_sandbox_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~SandboxTempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    SandboxTempDir(const SandboxTempDir&) = delete;
    SandboxTempDir& operator=(const SandboxTempDir&) = delete;
};

// The sandbox mode the suite runs under: GOSSAMER_TEST_SANDBOX_MODE (auto, userns, root,
// container; ctest runs the hostile suite once per mode), auto when unset.
inline sbx::Mode test_mode() {
    static const sbx::Mode mode = [] {
        const char* name = std::getenv("GOSSAMER_TEST_SANDBOX_MODE");
        const auto parsed = sbx::mode_from_name(name ? name : "auto");
        REQUIRE_MESSAGE(parsed.has_value(), "GOSSAMER_TEST_SANDBOX_MODE=" << name);
        return *parsed;
    }();
    return mode;
}

// The mode a launch takes here (never automatic).
inline sbx::Mode effective_test_mode() {
    sbx::Policy policy;
    policy.mode = test_mode();
    return sbx::effective_mode(policy);
}

// Whether this machine can build a sandbox in the suite's mode: user namespaces for userns
// (and auto as a user), root for root (and auto where user namespaces are denied).
inline bool sandbox_available() {
    switch (test_mode()) {
        case sbx::Mode::container:
            return true;
        case sbx::Mode::root_namespace:
            return ::geteuid() == 0;
        case sbx::Mode::user_namespace:
            return sbx::user_namespaces_work();
        case sbx::Mode::automatic:
            return sbx::user_namespaces_work() || ::geteuid() == 0;
    }
    return false;
}

// GOSSAMER_TEST_REQUIRE_SANDBOX=1 (the root, container and chroot runs): a missing sandbox
// fails the case instead of skipping it.
#define REQUIRE_SANDBOX()                                                                          \
    do {                                                                                           \
        if (!gossamer::test::sandbox_available()) {                                                \
            REQUIRE_MESSAGE((std::getenv("GOSSAMER_TEST_REQUIRE_SANDBOX") == nullptr ||            \
                             gossamer::test::test_mode() == sbx::Mode::root_namespace),            \
                            "no sandbox in mode " << sbx::mode_name(gossamer::test::test_mode())); \
            MESSAGE("skipped: no unprivileged user namespaces here (gossamer doctor)");            \
            return;                                                                                \
        }                                                                                          \
    } while (0)

// Cases that test what only namespaces give (a pid namespace, a private root, a hostname)
// skip in container mode with this; what container mode does not isolate is documented.
#define REQUIRE_NAMESPACES()                                                       \
    do {                                                                           \
        if (gossamer::test::effective_test_mode() == sbx::Mode::container) {       \
            MESSAGE("not in container mode: needs namespaces (docs/SECURITY.md)"); \
            return;                                                                \
        }                                                                          \
    } while (0)

// The uid a sandboxed command runs as: the mapped one in a user namespace, root_host_uid
// where the namespaces are made as real root (or container mode as root), else ours.
inline std::uint32_t sandbox_uid() {
    const sbx::Mode mode = effective_test_mode();
    if (mode == sbx::Mode::user_namespace) return sbx::default_policy().inner_uid;
    return ::geteuid() == 0 ? sbx::default_policy().root_host_uid : ::geteuid();
}

inline sbx::Policy test_policy() {
    sbx::Policy policy = sbx::default_policy();
    policy.mode = test_mode();
    policy.limits.wall_ms = 20'000;
    const fs::path probe = GOSSAMER_SANDBOX_PROBE;
    policy.read_only_binds.push_back({probe.parent_path().string(), "/probe", false});
    return policy;
}

inline sbx::SandboxResult run_argv(const std::vector<std::string>& argv,
                                   const sbx::Policy& policy = test_policy(),
                                   const std::string& stdin_bytes = "") {
    return sbx::run(policy, sbx::LaunchRequest{argv, stdin_bytes, false});
}

inline sbx::SandboxResult sh(const std::string& script, const sbx::Policy& policy = test_policy()) {
    return run_argv({"/bin/sh", "-c", script}, policy);
}

inline sbx::SandboxResult py(const std::string& code, const sbx::Policy& policy = test_policy()) {
    return run_argv({"python3", "-c", code}, policy);
}

inline sbx::SandboxResult probe(const std::string& name,
                                const sbx::Policy& policy = test_policy()) {
    const std::string binary = "/probe/" + fs::path(GOSSAMER_SANDBOX_PROBE).filename().string();
    return run_argv({binary, name}, policy);
}

// Everything a case must show afterwards: the runtime still launches sandboxes.
inline void check_next_call_works(const sbx::Policy& policy = test_policy()) {
    const sbx::SandboxResult next = run_argv({"/bin/echo", "next"}, policy);
    CHECK_MESSAGE(next.stop == sbx::StopReason::exited, next.report);
    CHECK(next.exit_code == 0);
    CHECK(next.stdout_text == "next\n");
}

// Host processes whose command line contains `marker` (survivors of a sandbox).
inline int host_processes_with(const std::string& marker) {
    int count = 0;
    std::error_code ec;
    for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        // read(2), not a stream: a process that exits meanwhile fails the read with ESRCH,
        // which libstdc++'s filebuf turns into an exception (other tests run in parallel).
        const int fd = ::open((it->path() / "cmdline").c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        std::string cmdline;
        char buffer[4096];
        for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
            cmdline.append(buffer, static_cast<std::size_t>(n));
        ::close(fd);
        for (char& c : cmdline)
            if (c == '\0') c = ' ';
        if (cmdline.find(marker) != std::string::npos && std::stoi(name) != ::getpid()) ++count;
    }
    return count;
}

inline std::string describe(const sbx::SandboxResult& r) {
    return "stop=" + std::string(sbx::stop_reason_name(r.stop)) +
           " exit=" + std::to_string(r.exit_code) + " signal=" + std::to_string(r.term_signal) +
           " report=" + r.report + "\nstdout:\n" + r.stdout_text + "\nstderr:\n" + r.stderr_text;
}

}  // namespace gossamer::test
