#include "tools/shell/shell_policy.h"

namespace gossamer::tools::shell {

sandbox::Policy shell_policy(const ShellOptions& options, const std::filesystem::path& workspace,
                             const ShellCall& call, std::vector<std::string> protected_paths) {
    sandbox::Policy policy = sandbox::default_policy();
    policy.mode = options.sandbox_mode;
    // Debian picks some tools (BLAS, editors, awk) by symlinks here.
    policy.read_only_binds.push_back({"/etc/alternatives", "/etc/alternatives", true});
    for (const auto& path : options.extra_read_only) policy.read_only_binds.push_back({path, path});
    policy.workspace_path = kWorkspaceInside;
    policy.workspace_host = std::filesystem::absolute(workspace).lexically_normal().string();
    policy.protected_paths = std::move(protected_paths);
    policy.cwd = call.workdir.empty() ? std::string(kWorkspaceInside)
                                      : std::string(kWorkspaceInside) + "/" + call.workdir;
    policy.network = options.network;
    policy.network_allow = options.network_allow;
    policy.network_deny = options.network_deny;
    policy.limits.wall_ms = static_cast<std::uint64_t>(call.timeout.count());
    policy.limits.cpu_seconds = 0;  // the wall clock bounds a call
    policy.limits.memory_bytes = options.memory_mb << 20;
    policy.limits.pids = options.pids;
    policy.limits.output_bytes = options.max_output_bytes;
    sandbox::set_env(policy, "HOME", "/tmp");
    sandbox::set_env(policy, "PAGER", "cat");
    sandbox::set_env(policy, "GIT_PAGER", "cat");
    sandbox::set_env(policy, "NO_COLOR", "1");
    sandbox::set_env(policy, "TERM", "dumb");
    return policy;
}

}  // namespace gossamer::tools::shell
