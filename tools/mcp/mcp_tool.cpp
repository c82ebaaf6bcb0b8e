#include "tools/mcp/mcp_tool.h"

#include <boost/asio/post.hpp>

#include "tools/mcp/mcp_content.h"

namespace gossamer::tools {

harmony::ToolNamespace McpTool::describe() const {
    harmony::ToolNamespace ns;
    ns.name = "functions";
    for (const auto& t : client_->tools())
        ns.tools.push_back({t.name, t.description, t.input_schema});
    return ns;
}

void McpTool::invoke(const ToolCall& call, const ToolContext& context, ToolDone done) {
    Json arguments;
    try {
        arguments = Json::parse(call.arguments.empty() ? "{}" : call.arguments);
    } catch (const Json::exception& e) {  // also numbers out of range (1e309)
        boost::asio::post(context.executor, [done, what = std::string(e.what())] {
            done({"the arguments are not valid JSON: " + what, true});
        });
        return;
    }
    auto state = std::make_shared<CallState>();
    auto executor = context.executor;
    std::optional<Json> output_schema;
    for (const auto& t : client_->tools())
        if (t.name == call.function) output_schema = t.output_schema;
    // Not under mutex_: the client may complete at once (e.g. a server that cannot restart).
    const auto handle = client_->call(
        call.function, arguments,
        [this, state, executor, done, output_schema](McpCallResult r) {
            ToolOutput out =
                r.protocol_error ? ToolOutput{r.error, true} : mcp_result_to_output(r.result);
            if (!r.protocol_error && output_schema)  // the server's promise, checked
                if (auto why = output_schema_problem(r.result, *output_schema)) {
                    out.text += "\n[gossamer: " + *why + "]";
                    out.is_error = true;
                }
            std::lock_guard lock(mutex_);  // cancel() cannot slip between the check and the post
            state->finished = true;
            in_flight_.erase(state->handle);
            if (state->wanted)
                boost::asio::post(executor, [done, out = std::move(out)] { done(out); });
        },
        context.traceparent);
    std::lock_guard lock(mutex_);
    state->handle = handle;
    if (handle != 0 && !state->finished) in_flight_[handle] = state;
}

void McpTool::cancel() {
    std::map<std::int64_t, std::shared_ptr<CallState>> calls;
    {
        std::lock_guard lock(mutex_);
        calls.swap(in_flight_);
        for (auto& [handle, state] : calls) state->wanted = false;
    }
    for (const auto& [handle, state] : calls) client_->cancel(handle);
}

}  // namespace gossamer::tools
