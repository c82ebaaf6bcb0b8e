// Test support for the Python tool: one call through PythonTool on a private io_context,
// waited for synchronously, and whether any process of ours is left running afterwards.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "tools/python/python_output.h"
#include "tools/python/python_tool.h"

namespace gossamer::test {

namespace py = gossamer::tools::python;

inline py::PythonOptions python_options(py::Mode mode, double timeout_seconds = 20) {
    py::PythonOptions o;
    o.mode = mode;
    o.timeout = std::chrono::milliseconds(static_cast<long long>(timeout_seconds * 1000));
    return o;
}

inline tools::ToolOutput python_call(py::PythonTool& tool, const std::string& code,
                                     const std::filesystem::path& workspace = {},
                                     const std::string& session = "s1") {
    boost::asio::io_context io;
    tools::ToolContext context{io.get_executor(), session, workspace};
    std::optional<tools::ToolOutput> out;
    tool.invoke({"python", "", code, "analysis", std::nullopt}, context,
                [&](tools::ToolOutput o) { out = std::move(o); });
    auto guard = boost::asio::make_work_guard(io);  // the completion is posted from elsewhere
    while (!out) io.run_one_for(std::chrono::milliseconds(50));
    return *out;
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace gossamer::test
