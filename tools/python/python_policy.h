// The sandbox policy one Python call (stateless) or one kernel (stateful) runs under:
// default_policy() plus the interpreter's and extra read-only paths, the session's workspace
// read-write at /mnt/data, the options' limits and network, and an environment for a quiet,
// file-only Python (MPLBACKEND=Agg, caches in /tmp). It reads the workspace for its protected
// paths (kept read-only); it launches nothing.
#pragma once

#include <chrono>
#include <filesystem>

#include "sandbox/policy.h"
#include "tools/python/python_options.h"

namespace gossamer::tools::python {

// `workspace` empty: no workspace bind, the working directory is /tmp.
sandbox::Policy python_policy(const PythonOptions& options, const std::filesystem::path& workspace,
                              std::chrono::milliseconds wall);

}  // namespace gossamer::tools::python
