#include "server/mcp_endpoint.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <memory>

#include "tools/schema_check.h"

namespace gossamer::server {
namespace {

constexpr const char* kStatelessVersion = "2026-07-28";
constexpr const char* kMetaVersion = "io.modelcontextprotocol/protocolVersion";

McpJson error_reply(const McpJson& id, int code, const std::string& message) {
    return McpJson{
        {"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

McpJson result_reply(const McpJson& id, McpJson result) {
    return McpJson{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

McpJson capabilities() {
    return McpJson{{"tools", {{"listChanged", false}}}, {"logging", McpJson::object()}};
}

}  // namespace

const std::vector<std::string>& mcp_served_versions() {
    static const std::vector<std::string> versions = {kStatelessVersion, "2025-11-25", "2025-06-18",
                                                      "2025-03-26", "2024-11-05"};
    return versions;
}

std::vector<ServedTool> served_tools(const runtime::ToolRegistry& registry) {
    std::vector<ServedTool> out;
    const auto add_namespaces = [&](const std::optional<harmony::ToolNamespaces>& spaces) {
        if (!spaces) return;
        for (const auto& [name, ns] : *spaces) {
            if (ns.tools.empty()) {  // a namespace addressed as a whole, its content is code
                ServedTool t;
                t.name = name;
                t.recipient = name;
                t.takes_code = true;
                t.description = ns.description.value_or("");
                t.input_schema = {
                    {"type", "object"},
                    {"properties", {{"code", {{"type", "string"}, {"description", "the code"}}}}},
                    {"required", {"code"}}};
                out.push_back(std::move(t));
                continue;
            }
            for (const auto& fn : ns.tools) {
                ServedTool t;
                t.name = name == "functions" ? fn.name : name + "." + fn.name;
                t.recipient = name + "." + fn.name;
                t.function = fn.name;
                t.description = fn.description;
                t.input_schema = fn.parameters && fn.parameters->is_object()
                                     ? *fn.parameters
                                     : McpJson{{"type", "object"}};
                if (t.input_schema.value("type", McpJson("object")) != "object") {
                    t.wrapped = true;
                    t.input_schema = {{"type", "object"},
                                      {"properties", {{"input", t.input_schema}}},
                                      {"required", {"input"}}};
                }
                out.push_back(std::move(t));
            }
        }
    };
    add_namespaces(registry.system_tools());
    add_namespaces(registry.developer_tools());
    return out;
}

McpEndpoint::McpEndpoint(runtime::ToolRegistry& registry, tools::ToolContext context,
                         std::string version)
    : registry_(registry),
      context_(std::move(context)),
      version_(std::move(version)),
      tools_(served_tools(registry)) {}

bool McpEndpoint::stateless(const McpJson& message) {
    if (!message.is_object()) return false;
    const auto params = message.find("params");
    if (params == message.end() || !params->is_object()) return false;
    const auto meta = params->find("_meta");
    return meta != params->end() && meta->is_object() && meta->contains(kMetaVersion);
}

void McpEndpoint::handle(const McpJson& message,
                         std::function<void(std::optional<McpJson>)> answer) {
    if (!message.is_array()) return handle_one(message, std::move(answer));
    if (message.empty())
        return answer(error_reply(nullptr, -32600, "an empty batch is not a request"));
    // A batch: one answer with every reply, once all are in.
    struct Batch {
        std::vector<McpJson> replies;
        std::size_t left;
        std::function<void(std::optional<McpJson>)> answer;
    };
    auto batch = std::make_shared<Batch>(Batch{{}, message.size(), std::move(answer)});
    for (const McpJson& one : message)
        handle_one(one, [batch](std::optional<McpJson> reply) {
            if (reply) batch->replies.push_back(std::move(*reply));
            if (--batch->left > 0) return;
            if (batch->replies.empty()) return batch->answer(std::nullopt);
            batch->answer(McpJson(batch->replies));
        });
}

void McpEndpoint::handle_one(const McpJson& message,
                             std::function<void(std::optional<McpJson>)> answer) {
    const auto reply = [&](std::optional<McpJson> r) {
        boost::asio::post(context_.executor,
                          [answer = std::move(answer), r = std::move(r)] { answer(r); });
    };
    if (!message.is_object() || message.value("jsonrpc", "") != "2.0")
        return reply(error_reply(nullptr, -32600, "not a JSON-RPC 2.0 message"));
    const bool has_id = message.contains("id") && !message["id"].is_null();
    if (!message.contains("method")) return reply(std::nullopt);  // a response to us: none sent
    if (!message["method"].is_string())
        return reply(error_reply(has_id ? message["id"] : nullptr, -32600, "method: a string"));
    const std::string method = message["method"];
    if (!has_id) return reply(std::nullopt);  // notifications: initialized, cancelled, ...
    const McpJson& id = message["id"];
    if (!id.is_string() && !id.is_number_integer())
        return reply(error_reply(nullptr, -32600, "id: a string or an integer"));
    const McpJson params = message.value("params", McpJson::object());
    if (!params.is_object()) return reply(error_reply(id, -32602, "params: an object"));
    const bool modern = stateless(message);
    const McpJson server_info{{"name", "gossamer"}, {"version", version_}};
    const auto complete = [&](McpJson result) {
        if (modern) result["resultType"] = "complete";
        return result_reply(id, std::move(result));
    };
    if (method == "initialize") {
        const std::string asked = params.value("protocolVersion", std::string());
        const auto& served = mcp_served_versions();
        const bool known = asked != kStatelessVersion &&
                           std::find(served.begin(), served.end(), asked) != served.end();
        return reply(result_reply(id, {{"protocolVersion", known ? asked : served[1]},
                                       {"capabilities", capabilities()},
                                       {"serverInfo", server_info}}));
    }
    if (method == "server/discover") {
        if (modern && params["_meta"][kMetaVersion] != kStatelessVersion)
            return reply(McpJson{{"jsonrpc", "2.0"},
                                 {"id", id},
                                 {"error",
                                  {{"code", -32022},
                                   {"message", "unsupported protocol version"},
                                   {"data", {{"supported", {kStatelessVersion}}}}}}});
        return reply(complete({{"supportedVersions", mcp_served_versions()},
                               {"capabilities", capabilities()},
                               {"serverInfo", server_info}}));
    }
    if (method == "ping" || method == "logging/setLevel") return reply(complete(McpJson::object()));
    if (method == "tools/list") {
        McpJson list = McpJson::array();
        for (const auto& t : tools_)
            list.push_back({{"name", t.name},
                            {"description", t.description},
                            {"inputSchema", t.input_schema}});
        return reply(complete({{"tools", std::move(list)}}));
    }
    if (method == "tools/call") return call_tool(id, params, modern, std::move(answer));
    reply(error_reply(id, -32601, "method not found: " + method));
}

void McpEndpoint::call_tool(const McpJson& id, const McpJson& params, bool modern,
                            std::function<void(std::optional<McpJson>)> answer) {
    const auto fail = [&](int code, const std::string& why) {
        boost::asio::post(context_.executor,
                          [answer, r = error_reply(id, code, why)] { answer(r); });
    };
    const std::string name = params.value("name", std::string());
    const auto served = std::find_if(tools_.begin(), tools_.end(),
                                     [&](const ServedTool& t) { return t.name == name; });
    if (served == tools_.end()) return fail(-32602, "unknown tool: " + name);
    const auto route = registry_.route(served->recipient);
    if (!route) return fail(-32602, "unknown tool: " + name);
    McpJson arguments = params.value("arguments", McpJson::object());
    if (!arguments.is_object()) return fail(-32602, "arguments: an object");
    const auto problems = tools::check_against_schema(arguments, served->input_schema);
    if (!problems.empty()) {
        std::string why = "arguments do not match the tool's schema:";
        for (const auto& p : problems) why += " " + p + ";";
        return fail(-32602, why);
    }
    tools::ToolCall call;
    call.recipient = served->recipient;
    call.function = served->function;
    call.channel = "commentary";
    if (served->takes_code) {
        call.arguments = arguments["code"].get<std::string>();
        call.content_type = "code";
    } else if (served->wrapped) {
        const McpJson& input = arguments["input"];
        call.arguments = input.is_string() ? input.get<std::string>() : input.dump();
    } else {
        call.arguments = arguments.dump();
        call.content_type = "json";
    }
    route->tool->invoke(call, context_, [id, modern, answer](tools::ToolOutput out) {
        McpJson result{{"content", {{{"type", "text"}, {"text", out.text}}}},
                       {"isError", out.is_error}};
        if (modern) result["resultType"] = "complete";
        answer(result_reply(id, std::move(result)));
    });
}

}  // namespace gossamer::server
