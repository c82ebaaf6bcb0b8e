// The seccomp deny list, as data (seccomp_rules: pure, tested by value) and as a compiled BPF
// program (compile_seccomp: libseccomp, in the parent). The child only installs the finished
// program (install_seccomp: one prctl, no allocation). Default action: allow; every rule
// returns an errno (EPERM, or ENOSYS for clone3 so libc falls back to clone, whose flags we
// can inspect). Foreign architectures (i386 via int 0x80, x32) are killed by the arch check.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gossamer::sandbox {

struct SeccompRule {
    enum class Match {
        always,         // any call of this syscall
        arg_masked_eq,  // (arg[index] & mask) == value
        arg_ne,         // arg[index] != value (64-bit compare)
    };
    std::string syscall;
    Match match = Match::always;
    unsigned arg_index = 0;
    std::uint64_t mask = 0;
    std::uint64_t value = 0;
    int errno_value = 1;  // EPERM

    bool operator==(const SeccompRule&) const = default;
};

// The deny list; with `network` false, socket() and socketpair() of any family other than
// AF_UNIX are denied too.
// `container` (Mode::container, no namespaces around the sandbox): also setsid and setpgid
// (the process group is how the whole tree is killed) and, without network, every socket()
// (no network namespace: an AF_UNIX socket could reach the host's daemons by path).
// `proxied` (network off but a domain allowlist: the network namespace holds only loopback and
// the proxy): IPv4/IPv6 stream and datagram sockets are allowed, raw and packet sockets (and
// every family but unix, inet and inet6) stay denied.
std::vector<SeccompRule> seccomp_rules(bool network, bool container = false, bool proxied = false);

// Compiles rules for the native architecture; throws std::runtime_error naming the rule.
std::vector<sock_filter> compile_seccomp(const std::vector<SeccompRule>& rules);

// Installs a compiled program on the calling thread; returns 0 or an errno.
// Needs PR_SET_NO_NEW_PRIVS first. Safe after clone (no allocation).
int install_seccomp(const std::vector<sock_filter>& program);

}  // namespace gossamer::sandbox
