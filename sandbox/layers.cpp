// Names and fix hints of the isolation layers (layers.h).
#include "sandbox/layers.h"

namespace gossamer::sandbox {

std::string_view layer_name(Layer layer) {
    switch (layer) {
        case Layer::user_ns:
            return "user_ns";
        case Layer::pid_ns:
            return "pid_ns";
        case Layer::mount_ns:
            return "mount_ns";
        case Layer::net_ns:
            return "net_ns";
        case Layer::ipc_ns:
            return "ipc_ns";
        case Layer::uts_ns:
            return "uts_ns";
        case Layer::cgroup_ns:
            return "cgroup_ns";
        case Layer::seccomp:
            return "seccomp";
        case Layer::landlock:
            return "landlock";
        case Layer::cgroup_memory:
            return "cgroup_memory";
        case Layer::cgroup_pids:
            return "cgroup_pids";
        case Layer::rlimits:
            return "rlimits";
    }
    return "unknown";
}

std::optional<Layer> layer_from_name(std::string_view name) {
    for (Layer layer : kAllLayers)
        if (layer_name(layer) == name) return layer;
    return std::nullopt;
}

std::string_view layer_fix_hint(Layer layer) {
    switch (layer) {
        case Layer::user_ns:
            return "enable unprivileged user namespaces: sysctl kernel.unprivileged_userns_clone=1 "
                   "(Debian), sysctl user.max_user_namespaces=15000, and on Ubuntu 24.04+ "
                   "kernel.apparmor_restrict_unprivileged_userns=0; inside Docker run with "
                   "--security-opt seccomp=unconfined (the default profile blocks unshare)";
        case Layer::pid_ns:
        case Layer::mount_ns:
        case Layer::net_ns:
        case Layer::ipc_ns:
        case Layer::uts_ns:
        case Layer::cgroup_ns:
            return "the kernel or the outer container refuses this namespace inside a user "
                   "namespace; run on a host (or a container started with "
                   "--security-opt seccomp=unconfined --security-opt apparmor=unconfined)";
        case Layer::seccomp:
            return "build the kernel with CONFIG_SECCOMP_FILTER=y and install libseccomp2";
        case Layer::landlock:
            return "use a kernel >= 5.13 with CONFIG_SECURITY_LANDLOCK=y and 'landlock' in the "
                   "lsm= boot parameter";
        case Layer::cgroup_memory:
        case Layer::cgroup_pids:
            return "give this user a writable cgroup: cgroup v2 with delegation (systemd-run "
                   "--user --scope -p Delegate=yes ...) or, as root, the v1 memory/pids "
                   "hierarchies; rlimits still apply without it";
        case Layer::rlimits:
            return "setrlimit failed; check the hard limits of this session";
    }
    return "";
}

}  // namespace gossamer::sandbox
