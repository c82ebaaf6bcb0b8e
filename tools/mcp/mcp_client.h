// A client for one MCP server over stdio or Streamable HTTP (docs/PLUGINS.md): starts it (or
// reaches its URL), probes `server/discover` (the stateless 2026-07-28 era: every request then
// carries the version, capabilities and client in `_meta`, results their `resultType`) and
// falls back to `initialize` / `notifications/initialized` with version negotiation,
// lists its tools (following pagination, refreshing on `list_changed`), calls them with a
// per-call timeout that progress notifications extend up to a hard cap, cancels with
// `notifications/cancelled`, and restarts a server that died. Protocol only: turning results
// into text for the model is mcp_content.h; the Tool facade is mcp_tool.h.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tools/mcp/json_rpc_process.h"
#include "tools/mcp/mcp_http.h"

namespace gossamer::tools {

struct McpServerSpec {
    std::string name;     // for messages and logs
    ProcessSpec process;  // a local server over stdio, unless
    HttpServerSpec http;  // http.url is set: a remote one over Streamable HTTP
    std::chrono::milliseconds call_timeout{60000};   // without progress
    std::chrono::milliseconds hard_cap{600000};      // with progress, at most this
    std::chrono::milliseconds start_timeout{20000};  // spawn to tools listed
    int max_restarts = 3;
};

struct McpToolInfo {
    std::string name;
    std::string description;
    Json input_schema;  // a JSON Schema object
    // The tool's outputSchema, when it declares one: its structuredContent must match.
    std::optional<Json> output_schema;
};

// A finished call: a tools/call result (which may say isError), or a protocol/transport
// error (timeout, cancelled, server died, JSON-RPC error object).
struct McpCallResult {
    bool protocol_error = false;
    Json result;        // when !protocol_error
    std::string error;  // when protocol_error: one sentence for the model
};

class McpClient {
  public:
    // Starts the server and lists its tools; throws std::runtime_error saying why not
    // (cannot start, handshake failed, unsupported version, timeout).
    explicit McpClient(McpServerSpec spec);
    ~McpClient();

    const std::string& protocol_version() const { return version_; }
    bool stateless() const { return stateless_; }  // the 2026-07-28 era (server/discover)
    std::vector<McpToolInfo> tools() const;
    // Calls a tool; `done` runs on the client's thread. Returns a handle for cancel().
    // `traceparent` (W3C; "" for none) goes into the request's `_meta`.
    std::int64_t call(const std::string& tool, const Json& arguments,
                      std::function<void(McpCallResult)> done, const std::string& traceparent = {});
    void cancel(std::int64_t handle, const std::string& reason = "cancelled by the agent");
    // The last stderr lines of the server (for error messages and the session log).
    std::vector<std::string> recent_stderr() const;
    // Also sends every stderr line ("[name] line") to `sink` (the session log), starting with
    // the recent lines already kept; thread-safe.
    void set_log_sink(std::function<void(const std::string&)> sink);
    int restarts() const { return restarts_; }
    int server_pid() const { return peer_ ? peer_->pid() : -1; }  // leads its process group

  private:
    void start();
    void handshake();
    void list_tools();
    RpcReply blocking(const std::string& method, Json params, std::chrono::milliseconds timeout);
    void on_notification(const std::string& method, const Json& params);

    McpServerSpec spec_;
    Json with_meta(Json params) const;  // the stateless era's per-request _meta

    std::string version_;
    bool stateless_ = false;
    mutable std::mutex mutex_;
    std::vector<McpToolInfo> tools_;
    std::deque<std::string> stderr_;
    std::function<void(const std::string&)> log_sink_;
    std::atomic<bool> tools_changed_{false};
    int restarts_ = 0;
    std::map<std::string, std::int64_t> progress_tokens_;  // token -> request id
    // Last: destroyed first (also when the constructor throws), so its thread, whose
    // callbacks use the members above, stops before they go.
    std::unique_ptr<JsonRpcPeer> peer_;
};

// Protocol versions this client speaks, newest first.
const std::vector<std::string>& mcp_supported_versions();

}  // namespace gossamer::tools
