#include "tools/python/python_policy.h"

#include <string>

namespace gossamer::tools::python {
namespace {

void add_environment(sandbox::Policy& policy) {
    sandbox::set_env(policy, "HOME", "/tmp");
    sandbox::set_env(policy, "MPLBACKEND", "Agg");
    sandbox::set_env(policy, "MPLCONFIGDIR", "/tmp/.matplotlib");
    sandbox::set_env(policy, "PYTHONDONTWRITEBYTECODE", "1");
    // BLAS thread pools count against the pids limit and reserve memory per thread.
    for (const char* name : {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"})
        sandbox::set_env(policy, name, "4");
}

}  // namespace

sandbox::Policy python_policy(const PythonOptions& options, const std::filesystem::path& workspace,
                              std::chrono::milliseconds wall) {
    sandbox::Policy policy = sandbox::default_policy();
    // Debian's BLAS/LAPACK are chosen by symlinks here (numpy needs libblas.so.3).
    policy.read_only_binds.push_back({"/etc/alternatives", "/etc/alternatives", true});
    // matplotlib's Debian config and the fonts it renders with.
    for (const char* path : {"/etc/matplotlibrc", "/etc/fonts"})
        policy.read_only_binds.push_back({path, path, true});
    for (const auto& path : options.extra_read_only) policy.read_only_binds.push_back({path, path});
    const auto interpreter_dir = std::filesystem::path(options.interpreter).parent_path().string();
    // An interpreter outside the default binds (a user's venv) must be visible inside.
    if (!interpreter_dir.empty() && !sandbox::covered_by_binds(policy, options.interpreter))
        policy.read_only_binds.push_back({interpreter_dir, interpreter_dir});
    policy.workspace_path = kWorkspaceInside;
    if (workspace.empty()) {
        policy.cwd = "/tmp";
    } else {
        policy.workspace_host = std::filesystem::absolute(workspace).lexically_normal().string();
        policy.cwd = kWorkspaceInside;
        policy.protected_paths = find_protected_paths(workspace, options.protected_names);
    }
    policy.network = options.network;
    policy.network_allow = options.network_allow;
    policy.network_deny = options.network_deny;
    policy.mode = options.sandbox_mode;
    policy.limits.wall_ms = static_cast<std::uint64_t>(wall.count());
    policy.limits.cpu_seconds = 0;  // the wall clock bounds a call; a kernel lives long
    policy.limits.memory_bytes = options.memory_mb << 20;
    policy.limits.output_bytes = options.max_output_bytes;
    add_environment(policy);
    return policy;
}

}  // namespace gossamer::tools::python
