// apply_patch on a large workspace (issue 20): time per patch of one file (3 hunks) and of
// ten files at once in a workspace of --files files (each ~200 lines) spread over 20
// folders, through the tool's own entry point (parse, fd walk, match, temp files, renames).
// The patch alternates between two versions so every run changes the files. Medians of
// --runs runs; the workspace is a temp folder, removed at the end.
//   gossamer_bench_patch [--files 1000] [--runs 50]
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

#include "tools/patch/apply_patch_tool.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string file_text(int n) {
    std::string s;
    for (int line = 0; line < 200; ++line)
        s += "def f" + std::to_string(n) + "_" + std::to_string(line) + "(x):\n    return x + " +
             std::to_string(line) + "\n";
    return s;
}

std::string path_of(int n) {
    return "pkg" + std::to_string(n % 20) + "/mod" + std::to_string(n) + ".py";
}

// Changes functions 5, 75 and 195 of file n: " + N" <-> " + N000" (forward or back).
std::string hunks(int n, bool forward) {
    std::string p = "*** Update File: " + path_of(n) + "\n";
    for (int line : {5, 75, 195}) {
        const std::string a = "    return x + " + std::to_string(line);
        const std::string b = a + "000";
        p += "@@ def f" + std::to_string(n) + "_" + std::to_string(line) + "(x):\n-" +
             (forward ? a : b) + "\n+" + (forward ? b : a) + "\n";
    }
    return p;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    int files = 1000, runs = 50;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--files")) files = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
    }
    const fs::path ws =
        fs::temp_directory_path() / ("gossamer_patch_bench_" + std::to_string(::getpid()));
    fs::remove_all(ws);
    for (int n = 0; n < files; ++n) {
        fs::create_directories((ws / path_of(n)).parent_path());
        std::ofstream(ws / path_of(n)) << file_text(n);
    }
    gossamer::tools::patch::ApplyPatchTool tool;
    auto time_patch = [&](const std::vector<int>& which) {
        std::vector<double> ms;
        for (int r = 0; r < runs; ++r) {
            std::string patch = "*** Begin Patch\n";
            for (int n : which) patch += hunks(n, r % 2 == 0);
            patch += "*** End Patch\n";
            const auto t0 = Clock::now();
            const auto out = tool.run(patch, ws);
            ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
            if (out.is_error) {
                std::fprintf(stderr, "%s\n", out.text.c_str());
                std::exit(1);
            }
        }
        return median(ms);
    };
    const double one = time_patch({files / 2});
    std::vector<int> ten;
    for (int k = 0; k < 10; ++k) ten.push_back((k * 97) % files);
    const double many = time_patch(ten);
    std::printf("| workspace | patch | median ms |\n|---|---|---|\n");
    std::printf("| %d files x 400 lines | 1 file, 3 hunks | %.3f |\n", files, one);
    std::printf("| %d files x 400 lines | 10 files, 3 hunks each | %.3f |\n", files, many);
    fs::remove_all(ws);
    return 0;
}
