// gossamer_bench_history: what workspace history costs an agent step (runtime/
// workspace_history.h): the scan after a tool call on a workspace of N files when nothing
// changed (the stat-only path) and when one file changed (re-read, hashed, stored), with the
// blobs going into a real sqlite session store; medians of N runs.
//   gossamer_bench_history [--files N] [--runs N]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/session_store.h"
#include "runtime/workspace_history.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? -1 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    int files = 1000, runs = 30;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "--files") == 0) files = std::max(1, std::atoi(argv[i + 1]));
        if (std::strcmp(argv[i], "--runs") == 0) runs = std::max(1, std::atoi(argv[i + 1]));
    }
    const fs::path root =
        fs::temp_directory_path() / ("gossamer_bench_history_" + std::to_string(::getpid()));
    const fs::path ws = root / "ws";
    fs::create_directories(ws);
    for (int i = 0; i < files; ++i) {
        const fs::path dir = ws / ("pkg" + std::to_string(i / 100));
        fs::create_directories(dir);
        std::string name = std::to_string(i);
        name.insert(0, 1, 'f');
        name.append(".py");
        std::ofstream(dir / name) << "# file " << i << "\n" << std::string(2000, 'x') << "\n";
    }
    gossamer::runtime::SessionStore store(root / "s.db");
    const auto sink = [&](const std::string& h, std::string_view b) { store.put_blob(h, b); };
    gossamer::runtime::WorkspaceScanner scanner;
    auto start = Clock::now();
    gossamer::runtime::Manifest last;
    store.transaction([&] { last = scanner.scan(ws, sink); });
    const double first = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    std::vector<double> unchanged, one;
    for (int r = 0; r < runs; ++r) {
        start = Clock::now();
        store.transaction([&] { last = scanner.scan(ws, sink); });
        unchanged.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        std::ofstream(ws / "pkg0/f0.py") << "# edit " << r << "\n";
        start = Clock::now();
        store.transaction([&] {
            const auto now = scanner.scan(ws, sink);
            if (gossamer::runtime::diff_manifests(last, now).size() != 1) std::abort();
            last = now;
        });
        one.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::error_code ec;
    fs::remove_all(root, ec);
    std::printf("workspace of %d files (2 KB each)\n", files);
    std::printf("%-44s %10.2f ms\n", "first scan (every file hashed and stored)", first);
    std::printf("%-44s %10.2f ms\n", "step with no change (median)", median(unchanged));
    std::printf("%-44s %10.2f ms\n", "step changing one file (median)", median(one));
    return 0;
}
