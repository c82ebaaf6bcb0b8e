// libFuzzer target for the server's request parsers (server/request_parsers.h): the bytes
// are an HTTP body for one of the three endpoints (the first byte picks: 0 Responses, 1
// Chat Completions, 2 generate, 3 a reasoning item's encrypted_content, 4 the structured-
// output checker: a JSON Schema, a NUL, then bytes fed one at a time; whatever it calls
// complete must parse as JSON; 5 the trace viewer's request reading (server/viewer_request.h):
// a query string, a NUL, a Cookie header, a NUL, a Host header; 6 an MCP frame for
// `gossamer mcp serve`: answered exactly once, with JSON-RPC 2.0 result xor error).
// Properties: no crash, no sanitizer report, errors only as ApiError with a 4xx status and a
// message that names what is wrong; a parsed request is self-consistent (every tool result
// names a call, a named tool_choice names a listed tool).
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/json_constraint.h"
#include "server/mcp_endpoint.h"
#include "server/request_parsers.h"
#include "server/viewer_request.h"

namespace {

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "fuzz_server_requests: %s\n", what);
    std::abort();
}

void check_input(const gossamer::server::TurnInput& in) {
    using gossamer::harmony::Role;
    for (const auto& m : in.messages)
        if (m.role == Role::tool && (!m.name || m.name->empty()))
            broken("a tool result without a name");
    if (in.tool_choice == gossamer::server::ToolChoice::named) {
        bool listed = false;
        for (const auto& t : in.tools)
            listed = listed || gossamer::server::recipient_of(t) == in.tool_choice_name;
        if (!listed) broken("a named tool_choice that is not a listed tool");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
    namespace s = gossamer::server;
    namespace runtime_ns = gossamer::runtime;
    try {
        switch (data[0] % 7) {
            case 6: {  // an MCP frame for `gossamer mcp serve` (server/mcp_endpoint.h)
                const auto message = s::McpJson::parse(body, nullptr, false);
                if (message.is_discarded()) break;
                static gossamer::runtime::ToolRegistry registry;  // no tools: protocol only
                boost::asio::io_context io;
                gossamer::tools::ToolContext context;
                context.executor = io.get_executor();
                s::McpEndpoint endpoint(registry, context, "fuzz");
                int answers = 0;
                endpoint.handle(message, [&](std::optional<s::McpJson> reply) {
                    ++answers;
                    if (!reply) return;
                    const auto check = [](const s::McpJson& r) {
                        if (!r.is_object() || r.value("jsonrpc", "") != "2.0" || !r.contains("id"))
                            broken("an MCP reply that is not JSON-RPC 2.0");
                        if (r.contains("result") == r.contains("error"))
                            broken("an MCP reply with both or neither of result and error");
                    };
                    if (reply->is_array())
                        for (const auto& r : *reply) check(r);
                    else
                        check(*reply);
                });
                io.run();
                if (answers != 1) broken("an MCP message answered other than once");
                break;
            }
            case 0:
                check_input(s::parse_responses_request(s::parse_body(body)));
                break;
            case 1:
                check_input(s::parse_chat_request(s::parse_body(body)));
                break;
            case 2: {
                const auto r = s::parse_generate_request(s::parse_body(body), 201088);
                for (auto t : r.token_ids)
                    if (t < 0 || t >= 201088) broken("a token id out of range");
                break;
            }
            case 5: {
                const auto a = body.find('\0');
                const auto b = a == std::string::npos ? a : body.find('\0', a + 1);
                const std::string query = body.substr(0, a);
                const std::string cookie =
                    a == std::string::npos ? "" : body.substr(a + 1, b == a ? b : b - a - 1);
                const std::string host = b == std::string::npos ? "" : body.substr(b + 1);
                for (const char* name : {"state", "name", "step", "key", ""}) {
                    const auto value = s::query_param(query, name);
                    // (an invalid UTF-8 byte decodes to U+FFFD: 3 bytes)
                    if (value.size() > 3 * query.size())
                        broken("a decoded value out of proportion to its query");
                    const auto n = s::int_param(query, name, 7, 1000);
                    if (n && (*n < 0 || *n > 1000)) broken("a number outside its range");
                    if (s::cookie_value(cookie, name).size() > cookie.size())
                        broken("a cookie longer than its header");
                }
                if (s::loopback_host(host) && !host.starts_with("localhost") &&
                    !host.starts_with("127.0.0.1") && !host.starts_with("[::1]"))
                    broken("a host taken for loopback that does not name it");
                break;
            }
            case 4: {
                const auto nul = body.find('\0');
                if (nul == std::string::npos) break;
                const auto schema =
                    runtime_ns::SchemaJson::parse(body.substr(0, nul), nullptr, false);
                if (schema.is_discarded()) break;
                runtime_ns::JsonPrefix prefix(&schema);
                std::string fed;
                for (std::size_t i = nul + 1; i < body.size(); ++i) {
                    if (!prefix.feed(static_cast<unsigned char>(body[i]))) break;
                    fed += body[i];
                }
                if (prefix.complete() &&
                    runtime_ns::SchemaJson::parse(fed, nullptr, false).is_discarded())
                    broken("the checker accepted a document that is not JSON");
                break;
            }
            default: {
                const auto decoded = s::decode_reasoning(body);
                if (decoded) {
                    const auto again =
                        s::decode_reasoning(s::encode_reasoning(decoded->text, decoded->tokens));
                    if (!again || again->tokens != decoded->tokens)
                        broken("reasoning does not round-trip");
                }
            }
        }
    } catch (const s::ApiError& e) {
        if (e.status < 400 || e.status >= 500 || std::string(e.what()).empty())
            broken("an ApiError without a 4xx status or a message");
    }
    return 0;
}
