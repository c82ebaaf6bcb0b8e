// A session's workspace history (workspace_history.h) printed as git-style unified diffs:
// one step's changes, or everything from the baseline to the last step. Shared by
// `gossamer sessions diff` and the trace viewer. Reads the store only: it must not change it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/session_store.h"

namespace gossamer::runtime {

// `step`: that step's diff (the caller checks that the step exists); nullopt: from the
// baseline (step 0, the files the session started with) to the last step.
std::string workspace_diff(const SessionStore& store, const std::vector<StoredChange>& changes,
                           std::optional<int> step);

}  // namespace gossamer::runtime
