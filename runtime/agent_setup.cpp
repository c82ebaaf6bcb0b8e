#include "runtime/agent_setup.h"

#include <chrono>
#include <ctime>
#include <memory>

#include "runtime/tool_kinds.h"

namespace gossamer::runtime {

std::filesystem::path self_executable() {
    std::error_code ec;
    auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path("gossamer") : path;
}

void add_spec_tools(const AgentSpec& spec, ToolRegistry& registry) {
    for (const auto& kind : tool_kinds()) kind.add(spec, registry);
}

AgentSettings settings_for(const AgentSpec& spec, const std::string& session_id,
                           const std::filesystem::path& workspace, int context_window) {
    AgentSettings s;
    s.session_id = session_id;
    s.sampling = spec.model.sampling;
    s.limits = spec.limits;
    s.workspace = workspace;
    s.output_schema = spec.outputs.schema_json;
    if (!spec.hooks.empty()) s.hooks = std::make_shared<HookRunner>(spec.hooks, spec.base_dir);
    s.context.window = spec.limits.context_tokens > 0
                           ? std::min(spec.limits.context_tokens, context_window)
                           : context_window;
    s.context.compact_at = spec.context.compact_at;
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
