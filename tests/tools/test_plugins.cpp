// Native plugins through `gossamer plugin serve` (a plugin in its own process, reached as an
// MCP server): the example plugin's tools, a slow tool completing from another thread while
// others run, argument checks, a crashing plugin contained and restarted, ABI checks.
#include <doctest/doctest.h>

#include <future>

#include "tests/support/run_gossamer.h"
#include "tools/mcp/mcp_client.h"
#include "tools/mcp/mcp_content.h"

using namespace gossamer::tools;
using namespace std::chrono_literals;

namespace {

std::string plugin_path(const std::string& name) {
    return std::string(GOSSAMER_PLUGIN_DIR) + "/lib" + name + ".so";
}

McpServerSpec served(const std::string& plugin) {
    McpServerSpec spec;
    spec.name = plugin;
    spec.process.argv = {GOSSAMER_BINARY, "plugin", "serve", plugin_path(plugin)};
    spec.process.env = allowlisted_environment();
    return spec;
}

ToolOutput run(McpClient& client, const std::string& tool, const Json& args) {
    std::promise<McpCallResult> promise;
    client.call(tool, args, [&](McpCallResult r) { promise.set_value(std::move(r)); });
    const auto r = promise.get_future().get();
    return r.protocol_error ? ToolOutput{r.error, true} : mcp_result_to_output(r.result);
}

}  // namespace

TEST_CASE("plugins: the example plugin's tools through gossamer plugin serve") {
    McpClient client(served("textstats"));
    const auto tools = client.tools();
    REQUIRE(tools.size() == 2);
    CHECK(tools[0].name == "word_count");
    CHECK(tools[0].input_schema["required"][0] == "text");
    const auto out = run(client, "word_count", {{"text", "two words\nand a line ✓"}});
    CHECK_FALSE(out.is_error);
    CHECK(Json::parse(out.text) == Json{{"words", 6}, {"lines", 2}, {"characters", 22}});
    const auto bad = run(client, "word_count", {{"txt", "x"}});
    CHECK(bad.is_error);
    CHECK(bad.text.find("missing required property \"text\"") != std::string::npos);
}

TEST_CASE("plugins: slow calls complete later without holding up others") {
    McpClient client(served("textstats"));
    std::promise<McpCallResult> slow;
    const auto begun = std::chrono::steady_clock::now();
    client.call("slow_upper", {{"text", "late"}, {"delay_ms", 600}},
                [&](McpCallResult r) { slow.set_value(r); });
    const auto quick = run(client, "word_count", {{"text", "fast"}});
    CHECK(std::chrono::steady_clock::now() - begun < 400ms);  // answered while the slow one runs
    CHECK(Json::parse(quick.text)["words"] == 1);
    CHECK(mcp_result_to_output(slow.get_future().get().result).text == "LATE");
}

TEST_CASE("plugins: a crashing plugin fails the call, not the host, and is restarted") {
    McpClient client(served("crashy"));
    CHECK(run(client, "ok", Json::object()).text == "ok");
    const auto crashed = run(client, "crash", Json::object());
    CHECK(crashed.is_error);
    // "the server killed by signal 11 (Segmentation fault)" (or "exited with status 1" when a
    // sanitizer's handler catches the fault first)
    CHECK(crashed.text.find("the server ") != std::string::npos);
    CHECK(run(client, "ok", Json::object()).text == "ok");
    CHECK(client.restarts() == 1);
}

TEST_CASE("plugins: bad libraries are refused with the reason") {
    auto info =
        gossamer::test::run_gossamer("plugin info '" + plugin_path("crashy_wrong_abi") + "'", "");
    CHECK(info.exit_code == 2);
    CHECK(info.err.find("built for plugin ABI 999") != std::string::npos);
    info = gossamer::test::run_gossamer("plugin info /nonexistent.so", "");
    CHECK(info.exit_code == 2);
    CHECK(info.err.find("cannot load") != std::string::npos);
    info =
        gossamer::test::run_gossamer("plugin info --json '" + plugin_path("textstats") + "'", "");
    REQUIRE(info.exit_code == 0);
    CHECK(Json::parse(info.out)["tools"].size() == 2);
    CHECK_THROWS_AS(McpClient{served("crashy_wrong_abi")}, std::runtime_error);
}
