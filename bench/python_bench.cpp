// gossamer_bench_python: the Python tool's call latency through tools/python, as the agent
// pays it: warm stateful round trip (a cell sent to a running kernel and its reply read back),
// the first stateful call (kernel launch included), and a cold stateless call (a whole new
// sandbox and interpreter). Medians of N runs (default 50 warm, 20 cold); one table.
//   gossamer_bench_python [--runs N]
#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "tools/python/python_output.h"
#include "tools/python/python_tool.h"

namespace {

namespace py = gossamer::tools::python;
using Clock = std::chrono::steady_clock;

// One call, waited for; returns milliseconds, or -1 when the output was not `expected`.
double timed_call(py::PythonTool& tool, const std::string& code, const std::string& session,
                  const std::string& expected) {
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    gossamer::tools::ToolContext context{io.get_executor(), session, {}};
    std::optional<gossamer::tools::ToolOutput> out;
    const auto start = Clock::now();
    tool.invoke({"python", "", code, "analysis", std::nullopt}, context,
                [&](gossamer::tools::ToolOutput o) { out = std::move(o); });
    while (!out) io.run_one();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (out->text != expected) {
        std::fprintf(stderr, "unexpected output: %s\n", out->text.c_str());
        return -1;
    }
    return ms;
}

double median(std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    return ms.empty() ? -1 : ms[ms.size() / 2];
}

void row(const char* name, const std::vector<double>& ms) {
    if (ms.empty()) return;
    std::printf("%-36s %6zu %10.2f %10.2f %10.2f\n", name, ms.size(), median(ms),
                *std::min_element(ms.begin(), ms.end()), *std::max_element(ms.begin(), ms.end()));
}

py::PythonOptions options(py::Mode mode) {
    py::PythonOptions o;
    o.mode = mode;
    o.timeout = std::chrono::seconds(30);
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    int runs = 50;
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], "--runs") == 0) runs = std::max(1, std::atoi(argv[i + 1]));
    std::vector<double> warm, first, cold;
    py::PythonTool stateful(options(py::Mode::stateful));
    for (int i = 0; i < std::max(3, runs / 10); ++i) {  // a fresh kernel per session
        const double ms = timed_call(stateful, "1", "first-" + std::to_string(i), "1\n");
        if (ms >= 0) first.push_back(ms);
    }
    timed_call(stateful, "x = 0", "warm", std::string(py::kNoOutputWarning));
    for (int i = 0; i < runs; ++i) {
        const double ms = timed_call(stateful, "x += 1\nx", "warm", std::to_string(i + 1) + "\n");
        if (ms >= 0) warm.push_back(ms);
    }
    py::PythonTool stateless(options(py::Mode::stateless));
    for (int i = 0; i < std::max(5, runs * 2 / 5); ++i) {
        const double ms = timed_call(stateless, "print(1)", "", "1\n");
        if (ms >= 0) cold.push_back(ms);
    }
    std::printf("%-36s %6s %10s %10s %10s\n", "python tool call", "runs", "median_ms", "min_ms",
                "max_ms");
    row("stateful warm (x += 1; x)", warm);
    row("stateful first call (kernel start)", first);
    row("stateless cold (print(1))", cold);
    return warm.empty() || cold.empty() ? 1 : 0;
}
