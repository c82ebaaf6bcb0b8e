// Builds the sandbox's filesystem inside the child, in its own mount namespace:
//   1. enter_staging: make every mount private, put a small tmpfs at the host's /tmp and
//      pivot into it, so the host root sits at kOldRoot and kNewRoot is an empty directory;
//   2. run_mount_plan: execute the plan (mount_plan.h) from kOldRoot into kNewRoot;
//   3. enter_new_root: pivot into kNewRoot and detach everything else (the host is gone).
// Runs after clone in a child of a possibly threaded parent: no allocation, syscalls only.
// Each function returns false and fills `error` on the first failure.
#pragma once

#include <vector>

#include "sandbox/child_report.h"
#include "sandbox/mount_plan.h"

namespace gossamer::sandbox {

bool enter_staging(ChildReport& error);
bool run_mount_plan(const std::vector<MountStep>& plan, ChildReport& error);
bool enter_new_root(ChildReport& error);

}  // namespace gossamer::sandbox
