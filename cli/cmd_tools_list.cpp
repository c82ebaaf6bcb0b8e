// `gossamer tools list SPEC`: the tool sections of the prompt exactly as the model will see
// them: the built-in namespaces of the system message and the `functions` namespace of the
// developer message (every plugin and MCP server started to list its tools).
#include <string>

#include "cli/cli_args.h"
#include "harmony/renderer.h"
#include "runtime/agent_setup.h"

namespace gossamer::cli {

int cmd_tools_list(Args args) {
    const Parsed p = parse_args(args, {}, {}, 1);
    if (p.positionals.empty())
        throw InputError("missing the agent spec (gossamer tools list SPEC.yaml)");
    runtime::ToolRegistry tools;
    try {
        runtime::add_spec_tools(runtime::load_agent_spec(p.positionals[0]), tools);
    } catch (const std::exception& e) {
        throw InputError(e.what());
    }
    std::string out;
    if (auto builtin = tools.system_tools())
        out += "# system message\n\n" + harmony::tools_section_text(*builtin) + "\n\n";
    if (auto functions = tools.developer_tools())
        out += "# developer message\n\n" + harmony::tools_section_text(*functions) + "\n";
    if (out.empty()) out = "(this agent has no tools)\n";
    write_stdout(out);
    return 0;
}

}  // namespace gossamer::cli
