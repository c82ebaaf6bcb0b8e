// gossamer_bench_shell: the shell tool's cold call as the agent pays it (argument parsing,
// the protected-path scan of the workspace, a whole new sandbox, bash, the output) against
// the same `bash -c true` run bare (fork + exec + wait), interleaved call by call, on a
// workspace of N files with a .git folder. Medians of N runs; one table.
//   gossamer_bench_shell [--runs N] [--files N]
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/sandbox.h"
#include "tools/shell/shell_policy.h"
#include "tools/shell/shell_tool.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double bare(const fs::path& dir) {
    const auto start = Clock::now();
    const char* argv[] = {"bash", "-c", "true", nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
    pid_t pid = 0;
    if (posix_spawnp(&pid, "bash", &actions, nullptr, const_cast<char**>(argv), environ) != 0)
        return -1;
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ms_since(start) : -1;
}

double tool_call(gossamer::tools::shell::ShellTool& tool, const fs::path& workspace) {
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    gossamer::tools::ToolContext context{io.get_executor(), "bench", workspace};
    std::optional<gossamer::tools::ToolOutput> out;
    const auto start = Clock::now();
    tool.invoke({"functions.shell", "shell", R"({"command": "true"})", "commentary", std::nullopt},
                context, [&](gossamer::tools::ToolOutput o) { out = std::move(o); });
    while (!out) io.run_one();
    const double ms = ms_since(start);
    if (out->text.rfind("Exit code: 0\n", 0) != 0) {
        std::fprintf(stderr, "unexpected output: %s\n", out->text.c_str());
        return -1;
    }
    return ms;
}

// The same sandbox launch without the tool (no scan, no thread hop): what the tool adds.
double raw_sandbox(const fs::path& workspace) {
    gossamer::tools::shell::ShellCall call;
    call.argv = {"bash", "-c", "true"};
    call.timeout = std::chrono::seconds(30);
    const auto policy = gossamer::tools::shell::shell_policy(gossamer::tools::shell::ShellOptions{},
                                                             workspace, call, {".git"});
    const auto start = Clock::now();
    const auto r = gossamer::sandbox::run(policy, {call.argv, {}, true});
    return r.exit_code == 0 ? ms_since(start) : -1;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? -1 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 40, files = 1000;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "--runs") == 0) runs = std::max(1, std::atoi(argv[i + 1]));
        if (std::strcmp(argv[i], "--files") == 0) files = std::max(0, std::atoi(argv[i + 1]));
    }
    const fs::path ws =
        fs::temp_directory_path() / ("gossamer_bench_shell_" + std::to_string(::getpid()));
    fs::create_directories(ws / ".git");
    std::ofstream(ws / ".git/config") << "[core]\n";
    for (int i = 0; i < files; ++i) {
        const fs::path dir = ws / ("pkg" + std::to_string(i / 100));
        fs::create_directories(dir);
        std::string name = std::to_string(i);
        name.insert(0, 1, 'f');
        name.append(".py");
        std::ofstream(dir / name) << "x = " << i << "\n";
    }
    gossamer::tools::shell::ShellTool tool;
    tool_call(tool, ws);  // warm-up: the workspace is chowned on the first call as root
    bare(ws);
    std::vector<double> b, t, r;
    for (int i = 0; i < runs; ++i) {
        if (double ms = bare(ws); ms >= 0) b.push_back(ms);
        if (double ms = tool_call(tool, ws); ms >= 0) t.push_back(ms);
        if (double ms = raw_sandbox(ws); ms >= 0) r.push_back(ms);
    }
    std::error_code ec;
    fs::remove_all(ws, ec);
    const double mb = median(b), mt = median(t);
    std::printf("%-40s %6s %10s %10s\n", "bash -c true", "runs", "median_ms", "min_ms");
    std::printf("%-40s %6zu %10.2f %10.2f\n", "bare (posix_spawn + wait)", b.size(), mb,
                b.empty() ? -1 : *std::min_element(b.begin(), b.end()));
    std::printf("%-40s %6zu %10.2f %10.2f\n", "shell tool (sandbox, scan, output)", t.size(), mt,
                t.empty() ? -1 : *std::min_element(t.begin(), t.end()));
    std::printf("%-40s %6zu %10.2f %10.2f\n", "sandbox::run alone (same policy)", r.size(),
                median(r), r.empty() ? -1 : *std::min_element(r.begin(), r.end()));
    std::printf(
        "overhead over bare: tool %+.2f ms, sandbox alone %+.2f ms (workspace of %d files)\n",
        mt - mb, median(r) - mb, files);
    return b.empty() || t.empty() || r.empty() ? 1 : 0;
}
