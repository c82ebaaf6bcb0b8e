#include "runtime/agent_setup.h"

#include <chrono>
#include <ctime>
#include <memory>

#include "tools/workspace_files.h"

namespace gossamer::runtime {

void add_spec_tools(const AgentSpec& spec, ToolRegistry& registry) {
    const auto& t = spec.tools;
    if (t.workspace_files) registry.add(std::make_shared<tools::WorkspaceFiles>());
    if (t.python) throw SpecError(spec.name + ": tools: python: not available in this build yet");
    if (t.browser) throw SpecError(spec.name + ": tools: browser: not available in this build yet");
    if (!t.plugins.empty())
        throw SpecError(spec.name + ": tools: plugin: not available in this build yet");
    if (!t.mcp.empty())
        throw SpecError(spec.name + ": tools: mcp: not available in this build yet");
}

AgentSettings settings_for(const AgentSpec& spec, const std::string& session_id,
                           const std::filesystem::path& workspace, int context_window) {
    AgentSettings s;
    s.session_id = session_id;
    s.sampling = spec.model.sampling;
    s.limits = spec.limits;
    s.workspace = workspace;
    s.context.window = spec.limits.context_tokens > 0
                           ? std::min(spec.limits.context_tokens, context_window)
                           : context_window;
    return s;
}

std::string today_utc() {
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[16];
    std::strftime(text, sizeof text, "%Y-%m-%d", &tm);
    return text;
}

}  // namespace gossamer::runtime
