// `gossamer plugin serve LIB`: a native plugin (include/gossamer/plugin.h) as an MCP stdio
// server, so the agent reaches it exactly like any MCP server and a crash in the plugin ends
// only this process. `gossamer plugin info LIB [--json]`: what the plugin declares.
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_args.h"
#include "tools/mcp/mcp_client.h"
#include "tools/plugin/plugin_library.h"
#include "tools/schema_check.h"

namespace gossamer::cli {

namespace {

using Json = nlohmann::ordered_json;

tools::PluginLibrary open_plugin(const std::string& path) {
    try {
        return tools::PluginLibrary(path);
    } catch (const tools::PluginError& e) {
        throw InputError(e.what());
    }
}

// One MCP server session over stdin/stdout; replies may come from the plugin's threads.
class PluginServer {
  public:
    explicit PluginServer(tools::PluginLibrary& plugin) : plugin_(plugin) {}

    void serve() {
        for (std::string line; std::getline(std::cin, line);) {
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            Json message;
            try {
                message = Json::parse(line);
            } catch (const Json::exception& e) {
                send(Json{{"jsonrpc", "2.0"},
                          {"id", nullptr},
                          {"error", {{"code", -32700}, {"message", e.what()}}}});
                continue;
            }
            if (message.is_object()) handle(message);
        }
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [&] { return in_flight_ == 0; });  // finish what was started
    }

  private:
    void send(const Json& message) {
        std::lock_guard lock(mutex_);
        const std::string text =
            message.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    }

    void reply(const Json& id, Json result) {
        send(Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
    }

    void error(const Json& id, int code, const std::string& text) {
        send(Json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", text}}}});
    }

    void handle(const Json& m) {
        const std::string method = m.value("method", std::string());
        if (!m.contains("id"))
            return;  // notifications: initialized, cancelled (calls run to the end)
        const Json id = m["id"];
        const Json params = m.value("params", Json::object());
        if (method == "initialize") {
            const auto& ok = tools::mcp_supported_versions();
            const std::string asked = params.value("protocolVersion", std::string());
            const bool known = std::find(ok.begin(), ok.end(), asked) != ok.end();
            return reply(
                id, Json{{"protocolVersion", known ? asked : ok.front()},
                         {"capabilities", {{"tools", Json::object()}}},
                         {"serverInfo", {{"name", plugin_.name()}, {"version", "plugin-abi-1"}}}});
        }
        if (method == "ping") return reply(id, Json::object());
        if (method == "tools/list") {
            Json list = Json::array();
            for (const auto& t : plugin_.tools())
                list.push_back(Json{{"name", t.name},
                                    {"description", t.description},
                                    {"inputSchema", Json::parse(t.parameters_json)}});
            return reply(id, Json{{"tools", list}});
        }
        if (method == "tools/call") return call(id, params);
        error(id, -32601, "Method not found");
    }

    void call(const Json& id, const Json& params) {
        const std::string name = params.value("name", std::string());
        const auto& tools = plugin_.tools();
        auto it =
            std::find_if(tools.begin(), tools.end(), [&](const auto& t) { return t.name == name; });
        auto result = [](bool is_error, const std::string& text) {
            return Json{{"content", Json::array({Json{{"type", "text"}, {"text", text}}})},
                        {"isError", is_error}};
        };
        if (it == tools.end()) return reply(id, result(true, "Tool " + name + " not found"));
        const Json arguments = params.value("arguments", Json::object());
        const auto problems =
            tools::check_against_schema(arguments, Json::parse(it->parameters_json));
        if (!problems.empty()) {
            std::string text = "invalid arguments:";
            for (const auto& p : problems) text += "\n- " + p;
            return reply(id, result(true, text));
        }
        {
            std::lock_guard lock(mutex_);
            ++in_flight_;
        }
        plugin_.invoke(name, arguments.dump(), [this, id, result](bool is_error, std::string text) {
            reply(id, result(is_error, text));
            std::lock_guard lock(mutex_);
            --in_flight_;
            idle_.notify_all();
        });
    }

    tools::PluginLibrary& plugin_;
    std::mutex mutex_;
    std::condition_variable idle_;
    int in_flight_ = 0;
};

}  // namespace

int cmd_plugin_serve(Args args) {
    const Parsed p = parse_args(args, {}, {}, 1);
    if (p.positionals.empty())
        throw InputError("missing the plugin library (gossamer plugin serve LIB.so)");
    auto plugin = open_plugin(p.positionals[0]);
    PluginServer(plugin).serve();
    return 0;
}

int cmd_plugin_info(Args args) {
    const Parsed p = parse_args(args, {}, {"--json"}, 1);
    if (p.positionals.empty())
        throw InputError("missing the plugin library (gossamer plugin info LIB.so)");
    auto plugin = open_plugin(p.positionals[0]);
    Json tools = Json::array();
    for (const auto& t : plugin.tools())
        tools.push_back(Json{{"name", t.name},
                             {"description", t.description},
                             {"parameters", Json::parse(t.parameters_json)}});
    if (p.has("--json")) {
        write_stdout(Json{{"name", plugin.name()},
                          {"abi_version", GOSSAMER_PLUGIN_ABI_VERSION},
                          {"tools", tools}}
                         .dump() +
                     "\n");
        return 0;
    }
    std::printf("%s (plugin ABI %u), %zu tools\n", plugin.name().c_str(),
                GOSSAMER_PLUGIN_ABI_VERSION, plugin.tools().size());
    for (const auto& t : plugin.tools())
        std::printf("  functions.%s: %s\n", t.name.c_str(), t.description.c_str());
    return 0;
}

}  // namespace gossamer::cli
