// What a sandboxed process may see and use: read-only binds, one writable workspace, a
// size-capped /tmp, network on or off, resource limits, the environment by allowlist, and
// which isolation layers must be present (fail closed). Policy is data: it is built in code
// (default_policy) or read from JSON (policy_from_json); nothing here touches the kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sandbox/layers.h"

namespace gossamer::sandbox {

// A host path made visible read-only (nosuid, nodev) at `sandbox_path`. A host symlink whose
// sandbox path equals its host path is recreated as the same symlink (Debian's /bin ->
// usr/bin); an optional bind whose host path is missing is skipped, a required one is an error.
struct Bind {
    std::string host_path;
    std::string sandbox_path;
    bool optional = false;

    bool operator==(const Bind&) const = default;
};

// Resource limits; 0 means "no limit" for every field.
struct Limits {
    std::uint64_t wall_ms = 30'000;           // killed (whole pid namespace) after this
    std::uint64_t cpu_seconds = 30;           // RLIMIT_CPU, per process
    std::uint64_t memory_bytes = 1ull << 30;  // cgroup memory limit and RLIMIT_AS
    std::uint64_t pids = 64;                  // RLIMIT_NPROC (per sandbox), v2 pids.max
    std::uint64_t file_bytes = 256ull << 20;  // RLIMIT_FSIZE (largest file written)
    std::uint64_t open_files = 256;           // RLIMIT_NOFILE
    std::uint64_t output_bytes = 1ull << 20;  // kept per captured stream (head + tail)
    std::uint64_t tmp_bytes = 64ull << 20;    // size of the tmpfs at /tmp (and /dev/shm)
    std::uint64_t tmp_inodes = 16384;         // files and directories in /tmp (/dev/shm)

    bool operator==(const Limits&) const = default;
};

// How the sandbox is built (docs/SECURITY.md has what each one isolates):
//   automatic:      user namespaces; as root where they are denied (a chroot, a seccomp
//                   profile, a sysctl), the same namespaces made as real root instead;
//   user_namespace: user namespaces only (fails where they are denied);
//   root_namespace: namespaces made as real root, then the command drops to root_host_uid
//                   with no capabilities (needs root);
//   container:      no namespaces at all (for unprivileged users in a container that denies
//                   them): seccomp, Landlock, rlimits, cgroups where writable, a private /tmp,
//                   the workspace as working directory, the env allowlist, the process group
//                   killed as a whole. Never chosen by `automatic`: a user asks for it.
enum class Mode { automatic, user_namespace, root_namespace, container };

// "auto", "userns", "root", "container": the names in policies, specs and on command lines.
std::string_view mode_name(Mode mode);
std::optional<Mode> mode_from_name(std::string_view name);
// What a mode does not isolate, in one paragraph (empty for the namespaced modes): printed
// by `gossamer doctor`, at the start of `gossamer run` and `sandbox exec`.
std::string_view mode_caveats(Mode mode);

struct Policy {
    Mode mode = Mode::automatic;
    std::vector<Bind> read_only_binds;
    std::string workspace_host;                 // empty: no workspace bind
    std::string workspace_path = "/workspace";  // where the workspace appears inside
    // Paths relative to the workspace that stay read-only inside it (.git, a gitdir: target,
    // .gossamer, a spec's list): each existing one is bound read-only over itself, resolved
    // beneath the workspace with no symlinks (mounts.cpp); one that is a symlink refuses the
    // launch. Missing ones are skipped. Needs a workspace.
    std::vector<std::string> protected_paths;
    bool network = false;  // false: a fresh network namespace
    // With network false and a non-empty allowlist: the fresh namespace reaches only an
    // HTTP/HTTPS proxy on the host that allows these domains (egress_rules.h has the forms;
    // docs/SECURITY.md "Network by domain"). Deny patterns win.
    std::vector<std::string> network_allow;
    std::vector<std::string> network_deny;
    bool isolation = true;  // false only for `--unsandboxed` (warns)
    bool cgroups = true;    // per-run cgroups where writable (a move costs ~10 ms, see README)
    Limits limits;
    std::vector<std::pair<std::string, std::string>> env;  // the whole environment inside
    std::string cwd = "/workspace";
    std::string hostname = "sandbox";
    std::uint32_t inner_uid = 1000;  // the caller's uid and gid appear as this inside
    // When the caller is root, the sandbox runs as this host uid and gid instead (65534:
    // nobody/nogroup) and the workspace directory is chown'ed to it.
    std::uint32_t root_host_uid = 65534;
    std::vector<Layer> required;  // launching fails when one of these is missing

    bool operator==(const Policy&) const = default;
};

// The policy for running the system python3: /usr, /lib*, /bin and /sbin (symlinks on
// Debian), /etc/ld.so.cache, /etc/localtime, /etc/python3* read-only; nothing of /home,
// /root, /run, /var, /etc secrets or sockets. No workspace until the caller sets one.
// Required layers: the namespaces, seccomp and rlimits; Landlock and cgroups when present.
Policy default_policy();

// Reads a policy from a JSON object applied over default_policy(): a key present replaces
// the default. Unknown keys, wrong types and out-of-range values throw PolicyError naming
// the key. The format is documented in sandbox/README.md.
Policy policy_from_json(std::string_view json_text);

// The policy as JSON in the same format (for `gossamer sandbox exec --print-policy`, tests).
std::string policy_to_json(const Policy& policy);

// Whether `path` (a sandbox path) is at or below one of the policy's read-only binds.
bool covered_by_binds(const Policy& policy, const std::string& path);

// Sets one variable of the sandbox's environment (replacing it when present).
void set_env(Policy& policy, const std::string& name, const std::string& value);

// Whether the sandbox's network is the domain allowlist's proxy.
inline bool proxied_network(const Policy& policy) {
    return !policy.network && !policy.network_allow.empty();
}

// Layers the policy needs: `required` plus net_ns when network is off.
std::vector<Layer> required_layers(const Policy& policy);

struct PolicyError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace gossamer::sandbox
