// What a sandboxed run produced and why it stopped. Plain data, filled by sandbox.cpp; the
// `report` is the sentence a user or the model reads ("killed: wall-clock limit of 30000 ms
// reached; every process in the sandbox was killed").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gossamer::sandbox {

enum class StopReason {
    exited,        // the command exited (exit_code)
    signaled,      // the command died of a signal (term_signal): OOM, CPU limit, its own crash
    timed_out,     // the wall-clock limit: the whole sandbox was killed
    setup_failed,  // the sandbox could not be built (a syscall failed; report names it)
    exec_failed,   // the command could not be executed (not found, not executable)
    refused,       // a required layer is missing, or the request was invalid: nothing ran
};

std::string_view stop_reason_name(StopReason reason);

struct SandboxResult {
    StopReason stop = StopReason::refused;
    int exit_code = -1;   // for `exited`
    int term_signal = 0;  // for `signaled`
    bool timed_out = false;
    bool cancelled = false;          // RunHandle::cancel: the whole sandbox was killed
    bool oom_killed = false;         // the memory cgroup killed something
    bool cpu_limit_hit = false;      // SIGXCPU, or SIGKILL at the CPU limit
    bool file_limit_hit = false;     // SIGXFSZ
    std::uint64_t pids_refused = 0;  // forks refused by the pids cgroup
    std::string stdout_text;         // capped (head + marker + tail), raw bytes
    std::string stderr_text;         // capped; empty when merged into stdout
    std::uint64_t stdout_bytes = 0;  // everything the command wrote, kept or not
    std::uint64_t stderr_bytes = 0;
    bool output_truncated = false;
    double wall_ms = 0;
    double cpu_ms = 0;               // user + system of every process the init reaped
    std::string report;              // why it stopped, one or more sentences
    std::vector<std::string> notes;  // missing optional layers, cgroup problems
    // A domain allowlist: each decision of the run's proxy, in order ("allowed pypi.org:443
    // (151.101.0.223)", "denied 169.254.169.254:80: ... link-local ...").
    std::vector<std::string> network;

    // exit_code, 128 + signal, 124 on timeout, 125 when the sandbox failed, 127 exec failure
    int shell_status() const;
};

}  // namespace gossamer::sandbox
