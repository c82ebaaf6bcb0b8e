// Test support: runs the real `gossamer` binary (GOSSAMER_BINARY) through the shell with the
// given stdin, capturing stdout, stderr and the exit code. For CLI tests only; no asserts.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace gossamer::test {

struct Run {
    int exit_code = -1;  // -1 when the process did not exit normally
    std::string out;
    std::string err;
};

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `gossamer ARGS < input`; ARGS go through the shell as written.
inline Run run_gossamer(const std::string& args, std::string_view input) {
    static std::atomic<int> counter{0};
    auto dir = std::filesystem::temp_directory_path() /
               ("gossamer_cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "in", std::ios::binary) << input;
    std::string command = std::string("'") + GOSSAMER_BINARY + "' " + args + " < '" +
                          (dir / "in").string() + "' > '" + (dir / "out").string() + "' 2> '" +
                          (dir / "err").string() + "'";
    int status = std::system(command.c_str());
    Run r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(dir / "out");
    r.err = read_file(dir / "err");
    std::filesystem::remove_all(dir);
    return r;
}

}  // namespace gossamer::test
