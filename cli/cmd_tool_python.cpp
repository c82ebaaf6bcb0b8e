// `gossamer tool python`: runs one Python call outside an agent, code on stdin, and prints
// the tool's output on stdout exactly as the model would read it. The contract is in
// docs/CLI.md; this file only maps flags onto tools/python.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "cli/cli_args.h"
#include "cli/cli_io.h"
#include "cli/commands.h"
#include "tools/python/python_tool.h"

namespace gossamer::cli {
namespace {

namespace py = gossamer::tools::python;

py::PythonOptions options_from(const Parsed& p) {
    py::PythonOptions o;
    o.mode = p.has("--stateful") ? py::Mode::stateful : py::Mode::stateless;
    if (auto t = p.get("--timeout"))
        o.timeout = std::chrono::milliseconds(
            static_cast<long long>(parse_number(*t, "--timeout", 0.001, 86400) * 1000));
    if (auto m = p.get("--memory-mb")) o.memory_mb = parse_uint(*m, "--memory-mb", 16, 1 << 20);
    if (auto i = p.get("--interpreter")) o.interpreter = *i;
    o.network = p.has("--net");
    return o;
}

std::filesystem::path workspace_from(const Parsed& p) {
    auto dir = p.get("--workspace");
    if (!dir) return {};
    std::error_code ec;
    const auto absolute = std::filesystem::canonical(*dir, ec);
    if (ec || !std::filesystem::is_directory(absolute))
        throw InputError("--workspace '" + *dir + "' is not an existing directory");
    return absolute;
}

}  // namespace

int cmd_tool_python(Args args) {
    const Parsed p =
        parse_args(args, {"--session", "--workspace", "--timeout", "--memory-mb", "--interpreter"},
                   {"--stateful", "--net"}, 0);
    if (p.get("--session") && !p.has("--stateful"))
        throw InputError("--session needs --stateful (a stateless call has no session)");
    py::PythonTool tool(options_from(p));
    boost::asio::io_context io;
    tools::ToolContext context{io.get_executor(), p.get("--session").value_or("cli"),
                               workspace_from(p)};
    tools::ToolCall call{"python", "", read_stdin(), "analysis", std::nullopt};
    std::optional<tools::ToolOutput> output;
    tool.invoke(call, context, [&](tools::ToolOutput out) { output = std::move(out); });
    auto guard = boost::asio::make_work_guard(io);  // the tool posts from its own thread
    while (!output) io.run_one_for(std::chrono::milliseconds(50));
    write_stdout(output->text);
    return output->is_error ? 1 : 0;
}

}  // namespace gossamer::cli
