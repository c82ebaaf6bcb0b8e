// The MCP client against real servers from npm (@modelcontextprotocol/server-everything and
// server-filesystem, 2026.8.31): handshake, tools, every content type, both error styles,
// progress extending a timeout up to its hard cap, cancellation, the environment
// allowlist, and restarting a server that died.
#include <doctest/doctest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "tests/support/mcp_calls.h"
#include "tests/support/mcp_servers.h"
#include "tests/support/temp_dir.h"
#include "tools/mcp/mcp_client.h"
#include "tools/mcp/mcp_content.h"

using namespace gossamer::tools;
using namespace std::chrono_literals;

namespace {

McpServerSpec everything() {
    McpServerSpec spec;
    spec.name = "everything";
    spec.process.argv = {gossamer::test::mcp_server("everything")};
    spec.process.env = allowlisted_environment();
    return spec;
}

}  // namespace

TEST_CASE("mcp: handshake, tool list and plain calls") {
    McpClient client(everything());
    CHECK(client.protocol_version() == "2025-11-25");
    std::set<std::string> names;
    for (const auto& t : client.tools()) names.insert(t.name);
    for (const char* expected :
         {"echo", "get-sum", "get-env", "get-tiny-image", "trigger-long-running-operation"})
        CHECK_MESSAGE(names.count(expected), expected);
    CHECK(gossamer::test::mcp_text(client, "echo", {{"message", "hello ✓"}}) == "Echo: hello ✓");
    CHECK(gossamer::test::mcp_text(client, "get-sum", {{"a", 2}, {"b", 40}}).find("42") !=
          std::string::npos);
}

TEST_CASE("mcp: images, resources and structured content become text") {
    McpClient client(everything());
    CHECK(gossamer::test::mcp_text(client, "get-tiny-image", Json::object())
              .find("[image: image/png") != std::string::npos);
    CHECK(gossamer::test::mcp_text(client, "get-resource-links", {{"count", 2}})
              .find("[resource: ") != std::string::npos);
    CHECK(gossamer::test::mcp_text(client, "get-resource-reference",
                                   {{"resourceType", "Text"}, {"resourceId", 1}})
              .find("[resource ") != std::string::npos);
    CHECK(gossamer::test::mcp_text(client, "get-structured-content", {{"location", "Chicago"}})
              .find("temperature") != std::string::npos);
}

TEST_CASE("mcp: both error styles reach the model as errors") {
    McpClient client(everything());
    auto r = gossamer::test::mcp_call(client, "no-such-tool", Json::object());
    const bool marked = r.protocol_error || mcp_result_to_output(r.result).is_error;
    CHECK(marked);  // server-everything answers isError; the spec's example is a JSON-RPC error
    r = gossamer::test::mcp_call(client, "get-sum", {{"a", "two"}});
    CHECK((r.protocol_error || mcp_result_to_output(r.result).is_error));
}

TEST_CASE("mcp: the server sees only the allowlisted environment") {
    ::setenv("GOSSAMER_TEST_SECRET_TOKEN", "hunter2-secret", 1);
    auto spec = everything();
    spec.process.env = allowlisted_environment({{"VISIBLE_SETTING", "yes"}});
    McpClient client(spec);
    const auto env = gossamer::test::mcp_text(client, "get-env", Json::object());
    CHECK(env.find("hunter2-secret") == std::string::npos);
    CHECK(env.find("GOSSAMER_TEST_SECRET_TOKEN") == std::string::npos);
    CHECK(env.find("VISIBLE_SETTING") != std::string::npos);
    CHECK(env.find("PATH") != std::string::npos);
    ::unsetenv("GOSSAMER_TEST_SECRET_TOKEN");
}

TEST_CASE("mcp: progress extends a call's timeout up to the hard cap; cancel stops it") {
    auto spec = everything();
    spec.call_timeout = 1200ms;  // a 3 s operation reporting progress every second
    spec.hard_cap = 10s;
    McpClient client(spec);
    auto r = gossamer::test::mcp_call(client, "trigger-long-running-operation",
                                      {{"duration", 3}, {"steps", 3}});
    CHECK_MESSAGE(!r.protocol_error, r.error);

    spec.hard_cap = 2s;
    McpClient capped(spec);
    r = gossamer::test::mcp_call(capped, "trigger-long-running-operation",
                                 {{"duration", 4}, {"steps", 4}});
    CHECK(r.protocol_error);
    CHECK(r.error.find("time limit") != std::string::npos);

    std::promise<McpCallResult> promise;
    const auto handle =
        capped.call("trigger-long-running-operation", {{"duration", 5}, {"steps", 5}},
                    [&](McpCallResult x) { promise.set_value(std::move(x)); });
    std::this_thread::sleep_for(200ms);
    const auto begun = std::chrono::steady_clock::now();
    capped.cancel(handle);
    r = promise.get_future().get();
    CHECK(r.protocol_error);
    CHECK(r.error.find("cancelled") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - begun < 1s);
    CHECK(gossamer::test::mcp_text(capped, "echo", {{"message", "still there"}}) ==
          "Echo: still there");
}

TEST_CASE("mcp: a server that dies is restarted for the next call") {
    auto spec = everything();
    spec.max_restarts = 1;
    McpClient client(spec);
    CHECK(gossamer::test::mcp_text(client, "echo", {{"message", "one"}}) == "Echo: one");
    // Kill it (its whole process group) from outside.
    REQUIRE(::kill(-client.server_pid(), SIGKILL) == 0);
    std::this_thread::sleep_for(300ms);
    CHECK(gossamer::test::mcp_text(client, "echo", {{"message", "two"}}) == "Echo: two");
    CHECK(client.restarts() == 1);
}

TEST_CASE("mcp: the filesystem server keeps to its allowed root") {
    gossamer::test::TempDir root("mcp_fs");
    std::ofstream(root.path / "note.txt") << "inside";
    McpServerSpec spec;
    spec.name = "filesystem";
    spec.process.argv = {gossamer::test::mcp_server("filesystem"), root.path.string()};
    spec.process.env = allowlisted_environment();
    McpClient client(spec);
    CHECK(gossamer::test::mcp_text(client, "read_text_file",
                                   {{"path", (root.path / "note.txt").string()}})
              .find("inside") != std::string::npos);
    const auto r = gossamer::test::mcp_call(client, "read_text_file", {{"path", "/etc/passwd"}});
    REQUIRE_FALSE(r.protocol_error);
    const auto out = mcp_result_to_output(r.result);
    CHECK(out.is_error);
    CHECK(out.text.find("root:") == std::string::npos);
}

TEST_CASE("mcp: a command that cannot start or handshake is a clear error") {
    McpServerSpec spec;
    spec.name = "missing";
    spec.process.argv = {"/nonexistent/server"};
    spec.process.env = allowlisted_environment();
    CHECK_THROWS_WITH_AS(McpClient{spec}, doctest::Contains("/nonexistent/server"),
                         std::runtime_error);
    spec.process.argv = {"/bin/sh", "-c", "echo not json; exit 3"};
    spec.start_timeout = 3s;
    CHECK_THROWS_AS(McpClient{spec}, std::runtime_error);
}

TEST_CASE("mcp: a number out of range on the server's stdout is skipped, not a crash") {
    // A server (python3) that writes a line nlohmann cannot hold (1e309) before each answer.
    const std::string server = R"(
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg: continue
    print('{"jsonrpc":"2.0","method":"notifications/message","params":{"n":1e309}}')
    if msg["method"] == "initialize":
        result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                  "serverInfo": {"name": "big", "version": "1"}}
    elif msg["method"] == "tools/list":
        result = {"tools": [{"name": "n", "inputSchema": {"type": "object"}}]}
    else:
        result = {"content": [{"type": "text", "text": "ok"}]}
    print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}), flush=True)
)";
    McpServerSpec spec = gossamer::test::python_mcp_server("big", server);
    spec.start_timeout = 10s;
    McpClient client(spec);
    CHECK(gossamer::test::mcp_text(client, "n", Json::object()) == "ok");
}
