// `gossamer mcp tools` and `gossamer mcp call`: gossamer's MCP client on its own, against a
// server at a URL (Streamable HTTP) or a command (stdio): what an agent's `mcp:` entry would
// see, for trying a server before putting it in a spec, and the client the MCP conformance
// suite drives (tests/mcp/conformance_client.sh). Thin: the client is tools/mcp.
// `gossamer mcp serve`: the other way round, a spec's tools served to other agents
// (server/mcp_endpoint.h), over stdio or Streamable HTTP (server/mcp_http_handler.h).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/streambuf.hpp>
#include <csignal>
#include <istream>

#include "cli/cli_args.h"
#include "cli/listen_options.h"
#include "cli/run_common.h"
#include "runtime/random_hex.h"
#include "runtime/session_runner.h"
#include "runtime/setup_error.h"
#include "server/http_server.h"
#include "server/mcp_endpoint.h"
#include "server/mcp_http_handler.h"
#include "tools/mcp/mcp_client.h"
#include "tools/mcp/mcp_content.h"

namespace gossamer::cli {
namespace {

using tools::Json;

// Options before "--", and the server: a URL (the one positional) or the command after "--".
struct Target {
    Parsed options;
    tools::McpServerSpec spec;
};

Target target_of(Args args, std::size_t extra_positionals) {
    const auto dashes = std::find(args.begin(), args.end(), std::string_view("--"));
    Target t;
    t.options =
        parse_args(Args(args.begin(), dashes), {"--header", "--bearer-env", "--timeout", "--args"},
                   {"--json"}, extra_positionals + 1);
    const auto& pos = t.options.positionals;
    const bool command = dashes != args.end();
    if (command) {
        if (dashes + 1 == args.end()) throw InputError("nothing after '--' (the server's command)");
        for (auto it = dashes + 1; it != args.end(); ++it) t.spec.process.argv.emplace_back(*it);
        t.spec.process.env = tools::allowlisted_environment();
        t.spec.name = t.spec.process.argv.front();
        if (pos.size() > extra_positionals)
            throw InputError("give the server as a URL or as '-- COMMAND', not both");
    } else {
        if (pos.empty() || pos.size() != extra_positionals + 1)
            throw InputError("give the server: a URL, or '-- COMMAND ARGS...'");
        t.spec.http.url = pos.front();
        if (!t.spec.http.url.starts_with("http://") && !t.spec.http.url.starts_with("https://"))
            throw InputError("'" + t.spec.http.url + "' is not an http(s):// URL");
        t.spec.name = t.spec.http.url;
    }
    for (const auto& header : t.options.all("--header")) {
        const auto colon = header.find(':');
        if (colon == std::string::npos || colon == 0)
            throw InputError("--header '" + header.substr(0, 40) + "': expected 'Name: value'");
        std::string value = header.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        t.spec.http.headers.emplace_back(header.substr(0, colon), value);
    }
    if (auto name = t.options.get("--bearer-env")) {
        const char* token = std::getenv(name->c_str());
        if (!token || !*token)
            throw InputError("--bearer-env " + *name + ": the variable is not set");
        t.spec.http.headers.emplace_back("Authorization", std::string("Bearer ") + token);
    }
    if ((t.options.get("--header") || t.options.get("--bearer-env")) && command)
        throw InputError("--header and --bearer-env are for a server at a URL");
    if (auto seconds = t.options.get("--timeout")) {
        const auto ms = std::chrono::milliseconds(
            static_cast<long>(parse_number(*seconds, "--timeout", 0.1, 86400.0) * 1000));
        t.spec.call_timeout = ms;
        t.spec.start_timeout = ms;
    }
    return t;
}

std::unique_ptr<tools::McpClient> connect(const tools::McpServerSpec& spec) {
    try {
        return std::make_unique<tools::McpClient>(spec);
    } catch (const std::exception& e) {
        throw InputError(e.what());  // no server, no handshake: exit 2 with the reason
    }
}

}  // namespace

int cmd_mcp_tools(Args args) {
    const Target t = target_of(args, 0);
    auto client = connect(t.spec);
    if (t.options.has("--json")) {
        Json out{{"protocol_version", client->protocol_version()},
                 {"stateless", client->stateless()},
                 {"tools", Json::array()}};
        for (const auto& tool : client->tools())
            out["tools"].push_back({{"name", tool.name},
                                    {"description", tool.description},
                                    {"input_schema", tool.input_schema}});
        write_stdout(out.dump(2) + "\n");
        return 0;
    }
    std::string text = "protocol " + client->protocol_version() +
                       (client->stateless() ? " (stateless)" : "") + ", " +
                       std::to_string(client->tools().size()) + " tools\n";
    for (const auto& tool : client->tools())
        text += "  " + tool.name + (tool.description.empty() ? "" : ": " + tool.description) + "\n";
    write_stdout(text);
    return 0;
}

int cmd_mcp_call(Args args) {
    const Target t = target_of(args, 1);
    if (t.options.positionals.empty() ||
        (!t.spec.http.url.empty() && t.options.positionals.size() < 2))
        throw InputError("missing the tool's name (gossamer mcp call URL TOOL)");
    const std::string tool = t.options.positionals.back();
    Json arguments = Json::object();
    if (auto text = t.options.get("--args")) {
        try {
            arguments = Json::parse(*text);
        } catch (const Json::exception& e) {
            throw InputError(std::string("--args: not JSON: ") + e.what());
        }
        if (!arguments.is_object()) throw InputError("--args: must be a JSON object");
    }
    auto client = connect(t.spec);
    std::promise<tools::McpCallResult> promise;
    client->call(tool, arguments, [&](tools::McpCallResult r) { promise.set_value(std::move(r)); });
    const tools::McpCallResult r = promise.get_future().get();
    if (t.options.has("--json")) {
        write_stdout((r.protocol_error ? Json{{"error", r.error}} : r.result).dump(2) + "\n");
        return r.protocol_error ? 1 : 0;
    }
    if (r.protocol_error) {
        std::fprintf(stderr, "gossamer mcp call: %s\n", r.error.c_str());
        return 1;
    }
    const auto output = tools::mcp_result_to_output(r.result);
    write_stdout(output.text + (output.text.ends_with('\n') ? "" : "\n"));
    return output.is_error ? 1 : 0;
}

}  // namespace gossamer::cli

namespace gossamer::cli {

// `gossamer mcp serve SPEC [--http PORT]`: the spec's tools served to other agents over MCP
// (server/mcp_endpoint.h), on stdio (one JSON-RPC message per line) or Streamable HTTP.
int cmd_mcp_serve(Args args) {
    Parsed p =
        parse_args(args, {"--http", "--host", "--api-key", "--workspace", "--sandbox"}, {}, 1);
    if (p.positionals.empty()) throw InputError("missing the agent spec (gossamer mcp serve SPEC)");
    runtime::AgentSpec spec = load_spec(p.positionals[0]);
    apply_overrides(p, spec);
    const bool http = p.get("--http").has_value();
    if (!http && (p.get("--host") || p.get("--api-key")))
        throw InputError("--host and --api-key are for --http");
    ListenOptions listen;
    if (http) {
        Parsed q = p;
        q.options.emplace_back("--port", *p.get("--http"));
        listen = listen_options(q, 0);
    }
    std::error_code ec;
    const std::filesystem::path workspace =
        std::filesystem::canonical(p.get("--workspace").value_or("."), ec);
    if (ec || !std::filesystem::is_directory(workspace))
        throw InputError("--workspace '" + p.get("--workspace").value_or(".") +
                         "' is not an existing folder");
    std::unique_ptr<runtime::ToolRegistry> registry;
    try {
        registry = runtime::start_tools(
            spec, std::filesystem::temp_directory_path() / "gossamer-mcp-serve");
    } catch (const runtime::SetupError& e) {
        throw InputError(e.what());
    }
    boost::asio::io_context io;
    tools::ToolContext context;
    context.executor = io.get_executor();
    context.session_id = "mcp-" + runtime::random_hex(12);
    context.workspace = workspace;
    context.timeout =
        std::chrono::milliseconds(static_cast<long>(spec.limits.tool_timeout_seconds * 1000));
    auto endpoint = std::make_shared<server::McpEndpoint>(*registry, context, GOSSAMER_VERSION);
    if (endpoint->tools().empty()) throw InputError(spec.name + ": the spec has no tools to serve");
    std::string names;
    for (const auto& t : endpoint->tools()) names += (names.empty() ? "" : ", ") + t.name;
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);

    if (http) {
        std::unique_ptr<server::HttpServer> server;
        try {
            server::McpHttpOptions options;
            options.api_key = listen.api_key;
            options.loopback = boost::asio::ip::make_address(listen.http.host).is_loopback();
            server = std::make_unique<server::HttpServer>(
                io, listen.http, server::mcp_http_handler(endpoint, options));
        } catch (const std::system_error& e) {
            throw InputError(e.what());
        }
        const auto url = base_url(listen.http.host, server->port()) + "/mcp";
        std::fprintf(stderr, "gossamer mcp serve: %s (%s) on %s, workspace %s\n", spec.name.c_str(),
                     names.c_str(), url.c_str(), workspace.c_str());
        std::printf("{\"event\":\"listening\",\"host\":\"%s\",\"port\":%u,\"url\":\"%s\"}\n",
                    listen.http.host.c_str(), server->port(), url.c_str());
        std::fflush(stdout);
        signals.async_wait([&](const boost::system::error_code& e, int) {
            if (e) return;
            server->stop();
            registry->cancel_all();
            io.stop();
        });
        io.run();
        return 0;
    }

    // stdio: a line in, its answer out (in completion order); EOF ends once answers are out.
    std::fprintf(stderr, "gossamer mcp serve: %s (%s) on stdio, workspace %s\n", spec.name.c_str(),
                 names.c_str(), workspace.c_str());
    boost::asio::posix::stream_descriptor input(io, ::dup(STDIN_FILENO));
    boost::asio::streambuf buffer;
    int in_flight = 0;
    bool ended = false;
    const auto write_line = [](const tools::Json& message) {
        const std::string line =
            message.dump(-1, ' ', false, tools::Json::error_handler_t::replace) + "\n";
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fflush(stdout);
    };
    std::function<void()> read_next = [&] {
        boost::asio::async_read_until(
            input, buffer, '\n', [&](const boost::system::error_code& e, std::size_t) {
                if (e) {
                    ended = true;
                    if (in_flight == 0) io.stop();
                    return;
                }
                std::istream stream(&buffer);
                std::string line;
                std::getline(stream, line);
                if (line.find_first_not_of(" \t\r") != std::string::npos) {
                    tools::Json message;
                    try {
                        message = tools::Json::parse(line);
                    } catch (const tools::Json::exception& x) {
                        write_line({{"jsonrpc", "2.0"},
                                    {"id", nullptr},
                                    {"error", {{"code", -32700}, {"message", x.what()}}}});
                        return read_next();
                    }
                    ++in_flight;
                    endpoint->handle(message, [&](std::optional<tools::Json> answer) {
                        if (answer) write_line(*answer);
                        if (--in_flight == 0 && ended) io.stop();
                    });
                }
                read_next();
            });
    };
    read_next();
    signals.async_wait([&](const boost::system::error_code& e, int) {
        if (e) return;
        registry->cancel_all();
        io.stop();
    });
    io.run();
    return 0;
}

}  // namespace gossamer::cli
