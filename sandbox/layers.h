// The isolation layers the sandbox knows, their names, and how to fix a missing one.
// Shared by the policy (which layers it requires), the launcher (fail closed) and
// `gossamer doctor`. Pure data: no probing here (see doctor.h).
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace gossamer::sandbox {

enum class Layer {
    user_ns,        // unprivileged user namespace: the root of everything else
    pid_ns,         // own pid namespace: sees only its own processes, dies with its init
    mount_ns,       // own mount namespace: an empty root with only the binds
    net_ns,         // own network namespace: only a down loopback (no network)
    ipc_ns,         // own System V IPC and POSIX message queues
    uts_ns,         // own hostname
    cgroup_ns,      // own view of /proc/self/cgroup
    seccomp,        // libseccomp deny list (EPERM), architecture check
    landlock,       // second filesystem fence (kernel 5.13+)
    cgroup_memory,  // memory limit through a cgroup (v1 memory or v2 memory.max)
    cgroup_pids,    // pids limit through a cgroup (v1 pids or v2 pids.max)
    rlimits,        // setrlimit: CPU, address space, file size, open files, processes, core
};

inline constexpr std::array kAllLayers = {
    Layer::user_ns,  Layer::pid_ns,        Layer::mount_ns,    Layer::net_ns,
    Layer::ipc_ns,   Layer::uts_ns,        Layer::cgroup_ns,   Layer::seccomp,
    Layer::landlock, Layer::cgroup_memory, Layer::cgroup_pids, Layer::rlimits,
};

// "user_ns", "seccomp", ...: the names used in policy files and `gossamer doctor --json`.
std::string_view layer_name(Layer layer);
std::optional<Layer> layer_from_name(std::string_view name);
// One sentence telling an operator how to make the layer available.
std::string_view layer_fix_hint(Layer layer);

}  // namespace gossamer::sandbox
