#include "tools/python/python_output.h"

#include <cstdio>

#include "sandbox/output_cap.h"
#include "sandbox/sanitize.h"

namespace gossamer::tools::python {
namespace {

// Why a stateless run stopped, in words the model can act on; empty for a normal exit.
std::string stateless_error(const sandbox::SandboxResult& r, std::chrono::milliseconds timeout) {
    using sandbox::StopReason;
    switch (r.stop) {
        case StopReason::exited:
            return {};
        case StopReason::timed_out:
            return "[ERROR] Execution timed out after " + seconds_text(timeout) +
                   "; the process and everything it started were killed.";
        case StopReason::signaled:
            if (r.oom_killed) return "[ERROR] Out of memory: the process was killed. " + r.report;
            return "[ERROR] The Python process was killed: " + r.report;
        default:
            return "[ERROR] Python could not run: " + r.report;
    }
}

}  // namespace

std::string seconds_text(std::chrono::milliseconds duration) {
    char text[32];
    const double seconds = static_cast<double>(duration.count()) / 1000.0;
    std::snprintf(text, sizeof text, "%g", seconds);
    return std::string(text) + (seconds == 1.0 ? " second" : " seconds");
}

std::string cap_output(std::string_view bytes, std::uint64_t max_bytes) {
    sandbox::OutputCap cap(max_bytes);
    cap.append(bytes);
    return cap.text();
}

ToolOutput model_output(std::string_view raw_output, std::string_view error_line,
                        std::uint64_t max_bytes) {
    std::string text = sandbox::sanitize_for_model(cap_output(raw_output, max_bytes));
    if (text.empty() && error_line.empty()) return {std::string(kNoOutputWarning), false};
    if (!error_line.empty()) {
        if (!text.empty() && text.back() != '\n') text += '\n';
        text += error_line;
    }
    return {std::move(text), !error_line.empty()};
}

ToolOutput stateless_output(const sandbox::SandboxResult& result,
                            std::chrono::milliseconds timeout) {
    ToolOutput out = model_output(result.stdout_text, stateless_error(result, timeout), 0);
    out.network = result.network;
    return out;
}

}  // namespace gossamer::tools::python
