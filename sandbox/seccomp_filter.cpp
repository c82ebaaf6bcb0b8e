// The deny list and its compilation with libseccomp (seccomp_filter.h). The list is seeded
// from Codex's linux-sandbox (ptrace, process_vm_*, io_uring), Docker's default profile
// (keyring, bpf, perf, mount family, namespaces, modules, kexec, clocks) and bubblewrap's
// TIOCSTI CVEs (masked ioctl compare: CVE-2019-10063 set bits above 32 to dodge a 64-bit one).
#include "sandbox/seccomp_filter.h"

#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace gossamer::sandbox {
namespace {

using Match = SeccompRule::Match;

SeccompRule deny(const char* name) {
    return {name, Match::always, 0, 0, 0, EPERM};
}

SeccompRule deny_flag(const char* name, unsigned index, std::uint64_t flag) {
    return {name, Match::arg_masked_eq, index, flag, flag, EPERM};
}

// Namespace-creating clone flags: each one denied on its own (rules for one syscall OR).
constexpr std::uint64_t kNamespaceFlags[] = {CLONE_NEWNS,    CLONE_NEWUSER, CLONE_NEWPID,
                                             CLONE_NEWNET,   CLONE_NEWIPC,  CLONE_NEWUTS,
                                             CLONE_NEWCGROUP};

struct FilterDeleter {
    void operator()(void* ctx) const { seccomp_release(ctx); }
};

scmp_compare to_compare(Match match) {
    return match == Match::arg_ne ? SCMP_CMP_NE : SCMP_CMP_MASKED_EQ;
}

void add_rule(scmp_filter_ctx ctx, const SeccompRule& rule) {
    const int nr = seccomp_syscall_resolve_name(rule.syscall.c_str());
    if (nr == __NR_SCMP_ERROR)  // unknown to this libseccomp: nothing to deny on this arch
        return;
    int rc = 0;
    if (rule.match == Match::always) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(static_cast<std::uint32_t>(rule.errno_value)), nr,
                              0);
    } else {
        scmp_arg_cmp cmp{rule.arg_index, to_compare(rule.match),
                         rule.match == Match::arg_ne ? rule.value : rule.mask,
                         rule.match == Match::arg_ne ? 0 : rule.value};
        rc = seccomp_rule_add_array(
            ctx, SCMP_ACT_ERRNO(static_cast<std::uint32_t>(rule.errno_value)), nr, 1, &cmp);
    }
    if (rc != 0)
        throw std::runtime_error("seccomp_rule_add(" + rule.syscall + "): " + std::strerror(-rc));
}

}  // namespace

std::vector<SeccompRule> seccomp_rules(bool network, bool container, bool proxied) {
    std::vector<SeccompRule> rules;
    for (const char* name :
         {// debugging other processes (Codex)
          "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
          // io_uring creates sockets without socket() (Codex)
          "io_uring_setup", "io_uring_enter", "io_uring_register",
          // kernel keyring is per uid and may hold the host's keys
          "keyctl", "add_key", "request_key",
          // kernel attack surface
          "bpf", "perf_event_open", "userfaultfd", "personality", "lookup_dcookie",
          "open_by_handle_at", "name_to_handle_at", "fanotify_init", "vhangup", "syslog", "iopl",
          "ioperm", "uselib", "acct", "quotactl", "swapon", "swapoff", "reboot",
          // the mount family and namespaces
          "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
          "fsconfig", "fsmount", "fspick", "mount_setattr", "unshare", "setns",
          // kernel code
          "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
          // clocks and names
          "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname",
          "setdomainname"})
        rules.push_back(deny(name));
    // clone3 passes its flags in memory seccomp cannot read: ENOSYS makes libc use clone.
    rules.push_back({"clone3", Match::always, 0, 0, 0, ENOSYS});
    for (std::uint64_t flag : kNamespaceFlags) rules.push_back(deny_flag("clone", 0, flag));
    // terminal injection; the kernel compares only the low 32 bits of the request
    rules.push_back({"ioctl", Match::arg_masked_eq, 1, 0xffffffffu, TIOCSTI, EPERM});
    rules.push_back({"ioctl", Match::arg_masked_eq, 1, 0xffffffffu, TIOCLINUX, EPERM});
    if (container) {
        rules.push_back(deny("setsid"));
        rules.push_back(deny("setpgid"));
    }
    if (proxied) {
        // socket(family, type): unix, inet, inet6 only, and never SOCK_RAW
        for (std::uint64_t family = 0; family < 64; ++family)
            if (family != AF_UNIX && family != AF_INET && family != AF_INET6)
                rules.push_back({"socket", Match::arg_masked_eq, 0, ~0ull, family, EPERM});
        rules.push_back({"socket", Match::arg_masked_eq, 1, 0xf, SOCK_RAW, EPERM});
        rules.push_back({"socketpair", Match::arg_ne, 0, 0, AF_UNIX, EPERM});
    } else if (!network && container) {
        rules.push_back(deny("socket"));
        rules.push_back({"socketpair", Match::arg_ne, 0, 0, AF_UNIX, EPERM});
    } else if (!network) {
        rules.push_back({"socket", Match::arg_ne, 0, 0, AF_UNIX, EPERM});
        rules.push_back({"socketpair", Match::arg_ne, 0, 0, AF_UNIX, EPERM});
    }
    return rules;
}

std::vector<sock_filter> compile_seccomp(const std::vector<SeccompRule>& rules) {
    std::unique_ptr<void, FilterDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
    if (!ctx) throw std::runtime_error("seccomp_init failed");
    // a syscall from a foreign ABI (int 0x80, x32) kills the process instead of bypassing
    if (seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0)
        throw std::runtime_error("seccomp_attr_set(SCMP_FLTATR_ACT_BADARCH) failed");
    if (seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0) != 0)
        throw std::runtime_error("seccomp_attr_set(SCMP_FLTATR_CTL_NNP) failed");
    for (const SeccompRule& rule : rules) add_rule(ctx.get(), rule);
    const int fd = ::memfd_create("gossamer-seccomp", MFD_CLOEXEC);
    if (fd < 0) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
    std::vector<sock_filter> program;
    const int rc = seccomp_export_bpf(ctx.get(), fd);
    const off_t size = ::lseek(fd, 0, SEEK_END);
    if (rc == 0 && size > 0 && size % static_cast<off_t>(sizeof(sock_filter)) == 0) {
        program.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
        if (::pread(fd, program.data(), static_cast<std::size_t>(size), 0) != size) program.clear();
    }
    ::close(fd);
    if (program.empty()) throw std::runtime_error("seccomp_export_bpf failed");
    return program;
}

int install_seccomp(const std::vector<sock_filter>& program) {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(program.size());
    prog.filter = const_cast<sock_filter*>(program.data());
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) return errno;
    return 0;
}

}  // namespace gossamer::sandbox
