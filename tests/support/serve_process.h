// Test support: a real `gossamer serve` process on 127.0.0.1 (a free port, or a given one to
// come back on after a kill), waited for until it prints its "listening" line. CLI tests only.
#pragma once

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/run_gossamer.h"

namespace gossamer::test {

struct ServeProcess {
    pid_t pid = -1;
    int port = 0;
    std::string url;  // http://127.0.0.1:PORT
    explicit operator bool() const { return pid > 0 && port > 0; }
};

// `gossamer serve --no-store --port PORT ARGS...`; output files go to `dir/serve-N.*`.
inline ServeProcess start_serve(const std::vector<std::string>& args,
                                const std::filesystem::path& dir, int port = 0) {
    static int counter = 0;
    const auto out = dir / ("serve-" + std::to_string(counter) + ".out");
    const auto err = dir / ("serve-" + std::to_string(counter++) + ".err");
    std::vector<std::string> all{"serve", "--no-store", "--port", std::to_string(port)};
    all.insert(all.end(), args.begin(), args.end());
    ServeProcess s;
    s.pid = start_gossamer(all, err.string(), out.string());
    const std::regex listening(R"re("port":(\d+))re");
    for (int i = 0; i < 600 && s.pid > 0; ++i) {
        std::smatch m;
        const std::string text = read_file(out);
        if (std::regex_search(text, m, listening)) {
            s.port = std::stoi(m[1]);
            s.url = "http://127.0.0.1:" + m[1].str();
            return s;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return s;
}

inline void stop_serve(ServeProcess& s, int signal = SIGTERM) {
    if (s.pid <= 0) return;
    ::kill(s.pid, signal);
    wait_gossamer(s.pid);
    s.pid = -1;
}

// Stops it at the end of a test, whatever happened.
struct ServeGuard {
    std::vector<ServeProcess*> all;
    ~ServeGuard() {
        for (auto* s : all) stop_serve(*s, SIGKILL);
    }
};

}  // namespace gossamer::test
