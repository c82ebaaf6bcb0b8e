// Test support: one MCP tool call through gossamer's client, waited for, and Python test
// doubles of MCP servers (tests/tools).
#pragma once

#include <doctest/doctest.h>

#include <future>
#include <string>

#include "tools/mcp/mcp_client.h"
#include "tools/mcp/mcp_content.h"

namespace gossamer::test {

inline tools::McpCallResult mcp_call(tools::McpClient& client, const std::string& tool,
                                     const tools::Json& args) {
    std::promise<tools::McpCallResult> promise;
    client.call(tool, args, [&](tools::McpCallResult r) { promise.set_value(std::move(r)); });
    return promise.get_future().get();
}

// The call's text as the model reads it; the call must not be a protocol error.
inline std::string mcp_text(tools::McpClient& client, const std::string& tool,
                            const tools::Json& args) {
    const auto r = mcp_call(client, tool, args);
    REQUIRE_MESSAGE(!r.protocol_error, r.error);
    return tools::mcp_result_to_output(r.result).text;
}

// A test double of an MCP server: `script`, a Python program speaking newline-delimited
// JSON-RPC on stdin/stdout, run with the allowlisted environment.
inline tools::McpServerSpec python_mcp_server(const std::string& name, const std::string& script) {
    tools::McpServerSpec spec;
    spec.name = name;
    spec.process.argv = {"/usr/bin/python3", "-c", script};
    spec.process.env = tools::allowlisted_environment();
    return spec;
}

}  // namespace gossamer::test
