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
    } catch (const Json::parse_error& e) {
        boost::asio::post(context.executor, [done, what = std::string(e.what())] {
            done({"the arguments are not valid JSON: " + what, true});
        });
        return;
    }
    auto handle = std::make_shared<std::int64_t>(0);
    auto executor = context.executor;
    std::lock_guard lock(mutex_);
    *handle =
        client_->call(call.function, arguments, [this, handle, executor, done](McpCallResult r) {
            {
                std::lock_guard inner(mutex_);
                in_flight_.erase(*handle);
            }
            ToolOutput out =
                r.protocol_error ? ToolOutput{r.error, true} : mcp_result_to_output(r.result);
            boost::asio::post(executor, [done, out = std::move(out)] { done(out); });
        });
    if (*handle != 0) in_flight_.insert(*handle);
}

void McpTool::cancel() {
    std::set<std::int64_t> handles;
    {
        std::lock_guard lock(mutex_);
        handles.swap(in_flight_);
    }
    for (auto h : handles) client_->cancel(h);
}

}  // namespace gossamer::tools
