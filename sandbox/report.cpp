// Run descriptions (report.h) and the small helpers of result.h.
#include "sandbox/report.h"

#include <sys/wait.h>

#include <csignal>
#include <cstring>
#include <string>

namespace gossamer::sandbox {
namespace {

std::string quoted_command(const LaunchRequest& request) {
    return request.argv.empty() ? "''" : "'" + request.argv[0] + "'";
}

// Which layer a failed setup call belongs to, for the fix hint.
const char* layer_of_call(const std::string& what) {
    if (what.rfind("landlock", 0) == 0) return "landlock";
    if (what.find("SECCOMP") != std::string::npos) return "seccomp";
    if (what.rfind("unshare", 0) == 0) return "cgroup_ns";
    if (what.rfind("setrlimit", 0) == 0) return "rlimits";
    if (what.rfind("mount", 0) == 0 || what.rfind("pivot_root", 0) == 0 ||
        what.rfind("umount", 0) == 0)
        return "mount_ns";
    return nullptr;
}

void describe_setup_failure(SandboxResult& result, const ChildReport& r) {
    result.stop = StopReason::setup_failed;
    result.report = setup_failure_text(r);
}

void describe_signal(SandboxResult& result, const Policy& policy, const RunFacts& facts) {
    const int sig = result.term_signal;
    result.report = "killed by " + signal_name(sig);
    const double cpu_limit_ms = static_cast<double>(policy.limits.cpu_seconds) * 1000.0;
    if (facts.oom_kills > 0) {
        result.oom_killed = true;
        result.report += ": memory limit of " + std::to_string(policy.limits.memory_bytes) +
                         " bytes reached (out-of-memory kill in the sandbox's cgroup)";
    } else if (sig == SIGXCPU ||  // soft == hard: the kernel sends SIGKILL at the limit, and
                                  // the reaped rusage can trail the scheduler's count by a fifth on
                                  // a loaded machine (831 ms of a 1 s limit measured in CI): half
                                  // the limit is the cue
               (sig == SIGKILL && cpu_limit_ms > 0 && facts.cpu_ms >= cpu_limit_ms * 0.5)) {
        result.cpu_limit_hit = true;
        result.report +=
            ": CPU time limit of " + std::to_string(policy.limits.cpu_seconds) + " s reached";
    } else if (sig == SIGXFSZ) {
        result.file_limit_hit = true;
        result.report +=
            ": file size limit of " + std::to_string(policy.limits.file_bytes) + " bytes reached";
    } else if (sig == SIGSYS) {
        result.report += ": a forbidden system call from a foreign architecture (seccomp)";
    }
}

void describe_status(SandboxResult& result, const Policy& policy, const RunFacts& facts,
                     int status) {
    if (WIFEXITED(status)) {
        result.stop = StopReason::exited;
        result.exit_code = WEXITSTATUS(status);
        result.report = "exited with code " + std::to_string(result.exit_code);
    } else if (WIFSIGNALED(status)) {
        result.stop = StopReason::signaled;
        result.term_signal = WTERMSIG(status);
        describe_signal(result, policy, facts);
    }
}

}  // namespace

std::string_view stop_reason_name(StopReason reason) {
    switch (reason) {
        case StopReason::exited:
            return "exited";
        case StopReason::signaled:
            return "signaled";
        case StopReason::timed_out:
            return "timed_out";
        case StopReason::setup_failed:
            return "setup_failed";
        case StopReason::exec_failed:
            return "exec_failed";
        case StopReason::refused:
            return "refused";
    }
    return "unknown";
}

int SandboxResult::shell_status() const {
    switch (stop) {
        case StopReason::exited:
            return exit_code;
        case StopReason::signaled:
            return 128 + term_signal;
        case StopReason::timed_out:
            return 124;
        case StopReason::setup_failed:
        case StopReason::refused:
            return 125;
        case StopReason::exec_failed:
            return 127;
    }
    return 125;
}

std::string setup_failure_text(const ChildReport& r) {
    const std::string what(r.what), path(r.path);
    std::string text = "sandbox setup failed: " + what + (path.empty() ? "" : " " + path) + ": " +
                       std::strerror(r.err);
    const bool path_step =
        what.rfind("mount(MS_BIND)", 0) == 0 || what == "move_mount" || what == "chdir";
    if (path_step && (r.err == EACCES || r.err == EPERM)) {
        // Not the kernel: the sandbox's user may not walk to this folder (a 0700 home above it).
        text +=
            " (the sandbox's user cannot reach this folder: a folder above it, such as a "
            "0700 home directory, is closed to it; fix: keep the workspace and the session "
            "store in folders others may enter, or chmod o+x the folders on the path)";
        return text;
    }
    if (const char* name = layer_of_call(what)) {
        if (auto layer = layer_from_name(name))
            text += " (layer " + std::string(name) +
                    "; fix: " + std::string(layer_fix_hint(*layer)) + ")";
    }
    return text;
}

std::string signal_name(int sig) {
    const char* abbrev = sigabbrev_np(sig);
    return abbrev ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig);
}

SandboxResult describe_run(const RunFacts& facts, const Policy& policy,
                           const LaunchRequest& request) {
    SandboxResult result;
    result.pids_refused = facts.pids_refused;
    const ChildReport* exited = nullptr;
    for (const ChildReport& r : facts.reports) {
        if (r.kind == ReportKind::setup_failed) {
            describe_setup_failure(result, r);
            return result;
        }
        if (r.kind == ReportKind::exec_failed) {
            result.stop = StopReason::exec_failed;
            result.report =
                "cannot execute " + quoted_command(request) + ": " + std::strerror(r.err);
            return result;
        }
        if (r.kind == ReportKind::exited) exited = &r;
    }
    if (facts.cancelled && !exited) {
        result.stop = StopReason::signaled;
        result.term_signal = SIGKILL;
        result.cancelled = true;
        result.report = "killed: the run was cancelled; every process in the sandbox was killed";
    } else if (facts.timed_out) {
        result.stop = StopReason::timed_out;
        result.timed_out = true;
        result.report = "killed: wall-clock limit of " + std::to_string(policy.limits.wall_ms) +
                        " ms reached; every process in the sandbox was killed";
    } else if (exited) {
        describe_status(result, policy, facts, exited->value);
    } else if (!facts.isolated) {
        describe_status(result, policy, facts, facts.init_status);
    } else {
        describe_status(result, policy, facts, facts.init_status);
        result.stop = StopReason::signaled;
        result.report = "the sandbox's init ended without a report (" + result.report +
                        "); every process in the sandbox was killed";
        if (facts.oom_kills > 0) result.oom_killed = true;
    }
    if (facts.oom_kills > 0 && !result.oom_killed) {
        result.oom_killed = true;
        result.report += "; the memory limit of " + std::to_string(policy.limits.memory_bytes) +
                         " bytes was reached (a process was killed)";
    }
    if (facts.pids_refused > 0)
        result.report += "; the process limit of " + std::to_string(policy.limits.pids) +
                         " refused " + std::to_string(facts.pids_refused) + " forks";
    return result;
}

void add_output_notes(SandboxResult& result, const Policy& policy) {
    auto note = [&](const char* name, std::uint64_t total) {
        if (policy.limits.output_bytes && total > policy.limits.output_bytes)
            result.report += std::string("; ") + name + " truncated: " + std::to_string(total) +
                             " bytes written, the first and last " +
                             std::to_string(policy.limits.output_bytes / 2) + " kept";
    };
    note("stdout", result.stdout_bytes);
    note("stderr", result.stderr_bytes);
}

}  // namespace gossamer::sandbox
