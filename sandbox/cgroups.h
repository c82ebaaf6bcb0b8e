// Per-run cgroups where this process may create them: cgroup v2 (a child of our own cgroup,
// memory.max / memory.swap.max / pids.max) or the v1 memory and pids hierarchies. Best
// effort: what could not be set is reported (doctor, the run's notes) and rlimits remain.
// Parent side only (allocates, reads files); the child is attached by pid before it starts.
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
    // Moves `pid` (before it forks anything) into every cgroup created; false if one failed.
    bool attach(pid_t pid);
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
    void create_v1_memory(const std::string& dir, const Limits& limits);
    void create_v1_pids(const std::string& dir, const Limits& limits);

    std::vector<std::string> dirs_;
    std::string memory_dir_;  // where memory.events / memory.oom_control live
    std::string pids_dir_;    // where pids.events lives
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
