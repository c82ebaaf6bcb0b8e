// The sandbox policy one `shell` call runs under: default_policy() plus the options' extra
// read-only paths, the session's workspace read-write at /mnt/data with its protected paths
// read-only, the call's working folder and timeout, the options' limits and network, and an
// environment for unattended tools (HOME in /tmp, no pager, no colour). Pure: builds data,
// launches nothing (the caller finds the protected paths).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sandbox/policy.h"
#include "tools/shell/shell_call.h"
#include "tools/shell/shell_options.h"

namespace gossamer::tools::shell {

sandbox::Policy shell_policy(const ShellOptions& options, const std::filesystem::path& workspace,
                             const ShellCall& call, std::vector<std::string> protected_paths);

}  // namespace gossamer::tools::shell
