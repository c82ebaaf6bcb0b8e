// Turns an agent spec into the parts an agent loop runs with: the tool registry (every tool
// the spec lists, or a SpecError naming one this build cannot provide) and the loop's
// settings. Assembly only: it must not run anything.
#pragma once

#include <filesystem>
#include <string>

#include "runtime/agent_loop.h"
#include "runtime/agent_spec.h"
#include "runtime/tool_registry.h"

namespace gossamer::runtime {

// Starts MCP servers and plugin hosts (`gossamer plugin serve`, run from self_executable()),
// so this may take a moment; a server that cannot start is a SpecError naming its entry.
void add_spec_tools(const AgentSpec& spec, ToolRegistry& registry);

// The running gossamer binary (plugins are served by it in their own process).
std::filesystem::path self_executable();

AgentSettings settings_for(const AgentSpec& spec, const std::string& session_id,
                           const std::filesystem::path& workspace, int context_window);

// Today's date, UTC, as YYYY-MM-DD (the system message's default date).
std::string today_utc();

}  // namespace gossamer::runtime
