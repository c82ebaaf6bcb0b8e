// The launch pool (sandbox/launch_pool.h) and how a sandbox gets into its cgroups: every run
// in its own fresh cgroup with its limits, born there from a pre-placed launcher (cgroup
// v1); the memory limit still enforced; the slow path (clone, then move) when the pool has
// nothing ready, when its launcher fails, or when no cgroup is writable; nothing left behind
// (processes, cgroups, descriptors) when a pool is destroyed, when a process using the
// default pool exits, or when it is SIGKILLed. And clone3(CLONE_INTO_CGROUP), the v2 way.
// Real processes, real cgroups; the cgroup cases skip with a MESSAGE where this process
// cannot create the cgroups they need.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "sandbox/cgroups.h"
#include "sandbox/launch_pool.h"
#include "tests/sandbox/sandbox_support.h"

using namespace gossamer::test;
using namespace std::chrono_literals;

extern char** environ;

namespace {

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// The v1 memory cgroup directory of `pid`, for a cgroup directly under `layout`'s (runs'
// cgroups are children of ours: "4:memory:/our/path/gossamer-PID-N").
std::string memory_cgroup_of(pid_t pid, const sbx::CgroupLayout& layout) {
    std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/cgroup"));
    for (std::string line; std::getline(in, line);) {
        const auto first = line.find(':'), second = line.find(':', first + 1);
        if (line.substr(first + 1, second - first - 1) != "memory") continue;
        return layout.v1_memory + "/" + line.substr(line.rfind('/') + 1);
    }
    return "";
}

int open_fds() {
    int n = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

bool process_exists(pid_t pid) {
    return fs::exists("/proc/" + std::to_string(pid));
}

// Whether this process can make v1 memory cgroups and move processes into them (root on a
// v1 or hybrid host whose v2 part delegates nothing): the pool's home ground.
bool pool_applies() {
    const sbx::CgroupLayout layout = sbx::detect_cgroups();
    if (!gossamer::test::sandbox_available() || !sbx::launch_pool_supported() ||
        layout.v1_memory.empty() || sbx::v2_usable(layout))
        return false;
    sbx::RunCgroups probe;
    sbx::Limits limits;
    probe.create(layout, limits, false);
    return probe.memory_limited();
}

#define REQUIRE_POOL()                                                                    \
    do {                                                                                  \
        REQUIRE_SANDBOX();                                                                \
        if (!pool_applies()) {                                                            \
            MESSAGE("skipped: no writable cgroup v1 memory hierarchy (or v2 delegated)"); \
            return;                                                                       \
        }                                                                                 \
    } while (0)

sbx::LaunchRequest pooled_request(std::vector<std::string> argv, sbx::LaunchPool& pool) {
    sbx::LaunchRequest request{std::move(argv), "", false};
    request.pool = &pool;
    return request;
}

}  // namespace

TEST_CASE("sandbox pool: each run is born in a fresh cgroup of its own with its limits") {
    REQUIRE_POOL();
    sbx::LaunchPool pool(sbx::detect_cgroups());
    REQUIRE(pool.wait_ready(2, 10s));
    std::set<std::string> seen;
    for (int i = 0; i < 3; ++i) {
        REQUIRE(pool.wait_ready(1, 10s));
        const std::vector<pid_t> idle = pool.idle_pids();
        auto policy = test_policy();
        policy.limits.memory_bytes = (100ull + static_cast<unsigned>(i)) << 20;
        auto launched = sbx::launch(policy, pooled_request({"sleep", "30"}, pool));
        REQUIRE(launched->cgroups);
        REQUIRE(launched->cgroups->dirs().size() == 1);
        const std::string dir = launched->cgroups->dirs().front();
        CHECK(seen.insert(dir).second);  // never a cgroup of an earlier run
        // the init is in that cgroup, and it is the directory of the launcher that was first
        // in line: the init was cloned there, not moved there
        CHECK(memory_cgroup_of(launched->pid, pool.layout()) == dir);
        CHECK(launched->cgroups->holds(launched->pid));
        CHECK(std::find(idle.begin(), idle.end(), launched->pid) == idle.end());
        CHECK(!process_exists(idle.front()));  // the launcher that cloned it is gone (reaped)
        CHECK(std::stoull(slurp(dir + "/memory.limit_in_bytes")) == policy.limits.memory_bytes);
        if (fs::exists(dir + "/memory.memsw.limit_in_bytes"))
            CHECK(std::stoull(slurp(dir + "/memory.memsw.limit_in_bytes")) ==
                  policy.limits.memory_bytes);
        CHECK(launched->notes.empty());
        launched.reset();  // kills, reaps, removes the cgroup
        CHECK(!fs::exists(dir));
    }
    const auto stats = pool.stats();
    CHECK(stats.claimed == 3);
    CHECK(stats.failed == 0);
    check_next_call_works();
}

TEST_CASE("sandbox pool: the memory limit is enforced across processes (cgroup OOM kill)") {
    REQUIRE_POOL();
    sbx::LaunchPool pool(sbx::detect_cgroups());
    REQUIRE(pool.wait_ready(1, 10s));
    auto policy = test_policy();
    policy.limits.memory_bytes = 128ull << 20;  // RLIMIT_AS too: each process stays below it
    const auto r = sbx::run(policy, pooled_request({"python3", "-c", R"(
import os, time
kids = []
for i in range(3):
    pid = os.fork()
    if pid == 0:
        b = b'\x01' * (80 << 20)  # touched: 3 x 80 MiB > 128 MiB for the cgroup
        time.sleep(5)
        os._exit(0)
    kids.append(pid)
print(sorted(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids))
)"},
                                                   pool));
    CHECK(pool.stats().claimed == 1);
    CHECK_MESSAGE(r.oom_killed, describe(r));
    CHECK(r.stdout_text.find("-9") != std::string::npos);  // a child was OOM-killed
    CHECK(r.report.find("memory limit of 134217728 bytes was reached") != std::string::npos);
    check_next_call_works();
}

TEST_CASE("sandbox pool: a failed launcher falls back to clone and move, same fresh cgroup") {
    REQUIRE_POOL();
    sbx::LaunchPool pool(sbx::detect_cgroups(), {1, false});
    REQUIRE(pool.wait_ready(1, 10s));
    const pid_t launcher = pool.idle_pids().front();
    REQUIRE(::kill(launcher, SIGKILL) == 0);  // dies before it is handed a plan
    auto policy = test_policy();
    policy.limits.memory_bytes = 200ull << 20;
    auto launched = sbx::launch(policy, pooled_request({"sleep", "30"}, pool));
    CHECK(pool.stats().claimed == 1);
    REQUIRE(launched->cgroups->dirs().size() == 1);
    const std::string dir = launched->cgroups->dirs().front();
    CHECK(memory_cgroup_of(launched->pid, pool.layout()) == dir);  // moved there
    CHECK(std::stoull(slurp(dir + "/memory.limit_in_bytes")) == policy.limits.memory_bytes);
    CHECK(!process_exists(launcher));
    launched.reset();
    CHECK(!fs::exists(dir));
    // the pool refills and the next run takes the fast path again
    REQUIRE(pool.wait_ready(1, 10s));
    const auto r = sbx::run(policy, pooled_request({"echo", "fast"}, pool));
    CHECK(r.stdout_text == "fast\n");
    CHECK(pool.stats().claimed == 2);
}

TEST_CASE("sandbox pool: unwritable cgroups: the pool disables itself, runs still work") {
    REQUIRE_SANDBOX();
    sbx::CgroupLayout nowhere;
    nowhere.v1_memory = "/proc/gossamer-no-such-cgroup";  // mkdir fails, even as root
    sbx::LaunchPool pool(nowhere);
    const auto r = sbx::run(test_policy(), pooled_request({"echo", "slow"}, pool));
    CHECK_MESSAGE(r.stop == sbx::StopReason::exited, describe(r));
    CHECK(r.stdout_text == "slow\n");
    bool noted = false;
    for (const auto& note : r.notes) noted |= note.find("no writable memory cgroup") == 0;
    CHECK(noted);
    CHECK(!pool.wait_ready(1, 5s));  // gives up after repeated failures
    const auto stats = pool.stats();
    CHECK(stats.disabled);
    CHECK(stats.failed >= 3);
    CHECK(stats.claimed == 0);
    CHECK(stats.why_disabled.find("/proc/gossamer-no-such-cgroup") != std::string::npos);
    // a layout where v2 would be used, or no v1 memory at all: never started
    sbx::LaunchPool none(sbx::CgroupLayout{});
    CHECK(none.stats().disabled);
    CHECK(none.claim(false, test_policy().limits) == nullptr);
}

TEST_CASE("sandbox pool: destroying a pool leaves no launcher, cgroup or descriptor") {
    REQUIRE_POOL();
    if (auto* fallback = sbx::default_launch_pool()) fallback->wait_ready(2, 10s);  // quiet
    const int fds_before = open_fds();
    std::vector<pid_t> launchers;
    std::vector<std::string> dirs;
    {
        sbx::LaunchPool pool(sbx::detect_cgroups(), {3, false});
        REQUIRE(pool.wait_ready(3, 10s));
        const auto r = sbx::run(test_policy(), pooled_request({"true"}, pool));
        CHECK(r.exit_code == 0);
        REQUIRE(pool.wait_ready(3, 10s));
        launchers = pool.idle_pids();
        for (pid_t pid : launchers) dirs.push_back(memory_cgroup_of(pid, pool.layout()));
        for (const auto& dir : dirs) CHECK(fs::exists(dir));
    }
    for (pid_t pid : launchers) CHECK(!process_exists(pid));
    for (const auto& dir : dirs) CHECK(!fs::exists(dir));
    // a run's cleanup (closing its pidfd and pipes) may finish on its own thread just after
    // run() returns: allow it a moment under load, then insist
    for (int i = 0; i < 200 && open_fds() != fds_before; ++i) std::this_thread::sleep_for(10ms);
    CHECK(open_fds() == fds_before);
}

TEST_CASE("sandbox pool: a process that exits or is killed leaves no launcher or cgroup") {
    REQUIRE_POOL();
    const std::string parent = sbx::detect_cgroups().v1_memory;
    auto run_cgroups_of = [&](pid_t pid) {
        std::vector<std::string> found;
        const std::string prefix = "gossamer-" + std::to_string(pid) + "-";
        for (const auto& entry : fs::directory_iterator(parent))
            if (entry.path().filename().string().rfind(prefix, 0) == 0)
                found.push_back(entry.path().string());
        return found;
    };
    auto spawn_gossamer = [](std::vector<std::string> args) {
        args.insert(args.begin(), GOSSAMER_BINARY);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid = -1;
        REQUIRE(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
        posix_spawn_file_actions_destroy(&actions);
        return pid;
    };
    auto wait_for = [](pid_t pid) {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        return status;
    };

    // exit: the default pool is shut down by the static destructor
    const pid_t clean = spawn_gossamer({"sandbox", "exec", "--", "sh", "-c", "sleep 0.3"});
    CHECK(WEXITSTATUS(wait_for(clean)) == 0);
    CHECK(run_cgroups_of(clean).empty());

    // SIGKILL: launchers and the sandbox die with it (PR_SET_PDEATHSIG); the cgroups it left
    // are removed by the next process (remove_stale_cgroups)
    const pid_t killed =
        spawn_gossamer({"sandbox", "exec", "--", "sh", "-c", "sleep 30; : pool-sigkill-case"});
    std::vector<std::string> dirs;
    for (int i = 0; i < 100 && dirs.size() < 3; ++i) {  // its run's cgroup + 2 launchers
        std::this_thread::sleep_for(50ms);
        dirs = run_cgroups_of(killed);
    }
    REQUIRE(dirs.size() == 3);
    std::this_thread::sleep_for(100ms);  // the second launcher is being moved in
    ::kill(killed, SIGKILL);
    wait_for(killed);
    bool empty = false;
    for (int i = 0; i < 100 && !empty; ++i) {
        std::this_thread::sleep_for(20ms);
        empty = true;
        for (const auto& dir : run_cgroups_of(killed))
            empty &= slurp(dir + "/cgroup.procs").empty();
    }
    CHECK(empty);
    CHECK(host_processes_with("pool-sigkill-case") == 0);  // launchers share its cmdline
    sbx::remove_stale_cgroups(parent);
    CHECK(run_cgroups_of(killed).empty());
}

TEST_CASE("sandbox: clone3 with CLONE_INTO_CGROUP starts the child inside a v2 cgroup") {
    // The v2 launch path (launcher.cpp) on whatever v2 hierarchy is mounted here, delegated
    // controllers or not (a hybrid host has it at /sys/fs/cgroup/unified, without them).
    const std::string v2 = sbx::detect_cgroups().v2_dir;
    const std::string dir = v2 + "/gossamer-clone3-test-" + std::to_string(::getpid());
    if (v2.empty() || ::mkdir(dir.c_str(), 0755) != 0) {
        MESSAGE("skipped: no writable cgroup v2 hierarchy");
        return;
    }
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    int pidfd = -1;
    const long pid = sbx::clone_into_cgroup(CLONE_PIDFD | SIGCHLD, fd, &pidfd);
    if (pid == 0) {
        for (;;) ::pause();  // a copy of this (threaded) process: async-signal-safe only
    }
    const int err = errno;
    ::close(fd);
    if (pid < 0 && err == ENOSYS) {
        ::rmdir(dir.c_str());
        MESSAGE("skipped: no clone3 on this kernel");
        return;
    }
    REQUIRE_MESSAGE(pid > 0, std::strerror(err));
    CHECK(pidfd >= 0);
    const std::string procs = slurp(dir + "/cgroup.procs");
    CHECK(procs == std::to_string(pid) + "\n");  // born there: nobody moved it
    CHECK(slurp("/proc/" + std::to_string(pid) + "/cgroup")
              .find("0::/" + dir.substr(v2.size() + 1)) != std::string::npos);
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
    ::close(pidfd);
    for (int i = 0; i < 100 && ::rmdir(dir.c_str()) != 0; ++i) std::this_thread::sleep_for(5ms);
    CHECK(!fs::exists(dir));
}
