// The subcommands of the `gossamer` binary. Each takes the arguments after its own name and
// returns the process exit code: 0 success, 2 bad input or usage (message on stderr),
// 1 an internal failure. Commands throw cli::InputError for bad input; main() reports it.
#pragma once

#include <span>
#include <string_view>

namespace gossamer::cli {

using Args = std::span<const std::string_view>;

int cmd_tokenize(Args args);         // cmd_tokenize.cpp
int cmd_detokenize(Args args);       // cmd_tokenize.cpp
int cmd_harmony_render(Args args);   // cmd_harmony_render.cpp
int cmd_harmony_parse(Args args);    // cmd_harmony_parse.cpp
int cmd_demo(Args args);             // cmd_demo.cpp
int cmd_version(Args args);          // cmd_version.cpp
int cmd_model_init(Args args);       // cmd_model.cpp
int cmd_model_info(Args args);       // cmd_model.cpp
int cmd_model_forward(Args args);    // cmd_model.cpp
int cmd_run(Args args);              // cmd_run.cpp
int cmd_resume(Args args);           // cmd_run.cpp
int cmd_chat(Args args);             // cmd_run.cpp
int cmd_fleet(Args args);            // cmd_fleet.cpp
int cmd_serve(Args args);            // cmd_serve.cpp
int cmd_ui(Args args);               // cmd_ui.cpp
int cmd_fleet_list(Args args);       // cmd_fleet.cpp
int cmd_fleet_show(Args args);       // cmd_fleet.cpp
int cmd_sessions_list(Args args);    // cmd_sessions.cpp
int cmd_sessions_gc(Args args);      // cmd_sessions.cpp
int cmd_sessions_show(Args args);    // cmd_sessions.cpp
int cmd_sessions_export(Args args);  // cmd_sessions.cpp
int cmd_sessions_diff(Args args);    // cmd_sessions_history.cpp
int cmd_sessions_revert(Args args);  // cmd_sessions_history.cpp
int cmd_plugin_serve(Args args);     // cmd_plugin.cpp
int cmd_plugin_info(Args args);      // cmd_plugin.cpp
int cmd_tools_list(Args args);       // cmd_tools_list.cpp
int cmd_mcp_tools(Args args);        // cmd_mcp.cpp
int cmd_mcp_call(Args args);         // cmd_mcp.cpp
int cmd_mcp_serve(Args args);        // cmd_mcp.cpp
int cmd_generate(Args args);         // cmd_generate.cpp
int cmd_sandbox_exec(Args args);     // cmd_sandbox.cpp
int cmd_doctor(Args args);           // cmd_sandbox.cpp
int cmd_tool_browser(Args args);     // cmd_tool_browser.cpp
int cmd_tool_python(Args args);      // cmd_tool_python.cpp

}  // namespace gossamer::cli
