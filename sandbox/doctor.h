// `gossamer doctor`: which isolation layers work on this machine, found by trying each one
// in a short-lived child (never by reading version numbers alone), ending with a real
// sandboxed run of /bin/true. Also used by the launcher to name the layer missing when
// clone fails. Parent side; forks children, so call it from a command or a test, not from
// a hot path.
#pragma once

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>
#include <vector>

#include "sandbox/host_situation.h"
#include "sandbox/layers.h"
#include "sandbox/policy.h"

namespace gossamer::sandbox {

// Runs `body` in a child made with `flags`; returns 0 when the clone worked and the body
// returned 0, else the errno of the clone or the body's result.
template <typename Body>
int probe_in_child(unsigned long flags, Body body) {
    const long pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) return errno;
    if (pid == 0) ::_exit(body());
    int status = 0;
    while (::waitpid(static_cast<pid_t>(pid), &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return EFAULT;
}

struct NamespaceProbe {
    Layer layer;
    bool ok = false;
    std::string detail;  // the call tried and its errno on failure
};
// user namespace alone, then each other namespace inside a user namespace (as root where
// user namespaces are denied: each namespace made as real root, which mode root uses).
std::vector<NamespaceProbe> probe_namespaces();

struct LayerStatus {
    Layer layer;
    bool ok = false;
    std::string detail;
};

struct DoctorReport {
    std::vector<LayerStatus> layers;
    int landlock_abi = 0;
    std::string cgroup_version;  // "v1", "v2", "hybrid", "none"
    bool pivot_root = false;     // the whole filesystem setup (tmpfs, binds, pivot_root)
    std::string pivot_root_detail;
    bool end_to_end = false;  // /bin/true ran in the default sandbox
    std::string end_to_end_detail;
    std::string kernel;  // uname -r
    // Why user namespaces fail here, with the fix for this machine (host_situation.h);
    // empty when they work.
    std::vector<Situation> situations;
    // Each sandbox mode tried with /bin/true (root only as root), and what `auto` takes here.
    struct ModeStatus {
        Mode mode;
        bool ok = false;
        std::string detail;
    };
    std::vector<ModeStatus> modes;
    Mode automatic = Mode::user_namespace;
};

DoctorReport run_doctor();

// A terminal table, one layer per line with its fix hint when missing.
std::string doctor_text(const DoctorReport& report);
// One JSON object: {"kernel", "landlock_abi", "cgroup_version", "layers": {name: {ok, detail,
// fix}}, "pivot_root": {...}, "end_to_end": {...}}.
std::string doctor_json(const DoctorReport& report);

}  // namespace gossamer::sandbox
