// `gossamer mcp serve`: a spec's tools served over MCP, driven by gossamer's own MCP client over
// both transports (stdio and Streamable HTTP), and the HTTP rules checked by raw requests
// (Python's urllib): session required and ended by DELETE, Host/Origin against DNS rebinding,
// the key, 405 for GET. Real tools: python in the sandbox, workspace files, apply_patch.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "tests/support/mcp_calls.h"
#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"
#include "tools/mcp/mcp_client.h"
#include "tools/mcp/mcp_content.h"

using namespace gossamer::tools;
using namespace std::chrono_literals;

namespace {

const std::string kSpec = std::string(GOSSAMER_TEST_DATA) + "/mcp_serve/agent.yaml";

// The text of a call that must succeed (neither a protocol error nor isError).
std::string text_of(McpClient& client, const std::string& tool, const Json& args) {
    const auto r = gossamer::test::mcp_call(client, tool, args);
    REQUIRE_MESSAGE(!r.protocol_error, r.error);
    const auto out = mcp_result_to_output(r.result);
    CHECK_MESSAGE(!out.is_error, out.text);
    return out.text;
}

// The same checks over either transport.
void exercise(McpClient& client, const std::filesystem::path& workspace) {
    std::set<std::string> names;
    for (const auto& t : client.tools()) {
        names.insert(t.name);
        CHECK(t.input_schema.value("type", "") == "object");  // MCP wants objects
    }
    CHECK(names ==
          std::set<std::string>{"python", "read_file", "write_file", "list_files", "apply_patch"});
    CHECK(text_of(client, "python", {{"code", "print(6*7)"}}) == "42\n");
    text_of(client, "write_file", {{"path", "notes.txt"}, {"content", "one\n"}});
    CHECK(std::ifstream(workspace / "notes.txt").good());
    text_of(client, "apply_patch",
            {{"input",
              "*** Begin Patch\n*** Update File: notes.txt\n@@\n-one\n+two\n*** End "
              "Patch\n"}});
    CHECK(gossamer::test::read_file(workspace / "notes.txt") == "two\n");
    // bad arguments and unknown tools are protocol errors with the reason
    const auto bad = gossamer::test::mcp_call(client, "read_file", {{"path", 3}});
    CHECK(bad.protocol_error);
    CHECK(bad.error.find("$.path") != std::string::npos);
    const auto unknown = gossamer::test::mcp_call(client, "nope", Json::object());
    CHECK(unknown.protocol_error);
    CHECK(unknown.error.find("unknown tool") != std::string::npos);
}

// python3 urllib: METHOD URL with headers and body; prints "STATUS\nSESSION\nBODY".
std::string raw(const std::string& method, const std::string& url, const std::string& body,
                const std::vector<std::string>& headers) {
    std::string script =
        "import sys, urllib.request, urllib.error\n"
        "req = urllib.request.Request(sys.argv[2], method=sys.argv[1], "
        "data=sys.argv[3].encode() if sys.argv[3] else None)\n"
        "for h in sys.argv[4:]:\n"
        "    k, v = h.split(': ', 1); req.add_header(k, v)\n"
        "try:\n"
        "    r = urllib.request.urlopen(req, timeout=20)\n"
        "except urllib.error.HTTPError as e:\n"
        "    r = e\n"
        "print(r.status); print(r.headers.get('Mcp-Session-Id') or ''); print(r.read().decode())\n";
    gossamer::test::TempDir dir("raw");
    std::ofstream(dir.path / "s.py") << script;
    std::string command = "python3 '" + (dir.path / "s.py").string() + "' " + method + " '" + url +
                          "' '" + body + "'";
    for (const auto& h : headers) command += " '" + h + "'";
    command += " > '" + (dir.path / "out").string() + "' 2>&1";
    (void)std::system(command.c_str());
    return gossamer::test::read_file(dir.path / "out");
}

}  // namespace

TEST_CASE("mcp serve: our client over stdio") {
    gossamer::test::TempDir workspace("serve_stdio");
    McpServerSpec spec;
    spec.name = "gossamer";
    spec.process.argv = {GOSSAMER_BINARY, "mcp",         "serve",
                         kSpec,           "--workspace", workspace.path.string()};
    spec.process.env = allowlisted_environment();
    McpClient client(spec);
    CHECK(client.protocol_version() == "2026-07-28");  // both ends speak the stateless era
    CHECK(client.stateless());
    exercise(client, workspace.path);
}

TEST_CASE("mcp serve: our client over Streamable HTTP, and the transport's rules") {
    gossamer::test::TempDir workspace("serve_http");
    const std::string listening =
        (workspace.path.parent_path() / ("listening-" + std::to_string(::getpid()))).string();
    const std::string errors = listening + ".err";
    const pid_t server =
        gossamer::test::start_gossamer({"mcp", "serve", kSpec, "--http", "0", "--workspace",
                                        workspace.path.string(), "--api-key", "k3y"},
                                       errors, listening);
    // Up to 30 s (a loaded CI machine), unless it exits first; its stderr says why.
    std::string url;
    int exited = -1;
    for (int i = 0; i < 600 && url.empty(); ++i) {
        std::this_thread::sleep_for(50ms);
        const std::string line = gossamer::test::read_file(listening);
        const auto at = line.find("\"url\":\"");
        const auto end = at == std::string::npos ? at : line.find('"', at + 7);
        if (end != std::string::npos) url = line.substr(at + 7, end - at - 7);
        int status = 0;
        if (url.empty() && ::waitpid(server, &status, WNOHANG) == server) {
            exited = status;
            break;
        }
    }
    const std::string said = gossamer::test::read_file(errors);
    std::filesystem::remove(errors);
    REQUIRE_MESSAGE(!url.empty(), "gossamer mcp serve --http did not start (wait status "
                                      << exited << "): " << said);
    {
        McpServerSpec spec;
        spec.name = "gossamer";
        spec.http.url = url;
        spec.http.headers = {{"Authorization", "Bearer k3y"}};
        McpClient client(spec);
        CHECK(client.protocol_version() == "2026-07-28");
        exercise(client, workspace.path);
    }
    const std::string key = "Authorization: Bearer k3y";
    const std::string init =
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",)"
        R"("capabilities":{},"clientInfo":{"name":"raw","version":"1"}}})";
    const std::string list = R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})";
    const std::string json = "Content-Type: application/json";
    CHECK(raw("POST", url, init, {json}).rfind("401", 0) == 0);      // the key
    const std::string opened = raw("POST", url, init, {json, key});  // the legacy era
    REQUIRE(opened.rfind("200\n", 0) == 0);
    CHECK(opened.find(R"("protocolVersion":"2025-11-25")") != std::string::npos);
    const std::string session = opened.substr(4, opened.find('\n', 4) - 4);
    CHECK(session.size() == 32);
    CHECK(raw("POST", url, list, {json, key}).rfind("400", 0) == 0);  // no session
    CHECK(raw("POST", url, list, {json, key, "Mcp-Session-Id: " + session}).rfind("200", 0) == 0);
    CHECK(raw("POST", url, list, {json, key, "Mcp-Session-Id: " + session, "Host: evil.example"})
              .rfind("403", 0) == 0);  // DNS rebinding
    CHECK(raw("POST", url, list,
              {json, key, "Mcp-Session-Id: " + session, "Origin: http://evil.example"})
              .rfind("403", 0) == 0);
    CHECK(raw("GET", url, "", {key}).rfind("405", 0) == 0);
    CHECK(raw("POST", url, R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
              {json, key, "Mcp-Session-Id: " + session})
              .rfind("202", 0) == 0);
    CHECK(raw("DELETE", url, "", {key, "Mcp-Session-Id: " + session}).rfind("200", 0) == 0);
    CHECK(raw("POST", url, list, {json, key, "Mcp-Session-Id: " + session}).rfind("404", 0) ==
          0);  // ended
    CHECK(raw("POST", url, "{not json", {json, key}).rfind("400", 0) == 0);
    // the stateless era needs no session: _meta on the request
    const std::string discover =
        R"({"jsonrpc":"2.0","id":3,"method":"server/discover","params":{"_meta":{)"
        R"("io.modelcontextprotocol/protocolVersion":"2026-07-28"}}})";
    const std::string found = raw("POST", url, discover, {json, key});
    CHECK(found.rfind("200", 0) == 0);
    CHECK(found.find("\"supportedVersions\"") != std::string::npos);
    CHECK(found.find("\"resultType\":\"complete\"") != std::string::npos);
    ::kill(server, SIGTERM);
    CHECK(gossamer::test::wait_gossamer(server) == 0);
    std::filesystem::remove(listening);
}

TEST_CASE("mcp serve: bad input is exit 2 with the reason") {
    auto r = gossamer::test::run_gossamer("mcp serve", "");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("missing the agent spec") != std::string::npos);
    r = gossamer::test::run_gossamer("mcp serve '" + kSpec + "' --workspace /no/such/dir", "");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("not an existing folder") != std::string::npos);
    r = gossamer::test::run_gossamer("mcp serve '" + kSpec + "' --host 0.0.0.0", "");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--host and --api-key are for --http") != std::string::npos);
    r = gossamer::test::run_gossamer("mcp serve '" + kSpec + "' --http 0 --host 0.0.0.0", "");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--api-key") != std::string::npos);
    // a line that is not JSON gets a parse error and the server goes on
    r = gossamer::test::run_gossamer("mcp serve '" + kSpec + "' --workspace /tmp",
                                     "{oops\n{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}\n");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("-32700") != std::string::npos);
    CHECK(r.out.find(R"({"jsonrpc":"2.0","id":7,"result":{}})") != std::string::npos);
}
