// gossamer_bench_sandbox: cold-call latency of a command in our sandbox, bare, and under
// bubblewrap (when /usr/bin/bwrap exists), medians of N runs (default 20), one table.
//   gossamer_bench_sandbox [--runs N] [--json]
// Each "cold call" builds a whole new sandbox (namespaces, mounts, seccomp, Landlock,
// cgroups) and tears it down, as the stateless Python tool does per call. "gossamer sandbox"
// is the default launch (on a cgroup v1 host: a pre-placed launcher from the launch pool;
// on a delegated v2 host: clone3 into the cgroup); "cgroups, no pool" is the slow path
// (clone, then move into the cgroup); "no cgroups" skips the per-run cgroups.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "sandbox/launch_pool.h"
#include "sandbox/policy.h"
#include "sandbox/sandbox.h"

extern char** environ;

namespace {

namespace sbx = gossamer::sandbox;
using Clock = std::chrono::steady_clock;

struct Stats {
    double median_ms, min_ms, max_ms;
};

struct Variant {
    const char* name;
    std::function<bool()> once;
    std::vector<double> ms;
};

Stats stats(std::vector<double> ms) {
    if (ms.empty()) return {-1, -1, -1};
    std::sort(ms.begin(), ms.end());
    const std::size_t n = ms.size();
    const double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    return {median, ms.front(), ms.back()};
}

// Round-robin over the variants, so a burst of load on this shared machine hits all of them
// alike; one warm-up call each first (page cache, our seccomp program cache).
void measure(std::vector<Variant>& variants, int runs) {
    for (auto& v : variants) v.once();
    for (int i = 0; i < runs; ++i) {
        for (auto& v : variants) {
            const auto start = Clock::now();
            if (!v.once()) std::fprintf(stderr, "gossamer_bench_sandbox: %s failed\n", v.name);
            v.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        }
    }
}

// posix_spawn + wait, output to /dev/null.
bool spawn(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return false;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::vector<std::string> bwrap(const std::vector<std::string>& command) {
    std::vector<std::string> argv = {"/usr/bin/bwrap",
                                     "--unshare-all",
                                     "--die-with-parent",
                                     "--new-session",
                                     "--ro-bind",
                                     "/usr",
                                     "/usr",
                                     "--symlink",
                                     "usr/bin",
                                     "/bin",
                                     "--symlink",
                                     "usr/lib",
                                     "/lib",
                                     "--symlink",
                                     "usr/lib64",
                                     "/lib64",
                                     "--symlink",
                                     "usr/sbin",
                                     "/sbin",
                                     "--ro-bind",
                                     "/etc/ld.so.cache",
                                     "/etc/ld.so.cache",
                                     "--proc",
                                     "/proc",
                                     "--dev",
                                     "/dev",
                                     "--tmpfs",
                                     "/tmp",
                                     "--clearenv",
                                     "--setenv",
                                     "PATH",
                                     "/usr/bin:/bin"};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
}

void print_table(const std::vector<Variant>& variants) {
    const double bare = stats(variants.front().ms).median_ms;
    for (const auto& v : variants) {
        const Stats s = stats(v.ms);
        std::printf("| %-38s | %9.2f | %9.2f | %9.2f | %+9.2f |\n", v.name, s.median_ms, s.min_ms,
                    s.max_ms, s.median_ms - bare);
    }
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 20;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = std::max(1, std::atoi(argv[++i]));
    }
    const bool have_bwrap = ::access("/usr/bin/bwrap", X_OK) == 0;
    const sbx::Policy policy = sbx::default_policy();
    sbx::Policy no_cgroups = policy;
    no_cgroups.cgroups = false;
    auto in_sandbox = [](std::vector<std::string> cmd, const sbx::Policy& with,
                         bool use_pool = true) {
        return [&with, cmd, use_pool] {
            sbx::LaunchRequest request{cmd, "", false};
            request.use_pool = use_pool;
            const auto r = sbx::run(with, request);
            if (r.stop != sbx::StopReason::exited) std::fprintf(stderr, "%s\n", r.report.c_str());
            return r.stop == sbx::StopReason::exited && r.exit_code == 0;
        };
    };
    const std::vector<std::string> py = {"/usr/bin/python3", "-c", "pass"};
    // The default pool starts with the first launch; let it fill before measuring.
    if (sbx::LaunchPool* pool = sbx::default_launch_pool()) {
        sbx::run(policy, sbx::LaunchRequest{{"/usr/bin/true"}, "", false});
        pool->wait_ready(2, std::chrono::seconds(5));
    }
    const std::vector<std::string> tru = {"/usr/bin/true"};

    std::printf("cold-call latency, %d runs each, interleaved (ms)\n\n", runs);
    std::printf("| %-38s | %9s | %9s | %9s | %9s |\n", "command", "median", "min", "max",
                "vs bare");
    std::printf("|%s|%s|%s|%s|%s|\n", std::string(40, '-').c_str(), std::string(11, '-').c_str(),
                std::string(11, '-').c_str(), std::string(11, '-').c_str(),
                std::string(11, '-').c_str());
    for (const auto* cmd : {&tru, &py}) {
        const std::string what = cmd == &tru ? "true" : "python3 -c pass";
        std::vector<std::string> names = {what + ", bare", what + ", gossamer sandbox",
                                          what + ", gossamer, cgroups, no pool",
                                          what + ", gossamer, no cgroups", what + ", bwrap"};
        std::vector<Variant> variants = {
            {names[0].c_str(), [cmd] { return spawn(*cmd); }, {}},
            {names[1].c_str(), in_sandbox(*cmd, policy), {}},
            {names[2].c_str(), in_sandbox(*cmd, policy, false), {}},
            {names[3].c_str(), in_sandbox(*cmd, no_cgroups), {}},
        };
        if (have_bwrap)
            variants.push_back({names[4].c_str(), [cmd] { return spawn(bwrap(*cmd)); }, {}});
        measure(variants, runs);
        print_table(variants);
    }
    if (!have_bwrap) std::printf("\n(bubblewrap not installed: apt-get install bubblewrap)\n");
    if (const sbx::LaunchPool* pool = sbx::default_launch_pool()) {
        const auto s = pool->stats();
        std::printf(
            "\nlaunch pool: %llu launches took a pre-placed launcher, %llu found none "
            "ready (slow path), %llu placement failures\n",
            static_cast<unsigned long long>(s.claimed), static_cast<unsigned long long>(s.missed),
            static_cast<unsigned long long>(s.failed));
    } else {
        std::printf(
            "\nlaunch pool: not used here (cgroup v2 delegated, no v1 memory cgroup, "
            "or GOSSAMER_SANDBOX_POOL=0)\n");
    }
    return 0;
}
