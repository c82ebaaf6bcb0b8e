// An MCP server's tools as agent function tools (namespace "functions"): describe() lists
// them with their input schemas; invoke() calls the server and completes on the agent's
// executor; cancel() sends notifications/cancelled for every call in flight. Server
// annotations (idempotentHint, ...) are untrusted, so calls are never treated as idempotent.
// After cancel() returns, no completion of an earlier call is posted any more (the caller's
// event loop may be gone).
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "tools/mcp/mcp_client.h"
#include "tools/tool.h"

namespace gossamer::tools {

class McpTool final : public Tool {
  public:
    explicit McpTool(McpServerSpec spec) : client_(std::make_shared<McpClient>(std::move(spec))) {}
    harmony::ToolNamespace describe() const override;
    void invoke(const ToolCall& call, const ToolContext& context, ToolDone done) override;
    void cancel() override;
    McpClient& client() { return *client_; }

  private:
    std::shared_ptr<McpClient> client_;
    struct CallState {
        std::int64_t handle = 0;
        bool wanted = true;     // false once cancel() dropped it
        bool finished = false;  // the client completed it
    };
    std::mutex mutex_;
    std::map<std::int64_t, std::shared_ptr<CallState>> in_flight_;
};

}  // namespace gossamer::tools
