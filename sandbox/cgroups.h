// Per-run cgroups where this process may create them: cgroup v2 (a child of our own cgroup,
// memory.max / memory.swap.max / pids.max) or the v1 memory and pids hierarchies. Best
// effort: what could not be set is reported (doctor, the run's notes) and rlimits remain.
// Parent side only (allocates, reads files). The sandbox gets into its cgroups in one of
// three ways (launcher.cpp): born there (v2: clone3 with CLONE_INTO_CGROUP and open_v2()),
// cloned by a launcher already moved there ahead of time (v1: launch_pool.h, prepare_v1()
// then apply_limits()), or moved there by pid before it starts (attach(): the slow path).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/policy.h"

namespace gossamer::sandbox {

// Where the controllers live for this process (from /proc/self/mountinfo and /proc/self/cgroup).
struct CgroupLayout {
    std::string v2_dir;     // our own cgroup in the unified hierarchy ("" when none)
    std::string v1_memory;  // our own cgroup in the v1 memory hierarchy ("" when none)
    std::string v1_pids;    // our own cgroup in the v1 pids hierarchy ("" when none)
};
CgroupLayout detect_cgroups();      // cached after the first call
CgroupLayout read_cgroup_layout();  // reads the files every time
void remove_stale_cgroups(const std::string& parent);
// Whether runs get a v2 cgroup under `layout` (our v2 cgroup delegates memory or pids).
bool v2_usable(const CgroupLayout& layout);

// One run's cgroups: created with the limits, the child attached, events read, removed.
class RunCgroups {
  public:
    RunCgroups() = default;
    RunCgroups(const RunCgroups&) = delete;
    RunCgroups& operator=(const RunCgroups&) = delete;
    ~RunCgroups();

    // Creates the run's cgroups under `layout` and writes the limits; never throws. A v1
    // pids cgroup is a second (slow) move and RLIMIT_NPROC already caps each sandbox (it
    // counts per user namespace), so it is made only when `v1_pids` asks for it.
    void create(const CgroupLayout& layout, const Limits& limits, bool v1_pids);
    // For the launch pool: creates the v1 memory cgroup (and the v1 pids one when asked)
    // without limits; true when every one was made. apply_limits() writes them later.
    bool prepare_v1(const CgroupLayout& layout, bool v1_pids);
    // Writes the run's limits into cgroups made by prepare_v1 (fast: no process moves).
    void apply_limits(const Limits& limits);
    // Moves `pid` (before it forks anything) into every cgroup created; false if one failed.
    bool attach(pid_t pid);
    // Whether `pid` is in every one of these cgroups (read from /proc/PID/cgroup).
    bool holds(pid_t pid) const;
    // The run's only cgroup is a v2 directory: a new O_DIRECTORY descriptor of it for
    // clone3(CLONE_INTO_CGROUP), which the caller closes; -1 otherwise.
    int open_v2() const;
    bool created() const { return !dirs_.empty(); }
    const std::vector<std::string>& dirs() const { return dirs_; }
    // Kills every process in the cgroups (cgroup.kill on v2, else nothing: the pid namespace
    // does it). Safe to call twice.
    void kill_all();
    // Reads the counters: OOM kills and refused forks since creation.
    std::uint64_t oom_kills() const;
    std::uint64_t pids_refused() const;
    // Removes the cgroups (retrying while the last processes exit).
    void remove();

    bool memory_limited() const { return memory_limited_; }
    bool pids_limited() const { return pids_limited_; }
    const std::vector<std::string>& notes() const { return notes_; }

  private:
    void create_v2(const std::string& dir, const std::string& parent, const Limits& limits);
    void limit_v1_memory(const std::string& dir, const Limits& limits);
    void limit_v1_pids(const std::string& dir, const Limits& limits);

    std::vector<std::string> dirs_;
    std::string v1_memory_dir_, v1_pids_dir_;  // made by prepare_v1, limited by apply_limits
    std::string memory_dir_;                   // where memory.events / memory.oom_control live
    std::string pids_dir_;                     // where pids.events lives
    bool v2_ = false;
    bool memory_v2_ = false;
    bool memory_limited_ = false;
    bool pids_limited_ = false;
    std::vector<std::string> notes_;
};

// Whether a controller can be used here, and why not (for doctor).
struct CgroupProbe {
    bool memory = false;
    bool pids = false;
    std::string version;  // "v2", "v1", "hybrid", "none"
    std::string detail;   // what was tried and what failed
};
CgroupProbe probe_cgroups();

}  // namespace gossamer::sandbox
