#include "tools/mcp/mcp_client.h"

#include <future>
#include <stdexcept>
#include <thread>

namespace gossamer::tools {

namespace {
constexpr std::size_t kStderrLines = 50;
constexpr const char* kStatelessVersion = "2026-07-28";
const Json kClientInfo{{"name", "gossamer"}, {"version", "0.1.0"}};
}  // namespace

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
    auto on_note = [this](const std::string& m, const Json& p) { on_notification(m, p); };
    auto on_request = [](const std::string& method, const Json&) -> Json {
        if (method == "ping") return Json::object();
        if (method == "roots/list") return Json{{"roots", Json::array()}};
        throw std::runtime_error("method not found: " + method);
    };
    auto on_log = [this](const std::string& line) {
        std::lock_guard lock(mutex_);
        stderr_.push_back(line);
        if (stderr_.size() > kStderrLines) stderr_.pop_front();
        if (log_sink_) log_sink_("[" + spec_.name + "] " + line);
    };
    peer_.reset();  // a restart: the old server goes first
    if (!spec_.http.url.empty())
        peer_ = std::make_unique<StreamableHttpPeer>(spec_.http, on_note, on_request, on_log);
    else
        peer_ = std::make_unique<JsonRpcProcess>(spec_.process, on_note, on_request, on_log);
    handshake();
    list_tools();
}

RpcReply McpClient::blocking(const std::string& method, Json params,
                             std::chrono::milliseconds timeout) {
    auto promise = std::make_shared<std::promise<RpcReply>>();
    auto future = promise->get_future();
    peer_->request(method, std::move(params), timeout, timeout,
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
    // A server of the stateless era (2026-07-28) answers server/discover with the versions it
    // supports; a legacy one says "method not found" (or, over HTTP, refuses a request outside
    // a session). Either answer, or none within 3 s, means the legacy handshake.
    const RpcReply discover =
        blocking("server/discover", with_meta(Json::object()), std::chrono::milliseconds(3000));
    if (discover.ok) {
        const Json versions = discover.result.value("supportedVersions", Json::array());
        if (versions.is_array() && std::find(versions.begin(), versions.end(),
                                             Json(kStatelessVersion)) != versions.end()) {
            version_ = kStatelessVersion;
            stateless_ = true;
            peer_->handshake_done(version_);
            return;
        }
    }
    if (!peer_->alive()) {
        // Its last words (a loader's "not an ELF file", a missing module) say why, not the status.
        for (int i = 0; i < 20 && recent_stderr().empty(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::string text =
            "MCP server '" + spec_.name + "' " + peer_->exit_description() + " during start-up";
        const auto lines = recent_stderr();
        const std::size_t from = lines.size() > 3 ? lines.size() - 3 : 0;
        for (std::size_t i = from; i < lines.size(); ++i)
            text += (i == from ? ": " : " | ") + lines[i];
        throw std::runtime_error(text);
    }
    Json params{{"protocolVersion", mcp_supported_versions().front()},
                {"capabilities", Json::object()},
                {"clientInfo", kClientInfo}};
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
    peer_->notify("notifications/initialized", Json::object());
    peer_->handshake_done(version_);
}

Json McpClient::with_meta(Json params) const {
    // Stateless era: who we are and what we speak travel with every request (the probe
    // itself carries them too, harmless to a legacy server).
    if (!params.is_object()) params = Json::object();
    Json& meta = params["_meta"];
    if (!meta.is_object()) meta = Json::object();
    meta["io.modelcontextprotocol/protocolVersion"] = kStatelessVersion;
    meta["io.modelcontextprotocol/clientCapabilities"] = Json::object();
    meta["io.modelcontextprotocol/clientInfo"] = kClientInfo;
    return params;
}

void McpClient::list_tools() {
    std::vector<McpToolInfo> found;
    Json cursor;
    for (int page = 0; page < 100; ++page) {
        Json params = Json::object();
        if (cursor.is_string()) params["cursor"] = cursor;
        const RpcReply r =
            blocking("tools/list", stateless_ ? with_meta(params) : params, spec_.start_timeout);
        if (!r.ok)
            throw std::runtime_error("MCP server '" + spec_.name + "': tools/list failed: " +
                                     r.error.value("message", std::string("?")));
        for (const auto& t : r.result.value("tools", Json::array())) {
            if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
            McpToolInfo info;
            info.name = t["name"];
            info.description = t.value("description", std::string());
            info.input_schema = t.value("inputSchema", Json{{"type", "object"}});
            if (t.contains("outputSchema") && t["outputSchema"].is_object())
                info.output_schema = t["outputSchema"];
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
        if (it != progress_tokens_.end()) peer_->extend(it->second);
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
    if (!peer_->alive()) {
        if (restarts_ >= spec_.max_restarts) {
            done(McpCallResult{true,
                               {},
                               "the MCP server '" + spec_.name + "' " + peer_->exit_description() +
                                   " and was restarted " + std::to_string(restarts_) +
                                   " times already"});
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
    if (stateless_) params = with_meta(std::move(params));
    auto request_id = std::make_shared<std::atomic<std::int64_t>>(0);
    auto finish = [this, token, request_id, done = std::move(done)](RpcReply r) {
        {
            std::lock_guard lock(mutex_);
            progress_tokens_.erase(Json(token).dump());
        }
        if (r.ok && r.result.value("resultType", std::string("complete")) == "input_required")
            return done(McpCallResult{true,
                                      {},
                                      "the tool asked for more input (resultType "
                                      "input_required), which gossamer cannot give"});
        if (r.ok) return done(McpCallResult{false, std::move(r.result), {}});
        const int code = r.error.value("code", 0);
        std::string text = r.error.value("message", std::string("unknown error"));
        if (code == -32000) {  // our timeout: tell the server to stop working on it
            peer_->notify("notifications/cancelled",
                          Json{{"requestId", request_id->load()}, {"reason", "timeout"}});
            text = "the tool did not answer within its time limit and was cancelled";
        } else if (code != -32001 && code != -32800)
            text = "MCP error " + std::to_string(code) + ": " + text;
        done(McpCallResult{true, {}, text});
    };
    std::lock_guard lock(mutex_);
    const auto id =
        peer_->request("tools/call", params, spec_.call_timeout, spec_.hard_cap, std::move(finish));
    *request_id = id;
    progress_tokens_[Json(token).dump()] = id;
    return id;
}

void McpClient::cancel(std::int64_t handle, const std::string& reason) {
    if (handle == 0) return;
    peer_->notify("notifications/cancelled", Json{{"requestId", handle}, {"reason", reason}});
    peer_->abandon(handle, "cancelled: " + reason);
}

}  // namespace gossamer::tools
