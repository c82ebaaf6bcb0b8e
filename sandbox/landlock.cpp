// Landlock through raw syscalls (landlock.h). Debian 12's <linux/landlock.h> stops at ABI 2,
// so the later rights are defined here from the kernel's uapi values.
#include "sandbox/landlock.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace gossamer::sandbox {
namespace {

constexpr std::uint64_t kFsExecute = 1ull << 0;
constexpr std::uint64_t kFsWriteFile = 1ull << 1;
constexpr std::uint64_t kFsReadFile = 1ull << 2;
constexpr std::uint64_t kFsReadDir = 1ull << 3;
constexpr std::uint64_t kFsAbi1 = (1ull << 13) - 1;      // EXECUTE .. MAKE_SYM
constexpr std::uint64_t kFsRefer = 1ull << 13;           // ABI 2
constexpr std::uint64_t kFsTruncate = 1ull << 14;        // ABI 3
constexpr std::uint64_t kFsIoctlDev = 1ull << 15;        // ABI 5
constexpr std::uint64_t kNetBindTcp = 1ull << 0;         // ABI 4
constexpr std::uint64_t kNetConnectTcp = 1ull << 1;      // ABI 4
constexpr std::uint64_t kScopeAbstractUnix = 1ull << 0;  // ABI 6
constexpr std::uint64_t kScopeSignal = 1ull << 1;        // ABI 6
constexpr unsigned kRulePathBeneath = 1;                 // LANDLOCK_RULE_PATH_BENEATH
constexpr unsigned kRuleNetPort = 2;                     // LANDLOCK_RULE_NET_PORT
constexpr std::uint16_t kProxyPort = 3128;               // EgressProxy::kPort

struct NetPortAttr {
    std::uint64_t allowed_access;
    std::uint64_t port;
} __attribute__((packed));
// What a rule on a file may grant (the kernel refuses directory rights there).
constexpr std::uint64_t kFsFileRights = kFsExecute | kFsWriteFile | kFsReadFile | kFsTruncate |
                                        kFsIoctlDev;  // LANDLOCK_RULE_PATH_BENEATH

// The ruleset attribute as of ABI 6; the kernel accepts a prefix of it for older ABIs.
struct RulesetAttr {
    std::uint64_t handled_access_fs;
    std::uint64_t handled_access_net;
    std::uint64_t scoped;
};

struct PathBeneathAttr {
    std::uint64_t allowed_access;
    std::int32_t parent_fd;
} __attribute__((packed));

std::uint64_t fs_rights(int abi) {
    std::uint64_t rights = kFsAbi1;
    if (abi >= 2) rights |= kFsRefer;
    if (abi >= 3) rights |= kFsTruncate;
    if (abi >= 5) rights |= kFsIoctlDev;
    return rights;
}

bool fail(ChildReport& error, const char* what, const char* path) {
    error = make_report(ReportKind::setup_failed, 0, errno, what, path);
    return false;
}

}  // namespace

int landlock_abi() {
    const long abi =
        ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : static_cast<int>(abi);
}

LandlockPlan build_landlock_plan(const Policy& policy, int abi) {
    LandlockPlan plan;
    if (abi <= 0) return plan;
    plan.abi = abi;
    plan.handled_fs = fs_rights(abi);
    if (abi >= 4 && !policy.network) plan.handled_net = kNetBindTcp | kNetConnectTcp;
    if (abi >= 4 && proxied_network(policy)) plan.connect_ports = {kProxyPort};
    if (abi >= 6) plan.scoped = kScopeAbstractUnix | kScopeSignal;
    const std::uint64_t read = kFsExecute | kFsReadFile | kFsReadDir;
    const std::uint64_t all = plan.handled_fs;
    plan.rules.push_back({"/", read});
    plan.rules.push_back({"/proc", read | kFsWriteFile});  // /proc/self/* writes are per-process
    for (const char* node : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"})
        plan.rules.push_back({node, kFsReadFile | kFsWriteFile | (abi >= 3 ? kFsTruncate : 0)});
    plan.rules.push_back({"/tmp", all});
    plan.rules.push_back({"/dev/shm", all});
    if (!policy.workspace_host.empty()) plan.rules.push_back({policy.workspace_path, all});
    return plan;
}

LandlockPlan build_container_landlock_plan(const Policy& policy, int abi,
                                           const std::string& private_tmp) {
    LandlockPlan plan;
    if (abi <= 0) return plan;
    plan.abi = abi;
    plan.handled_fs = fs_rights(abi);
    if (abi >= 4 && !policy.network) plan.handled_net = kNetBindTcp | kNetConnectTcp;
    if (abi >= 6) plan.scoped = kScopeAbstractUnix | kScopeSignal;
    const std::uint64_t read = kFsExecute | kFsReadFile | kFsReadDir;
    for (const Bind& bind : policy.read_only_binds) plan.rules.push_back({bind.host_path, read});
    for (const char* node : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"})
        plan.rules.push_back({node, kFsReadFile | kFsWriteFile | (abi >= 3 ? kFsTruncate : 0)});
    if (!private_tmp.empty()) plan.rules.push_back({private_tmp, plan.handled_fs});
    if (!policy.workspace_host.empty())
        plan.rules.push_back({policy.workspace_host, plan.handled_fs});
    return plan;
}

bool apply_landlock(const LandlockPlan& plan, ChildReport& error) {
    if (plan.abi <= 0) return true;
    RulesetAttr attr{plan.handled_fs, plan.handled_net, plan.scoped};
    const std::size_t size = plan.abi >= 6   ? sizeof attr
                             : plan.abi >= 4 ? 2 * sizeof(std::uint64_t)
                                             : sizeof(std::uint64_t);
    const long ruleset = ::syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (ruleset < 0) return fail(error, "landlock_create_ruleset", "");
    const int ruleset_fd = static_cast<int>(ruleset);
    for (const LandlockRule& rule : plan.rules) {
        const int fd = ::open(rule.path.c_str(), O_PATH | O_CLOEXEC);
        if (fd < 0) continue;  // e.g. no workspace: nothing to grant
        struct stat st {};
        std::uint64_t access = rule.access & plan.handled_fs;
        if (::fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) access &= kFsFileRights;
        PathBeneathAttr beneath{access, fd};
        const long rc = ::syscall(SYS_landlock_add_rule, ruleset_fd, kRulePathBeneath, &beneath, 0);
        const int saved = errno;
        ::close(fd);
        if (rc != 0) {
            errno = saved;
            ::close(ruleset_fd);
            return fail(error, "landlock_add_rule", rule.path.c_str());
        }
    }
    for (const std::uint16_t port : plan.connect_ports) {
        NetPortAttr net{kNetConnectTcp & plan.handled_net, port};
        if (::syscall(SYS_landlock_add_rule, ruleset_fd, kRuleNetPort, &net, 0) != 0) {
            const int saved = errno;
            ::close(ruleset_fd);
            errno = saved;
            return fail(error, "landlock_add_rule", "net port");
        }
    }
    const long rc = ::syscall(SYS_landlock_restrict_self, ruleset_fd, 0);
    const int saved = errno;
    ::close(ruleset_fd);
    errno = saved;
    if (rc != 0) return fail(error, "landlock_restrict_self", "");
    return true;
}

}  // namespace gossamer::sandbox
