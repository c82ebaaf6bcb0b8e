// Layer probes and their two renderings (doctor.h). Each probe runs in a child created by a
// raw clone, so a failing or dangerous step never touches this process.
#include "sandbox/doctor.h"

#include <sched.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <nlohmann/json.hpp>

#include "sandbox/cgroups.h"
#include "sandbox/landlock.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp_filter.h"

namespace gossamer::sandbox {
namespace {

std::string failure(const char* call, int err) {
    return std::string(call) + ": " + std::strerror(err);
}

LayerStatus probe_seccomp() {
    std::vector<sock_filter> program;
    try {
        program = compile_seccomp(seccomp_rules(false));
    } catch (const std::exception& e) {
        return {Layer::seccomp, false, e.what()};
    }
    const int rc = probe_in_child(0, [&] {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 10;
        if (install_seccomp(program) != 0) return 11;
        // ptrace must now fail with EPERM
        return ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) == -1 && errno == EPERM ? 0 : 12;
    });
    if (rc == 0)
        return {Layer::seccomp, true,
                "filter of " + std::to_string(program.size()) + " BPF instructions installs"};
    return {Layer::seccomp, false,
            rc == 11 ? "prctl(PR_SET_SECCOMP) failed"
                     : "filter did not deny ptrace (" + std::to_string(rc) + ")"};
}

LayerStatus probe_landlock(int abi) {
    if (abi <= 0) return {Layer::landlock, false, "landlock_create_ruleset: not supported"};
    Policy policy;
    const LandlockPlan plan = build_landlock_plan(policy, abi);
    const int rc = probe_in_child(0, [&] {
        ChildReport error;
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 10;
        return apply_landlock(plan, error) ? 0 : 11;
    });
    return {Layer::landlock, rc == 0,
            rc == 0 ? "ABI " + std::to_string(abi) + ", restrict_self works"
                    : "landlock_restrict_self failed with ABI " + std::to_string(abi)};
}

LayerStatus probe_rlimits() {
    const int rc = probe_in_child(0, [] {
        rlimit core{0, 0};
        return ::setrlimit(RLIMIT_CORE, &core) == 0 ? 0 : errno;
    });
    return {Layer::rlimits, rc == 0, rc == 0 ? "setrlimit works" : failure("setrlimit", rc)};
}

void probe_modes(DoctorReport& report) {
    Policy policy = default_policy();
    policy.limits.wall_ms = 10'000;
    policy.required.clear();
    report.automatic = effective_mode(policy);
    for (Mode mode : {Mode::user_namespace, Mode::root_namespace, Mode::container}) {
        if (mode == Mode::root_namespace && ::geteuid() != 0) {
            report.modes.push_back({mode, false, "needs root"});
            continue;
        }
        policy.mode = mode;
        const SandboxResult result = run(policy, LaunchRequest{{"true"}, "", false});
        const bool ok = result.stop == StopReason::exited && result.exit_code == 0;
        report.modes.push_back({mode, ok, ok ? "/bin/true ran" : result.report});
    }
}

void probe_end_to_end(DoctorReport& report) {
    Policy policy = default_policy();
    policy.limits.wall_ms = 10'000;
    policy.required.clear();  // see what works rather than refuse
    const SandboxResult result = run(policy, LaunchRequest{{"true"}, "", false});
    report.end_to_end = result.stop == StopReason::exited && result.exit_code == 0;
    report.end_to_end_detail = result.report;
    report.pivot_root =
        result.stop != StopReason::setup_failed && result.stop != StopReason::refused;
    report.pivot_root_detail =
        report.pivot_root ? "tmpfs root, binds, pivot_root and /proc work" : result.report;
}

}  // namespace

std::vector<NamespaceProbe> probe_namespaces() {
    std::vector<NamespaceProbe> probes;
    const int user = probe_in_child(CLONE_NEWUSER, [] { return 0; });
    probes.push_back(
        {Layer::user_ns, user == 0,
         user == 0 ? "clone(CLONE_NEWUSER) works" : failure("clone(CLONE_NEWUSER)", user)});
    const std::pair<Layer, std::pair<unsigned long, const char*>> others[] = {
        {Layer::pid_ns, {CLONE_NEWPID, "CLONE_NEWPID"}},
        {Layer::mount_ns, {CLONE_NEWNS, "CLONE_NEWNS"}},
        {Layer::net_ns, {CLONE_NEWNET, "CLONE_NEWNET"}},
        {Layer::ipc_ns, {CLONE_NEWIPC, "CLONE_NEWIPC"}},
        {Layer::uts_ns, {CLONE_NEWUTS, "CLONE_NEWUTS"}},
        {Layer::cgroup_ns, {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"}},
    };
    for (const auto& [layer, flag] : others) {
        const std::string call = std::string("clone(CLONE_NEWUSER|") + flag.second + ")";
        if (user != 0 && ::geteuid() == 0) {
            const std::string as_root = std::string("clone(") + flag.second + ") as root";
            const int rc = probe_in_child(flag.first, [] { return 0; });
            probes.push_back(
                {layer, rc == 0,
                 rc == 0 ? as_root + " works (sandbox mode root)" : failure(as_root.c_str(), rc)});
            continue;
        }
        if (user != 0) {
            probes.push_back(
                {layer, false, "needs a user namespace (" + failure("clone", user) + ")"});
            continue;
        }
        const int rc = probe_in_child(CLONE_NEWUSER | flag.first, [] { return 0; });
        probes.push_back({layer, rc == 0, rc == 0 ? call + " works" : failure(call.c_str(), rc)});
    }
    return probes;
}

DoctorReport run_doctor() {
    DoctorReport report;
    utsname uts{};
    if (::uname(&uts) == 0) report.kernel = uts.release;
    for (const NamespaceProbe& probe : probe_namespaces())
        report.layers.push_back({probe.layer, probe.ok, probe.detail});
    report.layers.push_back(probe_seccomp());
    report.landlock_abi = landlock_abi();
    report.layers.push_back(probe_landlock(report.landlock_abi));
    const CgroupProbe cgroups = probe_cgroups();
    report.cgroup_version = cgroups.version;
    report.layers.push_back({Layer::cgroup_memory, cgroups.memory, cgroups.detail});
    report.layers.push_back({Layer::cgroup_pids, cgroups.pids, cgroups.detail});
    report.layers.push_back(probe_rlimits());
    probe_end_to_end(report);
    probe_modes(report);
    for (const auto& s : report.layers)
        if (s.layer == Layer::user_ns && !s.ok) report.situations = diagnose(read_host_facts());
    return report;
}

std::string doctor_text(const DoctorReport& report) {
    std::string out = "kernel " + report.kernel + ", landlock ABI " +
                      std::to_string(report.landlock_abi) + ", cgroups " + report.cgroup_version +
                      "\n";
    for (const LayerStatus& s : report.layers) {
        out += std::string(s.ok ? "  ok       " : "  MISSING  ") + std::string(layer_name(s.layer));
        out += std::string(16 - std::min<std::size_t>(15, layer_name(s.layer).size()), ' ');
        out += s.detail + "\n";
        if (!s.ok) out += "           fix: " + std::string(layer_fix_hint(s.layer)) + "\n";
    }
    out += std::string(report.pivot_root ? "  ok       " : "  MISSING  ") + "filesystem      " +
           report.pivot_root_detail + "\n";
    out += std::string(report.end_to_end ? "  ok       " : "  FAILED   ") + "end-to-end      " +
           "/bin/true in the default sandbox: " + report.end_to_end_detail + "\n";
    out += "\nSandbox modes (spec `sandbox: {mode: ...}`, docs/SECURITY.md); auto takes " +
           std::string(mode_name(report.automatic)) + " here:\n";
    for (const auto& m : report.modes) {
        const std::string name(mode_name(m.mode));
        out += std::string(m.ok ? "  ok       " : "  no       ") + name +
               std::string(16 - std::min<std::size_t>(15, name.size()), ' ') +
               m.detail.substr(0, m.detail.find(". ")) + "\n";
    }
    out += "  container mode: " + std::string(mode_caveats(Mode::container)) + "\n";
    if (!report.situations.empty()) out += "\nWhy user namespaces fail here:\n";
    for (const auto& s : report.situations) out += "  - " + s.what + "\n    fix: " + s.fix + "\n";
    if (!report.situations.empty() && report.automatic == Mode::root_namespace)
        out +=
            "  (as root the sandbox still works: auto makes the namespaces as real root, and "
            "the tools run as uid " +
            std::to_string(default_policy().root_host_uid) + ")\n";
    return out;
}

std::string doctor_json(const DoctorReport& report) {
    nlohmann::ordered_json root;
    root["kernel"] = report.kernel;
    root["landlock_abi"] = report.landlock_abi;
    root["cgroup_version"] = report.cgroup_version;
    root["layers"] = nlohmann::ordered_json::object();
    for (const LayerStatus& s : report.layers) {
        nlohmann::ordered_json entry = {{"ok", s.ok}, {"detail", s.detail}};
        if (!s.ok) entry["fix"] = std::string(layer_fix_hint(s.layer));
        root["layers"][std::string(layer_name(s.layer))] = entry;
    }
    root["filesystem"] = {{"ok", report.pivot_root}, {"detail", report.pivot_root_detail}};
    root["end_to_end"] = {{"ok", report.end_to_end}, {"detail", report.end_to_end_detail}};
    root["mode"] = std::string(mode_name(report.automatic));
    root["modes"] = nlohmann::ordered_json::object();
    for (const auto& m : report.modes) {
        nlohmann::ordered_json entry = {{"ok", m.ok}, {"detail", m.detail}};
        if (!mode_caveats(m.mode).empty())
            entry["not_isolated"] = std::string(mode_caveats(m.mode));
        root["modes"][std::string(mode_name(m.mode))] = entry;
    }
    root["situation"] = nlohmann::ordered_json::array();
    for (const auto& s : report.situations)
        root["situation"].push_back({{"what", s.what}, {"fix", s.fix}});
    return root.dump(2);
}

}  // namespace gossamer::sandbox
