// Resource limits that apply everywhere, cgroups or not: the policy's limits as a list of
// setrlimit calls (rlimit_plan: pure) and their application in the child (apply_rlimits: no
// allocation). Soft and hard limits are equal, so the sandbox cannot raise them again.
#pragma once

#include <sys/resource.h>

#include <vector>

#include "sandbox/child_report.h"
#include "sandbox/policy.h"

namespace gossamer::sandbox {

struct RlimitStep {
    int resource;  // RLIMIT_*
    rlim_t value;
    bool operator==(const RlimitStep&) const = default;
};

// CORE is always 0. CPU, AS (memory), NPROC (pids + 1 for the sandbox's init), FSIZE and
// NOFILE follow the policy; a zero limit in the policy leaves that resource unchanged.
std::vector<RlimitStep> rlimit_plan(const Limits& limits);

bool apply_rlimits(const std::vector<RlimitStep>& plan, ChildReport& error);

const char* rlimit_name(int resource);

}  // namespace gossamer::sandbox
