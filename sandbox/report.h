// Turns what was observed about a finished run (the init's reports, its wait status, the
// timer, cgroup counters) into a SandboxResult with a human-readable report. Pure: no I/O,
// so every wording is tested without running anything.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/child_report.h"
#include "sandbox/launcher.h"
#include "sandbox/policy.h"
#include "sandbox/result.h"

namespace gossamer::sandbox {

struct RunFacts {
    bool isolated = true;
    int init_status = 0;  // wait status of the init (of the command itself when unsandboxed)
    bool timed_out = false;
    bool cancelled = false;  // RunHandle::cancel killed the sandbox
    std::vector<ChildReport> reports;
    std::uint64_t oom_kills = 0;
    std::uint64_t pids_refused = 0;
    double cpu_ms = 0;
};

SandboxResult describe_run(const RunFacts& facts, const Policy& policy,
                           const LaunchRequest& request);

// Appends "stdout truncated: ..." sentences when the caps dropped bytes.
void add_output_notes(SandboxResult& result, const Policy& policy);

// "sandbox setup failed: <call> <path>: <error>" (+ the layer's fix hint) for a setup_failed
// report.
std::string setup_failure_text(const ChildReport& report);

// "SIGKILL", "SIGSEGV", ... ("signal 42" for others).
std::string signal_name(int sig);

}  // namespace gossamer::sandbox
