// The launch pool: takes the cgroup v1 move off the launch path. Moving a process into a v1
// cgroup (writing cgroup.procs) makes the kernel wait for an RCU grace period, ~10 ms when
// no move happened recently. So a background thread keeps a few launchers ready, each
// already moved into a fresh per-run cgroup of its own (created without limits). A launch
// claims one, writes the run's limits into its cgroup (fast), and hands it the ChildPlan;
// the launcher clones the sandbox's init from inside the cgroup, so the init is born there
// and nothing is moved while the caller waits. Each launcher serves exactly one run: every
// run still gets its own fresh cgroup, removed after the run as before.
//
// A launcher is a process sharing this process's memory and descriptor table
// (CLONE_VM | CLONE_FILES, like a thread, but with its own cgroup membership), on a stack
// of its own. It clones the init with CLONE_PARENT, so the init is a child of this process
// exactly as on the slow path (waited for, pidfd, uid/gid maps written by us), and the copy
// the init gets of our memory holds the plan the caller built. While it waits, a launcher
// only touches its own slot and stack and makes raw system calls.
//
// Nothing leaks: an idle launcher dies with the pool thread that created it
// (PR_SET_PDEATHSIG), the pool's destructor (and, for the process's default pool, process
// exit) stops and reaps every idle launcher and removes its cgroups, a claimed one is
// reaped by the launch that claimed it, and cgroups left by a process that was killed are
// removed by the next one (remove_stale_cgroups). Whenever the pool has nothing ready, or
// the fast path fails, launch() takes the slow path (clone, then move).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/cgroups.h"
#include "sandbox/child.h"
#include "sandbox/policy.h"

namespace gossamer::sandbox {

struct LauncherSlot;  // launch_pool.cpp: what a launcher and its claimant share

// One launcher in its fresh cgroups, waiting. Owned by the pool while idle, then by the
// launch that claimed it; its destructor stops and reaps it (if it has not started) and
// releases its stack. The cgroups go with take_cgroups().
class PooledLauncher {
  public:
    PooledLauncher(const PooledLauncher&) = delete;
    PooledLauncher& operator=(const PooledLauncher&) = delete;
    ~PooledLauncher();

    pid_t pid() const { return pid_; }
    // Writes `limits` into the launcher's cgroups and hands them over; call once, first.
    std::unique_ptr<RunCgroups> take_cgroups(const Limits& limits);
    // The launcher clones the sandbox's init with `flags` | CLONE_PARENT | CLONE_PIDFD from
    // inside its cgroups and exits; this waits for that. Returns the init's pid and sets
    // `pidfd`, or -errno: the clone failed; the launcher died before cloning (ECHILD: safe
    // to take the slow path); it died during its clone (EIO: an init may exist and hold
    // the run's pipes, so the launch must fail rather than start a second one).
    long start(const ChildPlan& plan, const int (&fds)[kChildFdCount], unsigned long flags,
               int& pidfd);

  private:
    friend class LaunchPool;
    PooledLauncher() = default;

    pid_t pid_ = -1;
    void* mapping_ = nullptr;  // the slot page, a guard page and the launcher's stack
    std::size_t mapping_size_ = 0;
    LauncherSlot* slot_ = nullptr;
    std::unique_ptr<RunCgroups> cgroups_;
};

class LaunchPool {
  public:
    struct Options {
        std::size_t size = 2;  // launchers kept ready
        bool v1_pids = false;  // also a v1 pids cgroup each (policies requiring cgroup_pids)
    };
    struct Stats {
        std::size_t ready = 0;      // idle launchers now
        std::uint64_t made = 0;     // launchers placed in their cgroups
        std::uint64_t claimed = 0;  // launches that took one
        std::uint64_t missed = 0;   // launches that found none ready (slow path)
        std::uint64_t failed = 0;   // launchers that could not be placed
        bool disabled = false;      // not needed here, or placing failed repeatedly
        std::string why_disabled;
    };

    // Starts the refill thread, unless `layout` has no v1 memory hierarchy, has a usable v2
    // one (clone3 puts the init into its cgroup directly), or this build cannot run
    // launchers: then the pool stays disabled and claim() returns nullptr.
    explicit LaunchPool(CgroupLayout layout, Options options);
    explicit LaunchPool(CgroupLayout layout) : LaunchPool(std::move(layout), Options{}) {}
    LaunchPool(const LaunchPool&) = delete;
    LaunchPool& operator=(const LaunchPool&) = delete;
    ~LaunchPool();  // shutdown(); runs launched from the pool must have ended

    // The cgroups runs through this pool use (on the slow path too).
    const CgroupLayout& layout() const { return layout_; }
    // A ready launcher whose cgroups fit (memory limit set; v1 pids as configured), or
    // nullptr: the caller takes the slow path. Wakes the refill thread.
    std::unique_ptr<PooledLauncher> claim(bool v1_pids, const Limits& limits);
    // Stops refilling, stops and reaps the idle launchers and removes their cgroups, joins
    // the refill thread. Idempotent.
    void shutdown();
    // Waits until `count` launchers are ready (tests, benchmarks); false on timeout or
    // when the pool is disabled.
    bool wait_ready(std::size_t count, std::chrono::milliseconds timeout);
    Stats stats() const;
    std::vector<pid_t> idle_pids() const;

  private:
    void refill_loop();
    std::unique_ptr<PooledLauncher> make_one(std::string& error);

    const CgroupLayout layout_;
    const Options options_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;      // the refill thread: a claim, or shutdown
    std::condition_variable ready_cv_;  // wait_ready
    std::deque<std::unique_ptr<PooledLauncher>> ready_;
    Stats stats_;
    int failures_in_a_row_ = 0;
    bool stopping_ = false;
    std::once_flag shutdown_once_;
    std::thread thread_;
};

// Whether launchers can run in this build (x86-64 and aarch64 Linux).
bool launch_pool_supported();

// The process's pool for runs that would otherwise be moved into v1 cgroups: made on first
// use, shut down at exit; nullptr where it would not help (a delegated v2 hierarchy, no v1
// memory hierarchy, no support) or when GOSSAMER_SANDBOX_POOL=0.
LaunchPool* default_launch_pool();

}  // namespace gossamer::sandbox
