// How the Python tool is configured (from the agent spec's tools.python or the CLI): the
// mode, limits, network, the interpreter and extra read-only paths. Plain data; the sandbox
// policy built from it is python_policy.h's job.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/policy.h"
#include "tools/protected_paths.h"

namespace gossamer::tools::python {

enum class Mode { stateless, stateful };

struct PythonOptions {
    Mode mode = Mode::stateful;
    std::chrono::milliseconds timeout{120'000};  // per call; 0: the ToolContext's timeout
    std::uint64_t memory_mb = 1024;
    bool network = false;
    // `network: {allow: [...], deny: [...]}`: no network but the allowlist's proxy
    // (sandbox Policy::network_allow / network_deny, docs/SECURITY.md).
    std::vector<std::string> network_allow;
    std::vector<std::string> network_deny;
    std::string interpreter = "/usr/bin/python3";
    std::vector<std::string> extra_read_only;    // host paths, visible at the same path inside
    std::uint64_t max_output_bytes = 32 * 1024;  // what the model reads: head + tail kept
    // Stateful: a kernel with no call for this long is stopped (its sandbox killed); the
    // next call starts a fresh one and its output says the state was lost. 0: never.
    std::chrono::milliseconds idle_timeout{30 * 60 * 1000};
    // Kept read-only inside the writable workspace (protected_paths.h).
    std::vector<std::string> protected_names = default_protected_names();
    // How the sandbox is built: the spec's `sandbox: {mode}` (not a key of the tool's own).
    sandbox::Mode sandbox_mode = sandbox::Mode::automatic;
};

// Where the session's workspace appears inside the sandbox (harmony's description names it).
inline constexpr const char* kWorkspaceInside = "/mnt/data";

}  // namespace gossamer::tools::python
