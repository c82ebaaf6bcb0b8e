// The rlimit plan and its application (rlimits.h).
#include "sandbox/rlimits.h"

#include <cerrno>

namespace gossamer::sandbox {

std::vector<RlimitStep> rlimit_plan(const Limits& limits) {
    std::vector<RlimitStep> plan{{RLIMIT_CORE, 0}};
    auto add = [&](int resource, std::uint64_t value) {
        if (value) plan.push_back({resource, static_cast<rlim_t>(value)});
    };
    add(RLIMIT_CPU, limits.cpu_seconds);
    add(RLIMIT_AS, limits.memory_bytes);
    // RLIMIT_NPROC counts the tasks of the sandbox's uid in its own user namespace, so it is
    // a per-sandbox cap; the sandbox's init is one of them.
    add(RLIMIT_NPROC, limits.pids ? limits.pids + 1 : 0);
    add(RLIMIT_FSIZE, limits.file_bytes);
    add(RLIMIT_NOFILE, limits.open_files);
    return plan;
}

bool apply_rlimits(const std::vector<RlimitStep>& plan, ChildReport& error) {
    for (const RlimitStep& step : plan) {
        rlimit value{step.value, step.value};
        rlimit current{};
        if (::getrlimit(step.resource, &current) == 0 && current.rlim_max != RLIM_INFINITY &&
            current.rlim_max < value.rlim_max)
            value = {current.rlim_max, current.rlim_max};  // never above what we were given
        if (::setrlimit(step.resource, &value) != 0) {
            error = make_report(ReportKind::setup_failed, 0, errno, "setrlimit",
                                rlimit_name(step.resource));
            return false;
        }
    }
    return true;
}

const char* rlimit_name(int resource) {
    switch (resource) {
        case RLIMIT_CORE:
            return "RLIMIT_CORE";
        case RLIMIT_CPU:
            return "RLIMIT_CPU";
        case RLIMIT_AS:
            return "RLIMIT_AS";
        case RLIMIT_NPROC:
            return "RLIMIT_NPROC";
        case RLIMIT_FSIZE:
            return "RLIMIT_FSIZE";
        case RLIMIT_NOFILE:
            return "RLIMIT_NOFILE";
        default:
            return "RLIMIT_?";
    }
}

}  // namespace gossamer::sandbox
