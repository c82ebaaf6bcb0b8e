// How the `shell` tool is configured (the agent spec's tools.shell or the CLI): limits,
// network, the output cap, extra read-only paths and the protected names. Plain data; the
// sandbox policy built from it is shell_policy.h's job.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/policy.h"
#include "tools/protected_paths.h"

namespace gossamer::tools::shell {

struct ShellOptions {
    std::chrono::milliseconds timeout{60'000};       // per call unless it asks for less
    std::chrono::milliseconds max_timeout{600'000};  // the most a call's timeout_ms may ask
    std::uint64_t memory_mb = 2048;
    std::uint64_t pids = 256;
    bool network = false;
    // `network: {allow: [...], deny: [...]}`: no network but the allowlist's proxy
    // (sandbox Policy::network_allow / network_deny, docs/SECURITY.md).
    std::vector<std::string> network_allow;
    std::vector<std::string> network_deny;
    std::uint64_t max_output_bytes = 32 * 1024;  // what the model reads: head + tail kept
    std::vector<std::string> extra_read_only;    // host paths, visible at the same path inside
    // Kept read-only inside the writable workspace (protected_paths.h).
    std::vector<std::string> protected_names = default_protected_names();
    // How the sandbox is built: the spec's `sandbox: {mode}` (not a key of the tool's own).
    sandbox::Mode sandbox_mode = sandbox::Mode::automatic;
};

// Where the session's workspace appears inside (the same place as for python).
inline constexpr const char* kWorkspaceInside = "/mnt/data";

}  // namespace gossamer::tools::shell
