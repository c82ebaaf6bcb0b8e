// What the model reads after a Python call: the output capped (head and tail with a marker)
// and sanitized, the gpt-oss reference's "[WARN] No output available..." text when there is
// none, and one "[ERROR] ..." line when the call was stopped (timeout, limit, crash,
// kernel restart). Pure: text in, text out.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "sandbox/result.h"
#include "tools/tool.h"

namespace gossamer::tools::python {

// The reference's text for a call that printed nothing.
inline constexpr std::string_view kNoOutputWarning =
    "[WARN] No output available. Use print() to output anything to stdout to receive the output";

// Head and tail of `bytes` kept within `max_bytes`, the sandbox's marker in between.
std::string cap_output(std::string_view bytes, std::uint64_t max_bytes);

// Output (capped, sanitized) or the warning, then the error line when there is one.
ToolOutput model_output(std::string_view raw_output, std::string_view error_line,
                        std::uint64_t max_bytes);

// A stateless run's result as the model reads it (stdout already capped by the policy).
ToolOutput stateless_output(const sandbox::SandboxResult& result,
                            std::chrono::milliseconds timeout);

// "120 seconds", "0.5 seconds".
std::string seconds_text(std::chrono::milliseconds duration);

}  // namespace gossamer::tools::python
