#include "sandbox/host_situation.h"

#include "sandbox/doctor.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gossamer::sandbox {

namespace {

std::optional<long> read_number(const char* path) {
    std::ifstream in(path);
    long value = 0;
    if (!(in >> value)) return std::nullopt;
    return value;
}

std::string read_text(const char* path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string container_kind() {
    struct stat st {};
    if (::stat("/.dockerenv", &st) == 0) return "docker";
    if (::stat("/run/.containerenv", &st) == 0) return "podman";
    if (const char* c = std::getenv("container"); c && *c) return c;
    const std::string cgroup = read_text("/proc/1/cgroup");
    if (cgroup.find("kubepods") != std::string::npos) return "kubernetes";
    if (cgroup.find("docker") != std::string::npos) return "docker";
    if (cgroup.find("lxc") != std::string::npos) return "lxc";
    return "";
}

// Our root is not init's root: (device, inode, mount id) of "/" differ. Needs access to
// /proc/1/root (root, or the same user as init); false when it cannot tell.
bool chrooted() {
    struct statx ours {
    }, init{};
    const unsigned mask = STATX_INO | 0x1000U;  // STATX_MNT_ID
    if (::statx(AT_FDCWD, "/", 0, mask, &ours) != 0) return false;
    if (::statx(AT_FDCWD, "/proc/1/root/", 0, mask, &init) != 0) return false;
    const bool same_file = ours.stx_dev_major == init.stx_dev_major &&
                           ours.stx_dev_minor == init.stx_dev_minor && ours.stx_ino == init.stx_ino;
    const bool both_ids = (ours.stx_mask & 0x1000U) && (init.stx_mask & 0x1000U);
    return !same_file || (both_ids && ours.stx_mnt_id != init.stx_mnt_id);
}

}  // namespace

HostFacts read_host_facts() {
    HostFacts f;
    f.root = ::geteuid() == 0;
    f.max_user_namespaces = read_number("/proc/sys/user/max_user_namespaces");
    f.unprivileged_userns_clone = read_number("/proc/sys/kernel/unprivileged_userns_clone");
    f.apparmor_restrict_userns =
        read_number("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
    const std::string status = read_text("/proc/self/status");
    f.seccomp_filtered = status.find("\nSeccomp:\t2") != std::string::npos;
    f.container = container_kind();
    f.chrooted = chrooted();
    f.userns_errno = probe_in_child(CLONE_NEWUSER, [] { return 0; });
    return f;
}

std::vector<Situation> diagnose(const HostFacts& f) {
    std::vector<Situation> out;
    if (f.userns_errno == 0) return out;
    const std::string refused =
        "clone(CLONE_NEWUSER) fails with " + std::string(std::strerror(f.userns_errno));
    // Root is refused only by a chroot, a filter or a sysctl: with neither of the others in
    // sight, a chroot is the likely cause even where /proc/1/root cannot be compared.
    const bool likely_chroot = f.root && f.userns_errno == EPERM && !f.seccomp_filtered &&
                               (!f.max_user_namespaces || *f.max_user_namespaces > 0);
    if (f.chrooted || likely_chroot)
        out.push_back(
            {std::string(f.chrooted ? "gossamer runs inside a chroot"
                                    : "gossamer most likely runs inside a chroot (as root, "
                                      "with no seccomp filter or sysctl in the way)") +
                 ", and the kernel refuses new user namespaces to a chrooted process (" + refused +
                 ")",
             "run gossamer outside the chroot, or in a real container (systemd-nspawn, "
             "or docker/podman with --security-opt seccomp=unconfined) instead of a "
             "chroot"});
    if (f.max_user_namespaces && *f.max_user_namespaces == 0)
        out.push_back({"user namespaces are switched off: user.max_user_namespaces = 0",
                       "sysctl -w user.max_user_namespaces=15000 (and keep it in "
                       "/etc/sysctl.d/99-userns.conf)"});
    if (!f.root && f.unprivileged_userns_clone && *f.unprivileged_userns_clone == 0)
        out.push_back(
            {"unprivileged user namespaces are off: kernel.unprivileged_userns_clone = 0 "
             "(Debian's switch)",
             "sysctl -w kernel.unprivileged_userns_clone=1 (and keep it in "
             "/etc/sysctl.d/99-userns.conf)"});
    if (!f.root && f.apparmor_restrict_userns && *f.apparmor_restrict_userns == 1)
        out.push_back(
            {"AppArmor restricts unprivileged user namespaces: "
             "kernel.apparmor_restrict_unprivileged_userns = 1 (the Ubuntu 24.04 default)",
             "give gossamer a profile that allows them: write /etc/apparmor.d/gossamer with `abi "
             "<abi/4.0>, include <tunables/global> profile gossamer /PATH/TO/gossamer "
             "flags=(unconfined) { userns, }` and run `apparmor_parser -r "
             "/etc/apparmor.d/gossamer`; or, for the whole machine, sysctl -w "
             "kernel.apparmor_restrict_unprivileged_userns=0"});
    if (f.seccomp_filtered) {  // a container without a filter on us is not what refuses
        const std::string where = f.container.empty() ? "a seccomp filter on this process"
                                                      : "the " + f.container +
                                                            " container's seccomp "
                                                            "profile";
        std::string fix =
            "start the container with --security-opt seccomp=unconfined (or a profile that "
            "allows clone and unshare with CLONE_NEWUSER) and, where AppArmor confines it, "
            "--security-opt apparmor=unconfined";
        if (f.container == "kubernetes")
            fix =
                "set the pod's securityContext: seccompProfile: {type: Unconfined} (and "
                "appArmorProfile: {type: Unconfined} where AppArmor confines it)";
        out.push_back(
            {where + " denies creating namespaces (Docker's default profile does; " + refused + ")",
             fix});
    }
    if (out.empty())
        out.push_back({refused,
                       "enable user namespaces: sysctl user.max_user_namespaces=15000 and, on "
                       "Debian, kernel.unprivileged_userns_clone=1; `gossamer doctor` shows "
                       "each layer"});
    return out;
}

std::string situation_text(const std::vector<Situation>& situations) {
    std::string out;
    for (const auto& s : situations) {
        if (!out.empty()) out += " Also: ";
        std::string what = s.what;
        if (!what.empty() && what[0] >= 'a' && what[0] <= 'z')
            what[0] = static_cast<char>(what[0] - 32);
        out += what + ". Fix: " + s.fix + ".";
    }
    return out;
}

}  // namespace gossamer::sandbox
