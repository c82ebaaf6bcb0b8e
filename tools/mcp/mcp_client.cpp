#include "tools/mcp/mcp_client.h"

#include <future>
#include <stdexcept>
#include <thread>

namespace gossamer::tools {

namespace {
constexpr std::size_t kStderrLines = 50;
}

const std::vector<std::string>& mcp_supported_versions() {
    static const std::vector<std::string> versions = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                      "2024-11-05"};
    return versions;
}

McpClient::McpClient(McpServerSpec spec) : spec_(std::move(spec)) {
    start();
}

McpClient::~McpClient() = default;

void McpClient::start() {
    process_ = std::make_unique<JsonRpcProcess>(
        spec_.process, [this](const std::string& m, const Json& p) { on_notification(m, p); },
        [](const std::string& method, const Json&) -> Json {
            if (method == "ping") return Json::object();
            if (method == "roots/list") return Json{{"roots", Json::array()}};
            throw std::runtime_error("method not found: " + method);
        },
        [this](const std::string& line) {
            std::lock_guard lock(mutex_);
            stderr_.push_back(line);
            if (stderr_.size() > kStderrLines) stderr_.pop_front();
            if (log_sink_) log_sink_("[" + spec_.name + "] " + line);
        });
    handshake();
    list_tools();
}

RpcReply McpClient::blocking(const std::string& method, Json params,
                             std::chrono::milliseconds timeout) {
    auto promise = std::make_shared<std::promise<RpcReply>>();
    auto future = promise->get_future();
    process_->request(method, std::move(params), timeout, timeout,
                      [promise](RpcReply r) { promise->set_value(std::move(r)); });
    return future.get();
}

void McpClient::handshake() {
    const auto why = [&](const RpcReply& r) {
        std::string text = r.error.value("message", std::string("no answer"));
        const auto lines = recent_stderr();
        if (!lines.empty()) text += "; its last stderr line: " + lines.back();
        return text;
    };
    // A server of the 2026 draft answers server/discover; legacy servers say "method not
    // found". This client speaks the legacy handshake, which both eras' SDKs still accept.
    blocking("server/discover", Json::object(), std::chrono::milliseconds(3000));
    if (!process_->alive()) {
        // Its last words (a loader's "not an ELF file", a missing module) say why, not the status.
        for (int i = 0; i < 20 && recent_stderr().empty(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::string text =
            "MCP server '" + spec_.name + "' " + process_->exit_description() + " during start-up";
        const auto lines = recent_stderr();
        const std::size_t from = lines.size() > 3 ? lines.size() - 3 : 0;
        for (std::size_t i = from; i < lines.size(); ++i)
            text += (i == from ? ": " : " | ") + lines[i];
        throw std::runtime_error(text);
    }
    Json params{{"protocolVersion", mcp_supported_versions().front()},
                {"capabilities", Json::object()},
                {"clientInfo", Json{{"name", "gossamer"}, {"version", "0.1.0"}}}};
    const RpcReply init = blocking("initialize", params, spec_.start_timeout);
    if (!init.ok)
        throw std::runtime_error("MCP server '" + spec_.name +
                                 "': initialize failed: " + why(init));
    version_ = init.result.value("protocolVersion", std::string());
    const auto& ok = mcp_supported_versions();
    if (std::find(ok.begin(), ok.end(), version_) == ok.end())
        throw std::runtime_error(
            "MCP server '" + spec_.name + "' speaks protocol version '" + version_ +
            "', which this client does not (it speaks 2024-11-05 to 2025-11-25)");
    process_->notify("notifications/initialized", Json::object());
}

void McpClient::list_tools() {
    std::vector<McpToolInfo> found;
    Json cursor;
    for (int page = 0; page < 100; ++page) {
        Json params = Json::object();
        if (cursor.is_string()) params["cursor"] = cursor;
        const RpcReply r = blocking("tools/list", params, spec_.start_timeout);
        if (!r.ok)
            throw std::runtime_error("MCP server '" + spec_.name + "': tools/list failed: " +
                                     r.error.value("message", std::string("?")));
        for (const auto& t : r.result.value("tools", Json::array())) {
            if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
            McpToolInfo info;
            info.name = t["name"];
            info.description = t.value("description", std::string());
            info.input_schema = t.value("inputSchema", Json{{"type", "object"}});
            found.push_back(std::move(info));
        }
        cursor = r.result.value("nextCursor", Json());
        if (!cursor.is_string()) break;
    }
    std::lock_guard lock(mutex_);
    tools_ = std::move(found);
}

std::vector<McpToolInfo> McpClient::tools() const {
    std::lock_guard lock(mutex_);
    return tools_;
}

void McpClient::set_log_sink(std::function<void(const std::string&)> sink) {
    std::lock_guard lock(mutex_);
    log_sink_ = std::move(sink);
    for (const auto& line : stderr_) log_sink_("[" + spec_.name + "] " + line);  // start-up lines
}

std::vector<std::string> McpClient::recent_stderr() const {
    std::lock_guard lock(mutex_);
    return {stderr_.begin(), stderr_.end()};
}

void McpClient::on_notification(const std::string& method, const Json& params) {
    if (method == "notifications/progress") {
        const std::string token = params.value("progressToken", Json()).dump();
        std::lock_guard lock(mutex_);
        auto it = progress_tokens_.find(token);
        if (it != progress_tokens_.end()) process_->extend(it->second);
    } else if (method == "notifications/tools/list_changed") {
        tools_changed_ = true;
    } else if (method == "notifications/message") {
        std::lock_guard lock(mutex_);
        stderr_.push_back("[log] " + params.dump());
        if (stderr_.size() > kStderrLines) stderr_.pop_front();
    }
}

std::int64_t McpClient::call(const std::string& tool, const Json& arguments,
                             std::function<void(McpCallResult)> done,
                             const std::string& traceparent) {
    if (!process_->alive()) {
        if (restarts_ >= spec_.max_restarts) {
            done(McpCallResult{true,
                               {},
                               "the MCP server '" + spec_.name + "' " +
                                   process_->exit_description() + " and was restarted " +
                                   std::to_string(restarts_) + " times already"});
            return 0;
        }
        ++restarts_;
        try {
            start();
        } catch (const std::exception& e) {
            done(McpCallResult{
                true, {}, std::string("the MCP server could not be restarted: ") + e.what()});
            return 0;
        }
    }
    static std::atomic<std::int64_t> next_token{1};
    const std::string token = "gossamer-" + std::to_string(next_token++);
    Json params{
        {"name", tool}, {"arguments", arguments}, {"_meta", Json{{"progressToken", token}}}};
    if (!traceparent.empty()) params["_meta"]["traceparent"] = traceparent;
    auto request_id = std::make_shared<std::atomic<std::int64_t>>(0);
    auto finish = [this, token, request_id, done = std::move(done)](RpcReply r) {
        {
            std::lock_guard lock(mutex_);
            progress_tokens_.erase(Json(token).dump());
        }
        if (r.ok) return done(McpCallResult{false, std::move(r.result), {}});
        const int code = r.error.value("code", 0);
        std::string text = r.error.value("message", std::string("unknown error"));
        if (code == -32000) {  // our timeout: tell the server to stop working on it
            process_->notify("notifications/cancelled",
                             Json{{"requestId", request_id->load()}, {"reason", "timeout"}});
            text = "the tool did not answer within its time limit and was cancelled";
        } else if (code != -32001 && code != -32800)
            text = "MCP error " + std::to_string(code) + ": " + text;
        done(McpCallResult{true, {}, text});
    };
    std::lock_guard lock(mutex_);
    const auto id = process_->request("tools/call", params, spec_.call_timeout, spec_.hard_cap,
                                      std::move(finish));
    *request_id = id;
    progress_tokens_[Json(token).dump()] = id;
    return id;
}

void McpClient::cancel(std::int64_t handle, const std::string& reason) {
    if (handle == 0) return;
    process_->notify("notifications/cancelled", Json{{"requestId", handle}, {"reason", reason}});
    process_->abandon(handle, "cancelled: " + reason);
}

}  // namespace gossamer::tools
