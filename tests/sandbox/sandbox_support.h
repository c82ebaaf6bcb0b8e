// Shared helpers for the sandbox tests: a temporary directory, the test policy (the default
// policy plus the probe binary read-only at /probe), one-line runners for sh, python3 and
// the probe, the "next call still works" check, and a scan of the host's process table for
// survivors. Integration tests skip with a MESSAGE only when user namespaces are missing.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
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

// Whether this kernel lets us build a sandbox at all (doctor's user namespace probe).
inline bool sandbox_available() {
    static const bool ok = sbx::probe_namespaces().front().ok;
    return ok;
}

#define REQUIRE_SANDBOX()                                                               \
    do {                                                                                \
        if (!gossamer::test::sandbox_available()) {                                     \
            MESSAGE("skipped: no unprivileged user namespaces here (gossamer doctor)"); \
            return;                                                                     \
        }                                                                               \
    } while (0)

inline sbx::Policy test_policy() {
    sbx::Policy policy = sbx::default_policy();
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
    for (const auto& entry : fs::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(entry.path() / "cmdline", std::ios::binary);
        std::string cmdline((std::istreambuf_iterator<char>(in)), {});
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
