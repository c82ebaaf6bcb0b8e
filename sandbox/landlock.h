// Landlock, the second fence on the filesystem: after the mounts, the sandbox restricts
// itself so that even a mount it can somehow reach again is read-only unless it is the
// workspace, /tmp or /dev/shm. Raw syscalls (no library). landlock_abi() probes; the parent
// prepares a LandlockPlan (pure), the child applies it (no allocation).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/child_report.h"
#include "sandbox/policy.h"

namespace gossamer::sandbox {

// The kernel's Landlock ABI version, 0 when Landlock is unavailable (ENOSYS, EOPNOTSUPP).
int landlock_abi();

struct LandlockRule {
    std::string path;      // inside the sandbox (after the pivot)
    std::uint64_t access;  // LANDLOCK_ACCESS_FS_* rights granted beneath it
    bool operator==(const LandlockRule&) const = default;
};

struct LandlockPlan {
    int abi = 0;                    // 0: do not apply
    std::uint64_t handled_fs = 0;   // every right this ABI knows: all denied unless granted
    std::uint64_t handled_net = 0;  // ABI >= 4 and no network: all TCP bind/connect denied
    std::uint64_t scoped = 0;       // ABI >= 6: abstract unix sockets and signals scoped
    std::vector<std::uint16_t> connect_ports;  // ABI >= 4, no network: TCP connect allowed here
    std::vector<LandlockRule> rules;
    bool operator==(const LandlockPlan&) const = default;
};

// Read and execute beneath the read-only binds and /; read-write beneath the workspace,
// /tmp, /dev/shm and the writable device nodes. With a domain allowlist, TCP connect only to
// the proxy's port.
LandlockPlan build_landlock_plan(const Policy& policy, int abi);

// Container mode (no mount namespace, host paths): read and execute beneath each read-only
// bind's host path only (no /, no /proc: other processes' files stay closed), read-write
// beneath the workspace and the run's private tmp, the usual device nodes.
LandlockPlan build_container_landlock_plan(const Policy& policy, int abi,
                                           const std::string& private_tmp);

// Applies the plan to the calling thread (needs PR_SET_NO_NEW_PRIVS). Paths that do not
// exist are skipped; a rule on a file keeps only the rights a file can have. Returns false and
// fills `error` on failure.
bool apply_landlock(const LandlockPlan& plan, ChildReport& error);

}  // namespace gossamer::sandbox
