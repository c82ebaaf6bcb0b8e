// Test support: runs the real `gossamer` binary (GOSSAMER_BINARY) through the shell with the
// given stdin, capturing stdout, stderr and the exit code; or starts it in the background
// (no shell) for tests that signal or race processes. For CLI tests only; no asserts.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

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

// `gossamer ARGS < input`; ARGS go through the shell as written; `env` is added to the
// environment (values single-quoted).
inline Run run_gossamer(const std::string& args, std::string_view input,
                        const std::vector<std::pair<std::string, std::string>>& env = {}) {
    static std::atomic<int> counter{0};
    auto dir = std::filesystem::temp_directory_path() /
               ("gossamer_cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "in", std::ios::binary) << input;
    std::string command;
    for (const auto& [name, value] : env)
        command.append(name).append("='").append(value).append("' ");
    command += std::string("'") + GOSSAMER_BINARY + "' " + args + " < '" + (dir / "in").string() +
               "' > '" + (dir / "out").string() + "' 2> '" + (dir / "err").string() + "'";
    int status = std::system(command.c_str());
    Run r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(dir / "out");
    r.err = read_file(dir / "err");
    std::filesystem::remove_all(dir);
    return r;
}

// Starts `gossamer ARGS...` without a shell, stdout to `stdout_path` (/dev/null) and stderr
// appended to `stderr_path`; returns its pid (-1 when fork failed).
inline pid_t start_gossamer(const std::vector<std::string>& args,
                            const std::string& stderr_path = "/dev/null",
                            const std::string& stdout_path = "/dev/null") {
    std::fflush(stdout);  // or the child writes our buffered output a second time
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<char*> argv{const_cast<char*>(GOSSAMER_BINARY)};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        if (!std::freopen(stdout_path.c_str(), "w", stdout) ||
            !std::freopen(stderr_path.c_str(), "a", stderr))
            ::_exit(126);
        ::execv(GOSSAMER_BINARY, argv.data());
        ::_exit(127);
    }
    return pid;
}

// Waits for `pid`: its exit code, or -SIGNAL when a signal ended it.
inline int wait_gossamer(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace gossamer::test
