#include "server/mcp_http_handler.h"

#include "runtime/random_hex.h"
#include "server/viewer_request.h"

namespace gossamer::server {
namespace {

// The host part of an Origin ("http://localhost:3000" -> "localhost:3000").
std::string origin_host(const std::string& origin) {
    const auto scheme = origin.find("://");
    return scheme == std::string::npos ? origin : origin.substr(scheme + 3);
}

void send_error(Reply& reply, int status, const std::string& message, int code = -32000,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    const McpJson body{
        {"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", code}, {"message", message}}}};
    reply.send(status, "application/json", body.dump(), std::move(headers));
}

bool has_request(const McpJson& message) {
    const auto one = [](const McpJson& m) {
        return m.is_object() && m.contains("method") && m.contains("id") && !m["id"].is_null();
    };
    if (!message.is_array()) return one(message);
    for (const McpJson& m : message)
        if (one(m)) return true;
    return false;
}

bool is_initialize(const McpJson& message) {
    return message.is_object() && message.value("method", "") == "initialize";
}

}  // namespace

Handler mcp_http_handler(std::shared_ptr<McpEndpoint> endpoint, McpHttpOptions options) {
    auto sessions = std::make_shared<std::set<std::string>>();
    return [endpoint, options, sessions](const HttpRequest& request, std::shared_ptr<Reply> reply) {
        if (request.path != options.path)
            return send_error(*reply, 404, "not found: use " + options.path);
        if (options.loopback) {  // DNS rebinding: a page elsewhere names its own host
            if (!loopback_host(request.header("host")))
                return send_error(*reply, 403, "Host must name this machine's loopback");
            const std::string origin = request.header("origin");
            if (!origin.empty() && !loopback_host(origin_host(origin)))
                return send_error(*reply, 403, "Origin " + origin + " is not allowed");
        }
        if (!options.api_key.empty() &&
            request.header("authorization") != "Bearer " + options.api_key)
            return send_error(*reply, 401, "a valid key is required (Authorization: Bearer KEY)",
                              -32001, {{"WWW-Authenticate", "Bearer"}});
        const std::string session = request.header("mcp-session-id");
        if (request.method == "DELETE") {
            if (session.empty() || !sessions->erase(session))
                return send_error(*reply, 404, "no such session");
            return reply->send(200, "application/json", "{}");
        }
        if (request.method != "POST")
            return send_error(*reply, 405, "this server sends nothing unasked: POST or DELETE",
                              -32000, {{"Allow", "POST, DELETE"}});
        McpJson message;
        try {
            message = McpJson::parse(request.body);
        } catch (const McpJson::exception& e) {
            return send_error(*reply, 400, std::string("not JSON: ") + e.what(), -32700);
        }
        std::vector<std::pair<std::string, std::string>> headers;
        if (is_initialize(message)) {
            if (sessions->size() >= options.max_sessions)
                return send_error(*reply, 503, "too many sessions; end one with DELETE");
            const std::string id = runtime::random_hex(32);
            sessions->insert(id);
            headers.emplace_back("Mcp-Session-Id", id);
        } else if (!McpEndpoint::stateless(message.is_array() && !message.empty() ? message[0]
                                                                                  : message)) {
            if (session.empty())
                return send_error(*reply, 400, "Mcp-Session-Id is required (initialize first)");
            if (!sessions->count(session))
                return send_error(*reply, 404, "the session ended or never was: initialize again");
        }
        if (!has_request(message)) {  // notifications and responses: accepted, nothing owed
            endpoint->handle(message, [](std::optional<McpJson>) {});
            return reply->send(202, "application/json", "");
        }
        endpoint->handle(message, [reply, headers](std::optional<McpJson> answer) {
            if (reply->gone()) return;
            reply->send(
                200, "application/json",
                answer ? answer->dump(-1, ' ', false, McpJson::error_handler_t::replace) : "",
                headers);
        });
    };
}

}  // namespace gossamer::server
