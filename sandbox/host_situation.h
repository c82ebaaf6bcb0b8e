// Why this machine refuses user namespaces, in words a user can act on: the facts (sysctls,
// AppArmor's restriction, a seccomp filter on us, a container, a chroot, the errno of
// clone(CLONE_NEWUSER)) are read once (read_host_facts), and diagnose() turns them into
// situations, each with its fix (the sysctl, the AppArmor profile, the Docker flags).
// Used by `gossamer doctor` and by the launcher's refusal. diagnose() is pure; reading the
// facts forks one short-lived child. It changes nothing on the machine.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gossamer::sandbox {

struct HostFacts {
    bool root = false;                              // effective uid 0
    std::optional<long> max_user_namespaces;        // user.max_user_namespaces
    std::optional<long> unprivileged_userns_clone;  // kernel.unprivileged_userns_clone (Debian)
    std::optional<long> apparmor_restrict_userns;   // kernel.apparmor_restrict_unprivileged_userns
    bool seccomp_filtered = false;                  // /proc/self/status "Seccomp: 2"
    std::string container;                          // docker | podman | kubernetes | lxc | ""
    bool chrooted = false;                          // our / is not init's /
    int userns_errno = 0;                           // clone(CLONE_NEWUSER): 0 when it works
};

HostFacts read_host_facts();

struct Situation {
    std::string what;  // what is in the way, with the fact that shows it
    std::string fix;   // what to run or change
};

// Empty when user namespaces work; else the situations that explain it, most specific first
// (the last is the generic one when nothing more specific is known).
std::vector<Situation> diagnose(const HostFacts& facts);

// "WHAT. Fix: FIX" for each situation, joined by " Also: ".
std::string situation_text(const std::vector<Situation>& situations);

}  // namespace gossamer::sandbox
