// Turns an MCP tools/call result into the text a tool message carries: text items as they
// are, images/audio as a short placeholder (the model cannot see them), embedded resources
// as their text, resource links as name and URI, structured content as JSON when no text
// says it already. isError results are marked as errors. Pure functions, no I/O.
#pragma once

#include <optional>
#include <string>

#include "tools/mcp/json_rpc_process.h"
#include "tools/tool.h"

namespace gossamer::tools {

ToolOutput mcp_result_to_output(const Json& result);

// A tool that declares an outputSchema owes structuredContent matching it (unless the result
// is an error): why this result does not, or nullopt.
std::optional<std::string> output_schema_problem(const Json& result, const Json& schema);

}  // namespace gossamer::tools
