// gossamer's tools served as an MCP server (`gossamer mcp serve`, docs/PLUGINS.md): the
// protocol side, whatever carries it. Each tool of a registry becomes one MCP tool: a function
// `functions.NAME` is NAME; a function of another namespace is NS.NAME (browser.search); a
// namespace that takes code rather than JSON (python) is NS with {"code": string}; a function
// whose parameters are not an object (apply_patch's string) takes {"input": ...}. Requests:
// initialize (version negotiated) and server/discover (the stateless era), ping,
// logging/setLevel, tools/list, tools/call (the tool's answer as text content, isError when it
// failed; an unknown tool or bad arguments -32602); anything else -32601. Transport-free: the
// stdio loop (cli/cmd_mcp.cpp) and the HTTP handler (mcp_http_handler.h) feed it messages.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/tool_registry.h"
#include "tools/tool.h"

namespace gossamer::server {

using McpJson = nlohmann::ordered_json;

// One served tool and how to call it in the registry.
struct ServedTool {
    std::string name;         // the MCP name
    std::string recipient;    // as the model would address it ("functions.x", "python")
    std::string function;     // after the namespace ("" for a code namespace)
    bool takes_code = false;  // arguments are {"code"}: the message content is the code
    // The function's schema is not an object's (apply_patch takes a string): MCP wants
    // objects, so it is served as {"input": schema} and `input` is what the tool gets.
    bool wrapped = false;
    std::string description;
    McpJson input_schema;
};

// The registry's tools as MCP tools (pure: reads the namespaces only).
std::vector<ServedTool> served_tools(const runtime::ToolRegistry& registry);

class McpEndpoint {
  public:
    // `context`: the executor the tools complete on, the workspace, the per-call timeout.
    // `version`: this build's, for serverInfo.
    McpEndpoint(runtime::ToolRegistry& registry, tools::ToolContext context, std::string version);

    // One JSON-RPC message or batch. `answer` is called exactly once on the context's
    // executor: with the reply (an object, or an array for a batch), or nullopt when nothing
    // is owed (notifications, responses).
    void handle(const McpJson& message, std::function<void(std::optional<McpJson>)> answer);

    // Whether a message carries the stateless era's `_meta` (no session needed over HTTP).
    static bool stateless(const McpJson& message);
    const std::vector<ServedTool>& tools() const { return tools_; }

  private:
    void handle_one(const McpJson& message, std::function<void(std::optional<McpJson>)> answer);
    void call_tool(const McpJson& id, const McpJson& params, bool stateless,
                   std::function<void(std::optional<McpJson>)> answer);

    runtime::ToolRegistry& registry_;
    tools::ToolContext context_;
    std::string version_;
    std::vector<ServedTool> tools_;
};

// The protocol versions served, newest first ("2026-07-28" only through server/discover).
const std::vector<std::string>& mcp_served_versions();

}  // namespace gossamer::server
