// Per-run cgroups, v2 or v1 (cgroups.h).
#include "sandbox/cgroups.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace gossamer::sandbox {
namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

bool write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    out.flush();
    return static_cast<bool>(out);
}

// The value after "key " in a "key value" per line file (memory.events, pids.events).
std::uint64_t read_counter(const std::string& path, const std::string& key) {
    std::istringstream in(read_text(path));
    std::string name;
    std::uint64_t value = 0;
    while (in >> name >> value)
        if (name == key) return value;
    return 0;
}

struct Mount {
    std::string point;
    std::string fstype;
    std::string options;  // super options: the v1 controllers
};

std::vector<Mount> cgroup_mounts() {
    std::vector<Mount> mounts;
    std::istringstream in(read_text("/proc/self/mountinfo"));
    std::string line;
    while (std::getline(in, line)) {
        const auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream left(line.substr(0, dash)), right(line.substr(dash + 3));
        std::string id, parent, devno, root, point, fstype, source, options;
        left >> id >> parent >> devno >> root >> point;
        right >> fstype >> source >> options;
        if (fstype == "cgroup" || fstype == "cgroup2") mounts.push_back({point, fstype, options});
    }
    return mounts;
}

// "4:memory:/a/b" lines: the path of our cgroup for a v1 controller, or for v2 ("0::").
std::string own_path(const std::string& controller) {
    std::istringstream in(read_text("/proc/self/cgroup"));
    std::string line;
    while (std::getline(in, line)) {
        const auto first = line.find(':'), second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        const std::string list = line.substr(first + 1, second - first - 1);
        const std::string path = line.substr(second + 1);
        if (controller.empty()
                ? list.empty()
                : ("," + list + ",").find("," + controller + ",") != std::string::npos)
            return path;
    }
    return "";
}

bool has_option(const std::string& options, const std::string& name) {
    return ("," + options + ",").find("," + name + ",") != std::string::npos;
}

std::string unique_name() {
    static std::atomic<unsigned> counter{0};
    return "gossamer-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

}  // namespace

CgroupLayout detect_cgroups() {
    // Read once per process: the hierarchy and our place in it do not move under us.
    static const CgroupLayout cached = [] {
        CgroupLayout layout = read_cgroup_layout();
        for (const std::string& dir : {layout.v2_dir, layout.v1_memory, layout.v1_pids})
            if (!dir.empty()) remove_stale_cgroups(dir);
        return layout;
    }();
    return cached;
}

// Run cgroups left by a gossamer process that died (SIGKILL, crash): "gossamer-PID-N" whose
// PID is gone. rmdir only removes empty cgroups, so a live one is never touched.
void remove_stale_cgroups(const std::string& parent) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("gossamer-", 0) != 0) continue;
        const std::string pid = name.substr(9, name.find('-', 9) - 9);
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
        if (!std::filesystem::exists("/proc/" + pid, ec)) ::rmdir(entry.path().c_str());
    }
}

CgroupLayout read_cgroup_layout() {
    CgroupLayout layout;
    for (const Mount& m : cgroup_mounts()) {
        if (m.fstype == "cgroup2" && layout.v2_dir.empty()) {
            const std::string path = own_path("");
            layout.v2_dir = path == "/" ? m.point : m.point + path;
        } else if (m.fstype == "cgroup" && has_option(m.options, "memory")) {
            const std::string path = own_path("memory");
            layout.v1_memory = path == "/" ? m.point : m.point + path;
        } else if (m.fstype == "cgroup" && has_option(m.options, "pids")) {
            const std::string path = own_path("pids");
            layout.v1_pids = path == "/" ? m.point : m.point + path;
        }
    }
    return layout;
}

RunCgroups::~RunCgroups() {
    remove();
}

void RunCgroups::create(const CgroupLayout& layout, const Limits& limits, bool v1_pids) {
    const std::string name = unique_name();
    if (!layout.v2_dir.empty()) create_v2(layout.v2_dir + "/" + name, layout.v2_dir, limits);
    if (!memory_limited_ && !layout.v1_memory.empty() && limits.memory_bytes &&
        ::mkdir((layout.v1_memory + "/" + name).c_str(), 0755) == 0) {
        dirs_.push_back(layout.v1_memory + "/" + name);
        limit_v1_memory(dirs_.back(), limits);
    }
    if (v1_pids && !pids_limited_ && !layout.v1_pids.empty() && limits.pids &&
        ::mkdir((layout.v1_pids + "/" + name).c_str(), 0755) == 0) {
        dirs_.push_back(layout.v1_pids + "/" + name);
        limit_v1_pids(dirs_.back(), limits);
    }
    if (limits.memory_bytes && !memory_limited_)
        notes_.push_back("no writable memory cgroup: memory limited by RLIMIT_AS only");
}

bool RunCgroups::prepare_v1(const CgroupLayout& layout, bool v1_pids) {
    const std::string name = unique_name();
    if (layout.v1_memory.empty() || (v1_pids && layout.v1_pids.empty())) return false;
    if (::mkdir((layout.v1_memory + "/" + name).c_str(), 0755) != 0) return false;
    v1_memory_dir_ = layout.v1_memory + "/" + name;
    dirs_.push_back(v1_memory_dir_);
    if (!v1_pids) return true;
    if (::mkdir((layout.v1_pids + "/" + name).c_str(), 0755) != 0) return false;
    v1_pids_dir_ = layout.v1_pids + "/" + name;
    dirs_.push_back(v1_pids_dir_);
    return true;
}

void RunCgroups::apply_limits(const Limits& limits) {
    if (!v1_memory_dir_.empty() && limits.memory_bytes) limit_v1_memory(v1_memory_dir_, limits);
    if (!v1_pids_dir_.empty() && limits.pids) limit_v1_pids(v1_pids_dir_, limits);
    if (limits.memory_bytes && !memory_limited_)
        notes_.push_back("no writable memory cgroup: memory limited by RLIMIT_AS only");
}

bool v2_usable(const CgroupLayout& layout) {
    if (layout.v2_dir.empty()) return false;
    std::istringstream words(read_text(layout.v2_dir + "/cgroup.subtree_control"));
    for (std::string w; words >> w;)
        if (w == "memory" || w == "pids") return true;
    return false;
}

// v2: usable when our cgroup delegates memory/pids to its children (both in one directory,
// so one move, or none with clone3(CLONE_INTO_CGROUP)).
void RunCgroups::create_v2(const std::string& dir, const std::string& parent,
                           const Limits& limits) {
    std::istringstream words(read_text(parent + "/cgroup.subtree_control"));
    bool memory = false, pids = false;
    for (std::string w; words >> w;) memory |= w == "memory", pids |= w == "pids";
    if (!(memory || pids) || ::mkdir(dir.c_str(), 0755) != 0) return;
    dirs_.push_back(dir);
    v2_ = true;
    if (memory && limits.memory_bytes &&
        write_text(dir + "/memory.max", std::to_string(limits.memory_bytes))) {
        write_text(dir + "/memory.swap.max", "0");
        memory_dir_ = dir, memory_limited_ = true, memory_v2_ = true;
    }
    if (pids && limits.pids && write_text(dir + "/pids.max", std::to_string(limits.pids + 1)))
        pids_dir_ = dir, pids_limited_ = true;
}

void RunCgroups::limit_v1_memory(const std::string& dir, const Limits& limits) {
    if (!write_text(dir + "/memory.limit_in_bytes", std::to_string(limits.memory_bytes))) return;
    write_text(dir + "/memory.memsw.limit_in_bytes", std::to_string(limits.memory_bytes));
    memory_dir_ = dir, memory_limited_ = true;
}

void RunCgroups::limit_v1_pids(const std::string& dir, const Limits& limits) {
    if (write_text(dir + "/pids.max", std::to_string(limits.pids + 1)))
        pids_dir_ = dir, pids_limited_ = true;
}

bool RunCgroups::attach(pid_t pid) {
    bool ok = true;
    // A move costs an RCU grace period in the kernel (~5-10 ms on this v1 host when moves
    // are rare): the launch pool and clone3(CLONE_INTO_CGROUP) keep it off the launch path.
    for (const std::string& dir : dirs_)
        ok &= write_text(dir + "/cgroup.procs", std::to_string(pid));
    return ok;
}

bool RunCgroups::holds(pid_t pid) const {
    if (dirs_.empty()) return false;
    // One line per hierarchy, "4:memory:/.../gossamer-PID-N": each of our directories ends
    // in the run's unique name, so as many lines must end in it as we made directories.
    const std::string name = dirs_.front().substr(dirs_.front().rfind('/'));
    std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/cgroup"));
    std::size_t found = 0;
    for (std::string line; std::getline(in, line);)
        found += line.size() >= name.size() &&
                 line.compare(line.size() - name.size(), name.size(), name) == 0;
    return found == dirs_.size();
}

int RunCgroups::open_v2() const {
    if (!v2_ || dirs_.size() != 1) return -1;
    return ::open(dirs_.front().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

void RunCgroups::kill_all() {
    if (v2_)
        for (const std::string& dir : dirs_) write_text(dir + "/cgroup.kill", "1");
}

std::uint64_t RunCgroups::oom_kills() const {
    if (memory_dir_.empty()) return 0;
    return memory_v2_ ? read_counter(memory_dir_ + "/memory.events", "oom_kill")
                      : read_counter(memory_dir_ + "/memory.oom_control", "oom_kill");
}

std::uint64_t RunCgroups::pids_refused() const {
    if (pids_dir_.empty()) return 0;
    return read_counter(pids_dir_ + "/pids.events", "max");
}

void RunCgroups::remove() {
    for (const std::string& dir : dirs_) {
        for (int attempt = 0; attempt < 200; ++attempt) {
            if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    dirs_.clear();
}

CgroupProbe probe_cgroups() {
    CgroupProbe probe;
    const CgroupLayout layout = detect_cgroups();
    const bool v1 = !layout.v1_memory.empty() || !layout.v1_pids.empty();
    probe.version = !layout.v2_dir.empty() ? (v1 ? "hybrid" : "v2") : (v1 ? "v1" : "none");
    RunCgroups run;
    Limits limits;
    limits.memory_bytes = 64ull << 20;
    limits.pids = 16;
    run.create(layout, limits, true);
    probe.memory = run.memory_limited();
    probe.pids = run.pids_limited();
    std::string detail;
    if (!layout.v2_dir.empty()) detail += "v2 at " + layout.v2_dir + "; ";
    if (!layout.v1_memory.empty()) detail += "v1 memory at " + layout.v1_memory + "; ";
    if (!layout.v1_pids.empty()) detail += "v1 pids at " + layout.v1_pids + "; ";
    for (const auto& note : run.notes()) detail += note + "; ";
    probe.detail =
        detail.empty() ? "no cgroup hierarchy mounted" : detail.substr(0, detail.size() - 2);
    return probe;
}

}  // namespace gossamer::sandbox
