// MCP over Streamable HTTP and the stateless era. Against the real server-everything (npm) in
// its streamableHttp mode: handshake, session, tools, a long call whose SSE progress keeps it
// alive. Against test doubles built from the spec's documented schema (Python, named as
// such): an HTTP server that records headers and can forget the session (404 -> a new
// session), and a stdio server of the 2026-07-28 stateless era (server/discover, `_meta` on
// every request, `resultType`). The SSE parser by value.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include "tests/support/mcp_calls.h"
#include "tests/support/mcp_servers.h"
#include "tests/support/temp_dir.h"
#include "tools/mcp/mcp_client.h"
#include "tools/mcp/mcp_content.h"
#include "tools/mcp/mcp_tool.h"
#include "tools/mcp/sse_parser.h"

using namespace gossamer::tools;
using namespace std::chrono_literals;

extern char** environ;

namespace {

// A port the kernel just handed out on 127.0.0.1 (a pid-derived guess collided under ctest -j).
int free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    REQUIRE((::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
             ::getsockname(s, reinterpret_cast<sockaddr*>(&address), &length) == 0));
    ::close(s);
    return ntohs(address.sin_port);
}

// A server process for one test: started with argv, stopped (its group) on destruction;
// ready once `url` answers a TCP connect.
struct ServerProcess {
    pid_t pid = -1;
    ServerProcess(const std::vector<std::string>& argv, int port) {
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        std::vector<std::string> env_text = {"PORT=" + std::to_string(port)};
        for (char** e = environ; *e; ++e) env_text.emplace_back(*e);
        std::vector<char*> env;
        for (auto& e : env_text) env.push_back(e.data());
        env.push_back(nullptr);
        REQUIRE(::posix_spawnp(&pid, args[0], nullptr, &attr, args.data(), env.data()) == 0);
        posix_spawnattr_destroy(&attr);
        for (int i = 0; i < 200; ++i) {  // up to 10 s for node to listen
            const std::string probe = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port);
            if (std::system(("bash -c '" + probe + "' 2>/dev/null").c_str()) == 0) return;
            std::this_thread::sleep_for(50ms);
        }
        FAIL("the server did not listen on port " << port);
    }
    ~ServerProcess() {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
};

McpServerSpec http_spec(int port, const std::string& path = "/mcp") {
    McpServerSpec spec;
    spec.name = "http";
    spec.http.url = "http://127.0.0.1:" + std::to_string(port) + path;
    spec.start_timeout = 10s;
    return spec;
}

// Test double of a Streamable HTTP server (2025-11-25, from the spec's transport section):
// answers initialize with a session id, requires it afterwards (404 once the session was
// forgotten through the `forget` tool), answers tools/call as JSON or as an SSE stream,
// records every request's method and headers to LOG, and a DELETE; refuses the GET stream
// (405) after 0.3 s.
constexpr const char* kHttpDouble = R"PY(
import json, sys, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, log = int(sys.argv[1]), sys.argv[2]
state = {"session": None}
def record(entry):
    with open(log, "a") as f: f.write(json.dumps(entry) + "\n")
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_DELETE(self):
        record({"method": "DELETE", "session": self.headers.get("Mcp-Session-Id")})
        state["session"] = None
        self.send_response(200); self.end_headers()
    def do_GET(self):
        time.sleep(0.3)  # a slow answer: the client must still wait for it before going on
        record({"method": "GET", "session": self.headers.get("Mcp-Session-Id")})
        self.send_response(405); self.end_headers()
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        record({"method": body.get("method"), "session": self.headers.get("Mcp-Session-Id"),
                "version": self.headers.get("MCP-Protocol-Version"),
                "auth": self.headers.get("Authorization"), "team": self.headers.get("X-Team"),
                "accept": self.headers.get("Accept")})
        m = body.get("method")
        if m == "initialize":
            state["session"] = str(uuid.uuid4())
            return self.json({"jsonrpc": "2.0", "id": body["id"], "result": {
                "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                "serverInfo": {"name": "double", "version": "1"}}}, state["session"])
        if self.headers.get("Mcp-Session-Id") != state["session"] or state["session"] is None:
            self.send_response(404 if self.headers.get("Mcp-Session-Id") else 400)
            self.end_headers(); return
        if "id" not in body:
            self.send_response(202); self.end_headers(); return
        if m == "tools/list":
            tools = [{"name": n, "inputSchema": {"type": "object"}} for n in ("plain", "streamed", "forget")]
            return self.json({"jsonrpc": "2.0", "id": body["id"], "result": {"tools": tools}})
        name = body["params"]["name"]
        if name == "forget": state["session"] = "forgotten"
        result = {"jsonrpc": "2.0", "id": body["id"], "result": {"content": [{"type": "text", "text": name + " ok"}]}}
        if name == "streamed":
            self.send_response(200); self.send_header("Content-Type", "text/event-stream"); self.end_headers()
            note = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "x"}}
            self.wfile.write(("id: 1\ndata: " + json.dumps(note) + "\n\n").encode())
            self.wfile.write((": keep-alive\n\nid: 2\ndata: " + json.dumps(result) + "\n\n").encode())
            return
        self.json(result)
    def json(self, obj, session=None):
        data = json.dumps(obj).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        if session: self.send_header("Mcp-Session-Id", session)
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
)PY";

std::vector<Json> log_lines(const std::string& path) {
    std::vector<Json> lines;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(Json::parse(line));
    return lines;
}

}  // namespace

TEST_CASE("mcp http: the real server-everything over Streamable HTTP") {
    const int port = free_port();
    ServerProcess server({"node",
                          std::filesystem::path(gossamer::test::mcp_server("everything"))
                              .parent_path()
                              .append("index.js")
                              .string(),
                          "streamableHttp"},
                         port);
    auto spec = http_spec(port);
    spec.call_timeout = 1500ms;  // the long call below lives on its progress
    McpClient client(spec);
    CHECK(client.protocol_version() == "2025-11-25");
    CHECK_FALSE(client.stateless());
    CHECK(client.tools().size() >= 10);
    CHECK(gossamer::test::mcp_text(client, "get-sum", {{"a", 2}, {"b", 40}}).find("42") !=
          std::string::npos);
    CHECK(gossamer::test::mcp_text(client, "echo", {{"message", "über"}}) == "Echo: über");
    const auto started = std::chrono::steady_clock::now();
    CHECK(gossamer::test::mcp_text(client, "trigger-long-running-operation",
                                   {{"duration", 3}, {"steps", 6}})
              .find("completed") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - started >= 2900ms);  // past call_timeout: progress
}

TEST_CASE("mcp http: session, headers, SSE answers, a lost session and DELETE (test double)") {
    gossamer::test::TempDir dir("mcphttp");
    const std::string log = (dir.path / "requests.jsonl").string();
    const int port = free_port();
    ServerProcess server({"python3", "-c", kHttpDouble, std::to_string(port), log}, port);
    auto spec = http_spec(port);
    spec.http.headers = {{"Authorization", "Bearer tok-123"}, {"X-Team", "gossamer"}};
    {
        McpClient client(spec);
        CHECK(client.tools().size() == 3);
        CHECK(gossamer::test::mcp_text(client, "plain", Json::object()) == "plain ok");
        CHECK(gossamer::test::mcp_text(client, "streamed", Json::object()) ==
              "streamed ok");  // an SSE answer
        // The server forgets the session: the next call fails, the one after starts anew.
        CHECK(gossamer::test::mcp_text(client, "forget", Json::object()) == "forget ok");
        const auto lost = gossamer::test::mcp_call(client, "plain", Json::object());
        CHECK(lost.protocol_error);
        CHECK(gossamer::test::mcp_text(client, "plain", Json::object()) == "plain ok");
        CHECK(client.restarts() == 1);
    }
    const auto requests = log_lines(log);
    REQUIRE(requests.size() >= 8);
    for (const auto& r : requests) {
        CAPTURE(r.dump());
        if (r["method"] == "DELETE" || r["method"] == "GET") continue;
        CHECK(r["auth"] == "Bearer tok-123");
        CHECK(r["team"] == "gossamer");
        CHECK(r["accept"] == "application/json, text/event-stream");
        if (r["method"] == "tools/call" || r["method"] == "tools/list") {
            CHECK(r["session"].is_string());
            CHECK(r["version"] == "2025-11-25");
        }
    }
    // The GET stream was answered before the first request after the handshake went out (a
    // server may send a reply on whichever stream is open: the conformance suite's sse-retry).
    const auto first = [&](const char* method) {
        return std::find_if(requests.begin(), requests.end(),
                            [&](const Json& r) { return r["method"] == method; }) -
               requests.begin();
    };
    CHECK(first("notifications/initialized") < first("GET"));
    CHECK(first("GET") < first("tools/list"));
    CHECK(requests[first("GET")]["session"].is_string());
    CHECK(requests.back()["method"] == "DELETE");  // the session ended on close
    CHECK(requests.back()["session"].is_string());
}

TEST_CASE("mcp http: a server that is not there, or not MCP, is a clear start-up error") {
    McpServerSpec spec = http_spec(free_port());
    spec.start_timeout = 3s;
    CHECK_THROWS_WITH_AS(McpClient{spec}, doctest::Contains("initialize failed"),
                         std::runtime_error);
    spec.http.url = "ftp://example.com/mcp";
    CHECK_THROWS_WITH_AS(McpClient{spec}, doctest::Contains("not http(s)://"), std::runtime_error);
}

TEST_CASE("mcp: the stateless era (2026-07-28) over stdio (test double)") {
    // A server of the draft: server/discover lists the versions; every other request must
    // carry the version, capabilities and client in _meta (else -32600); no initialize.
    const std::string server = R"(
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg: continue
    meta = msg.get("params", {}).get("_meta", {})
    def reply(result=None, error=None):
        out = {"jsonrpc": "2.0", "id": msg["id"]}
        if error: out["error"] = error
        else: out["result"] = result
        print(json.dumps(out), flush=True)
    m = msg["method"]
    if m == "initialize":
        reply(error={"code": -32601, "message": "initialize is gone in 2026-07-28"}); continue
    if meta.get("io.modelcontextprotocol/protocolVersion") != "2026-07-28" or \
       "io.modelcontextprotocol/clientInfo" not in meta:
        reply(error={"code": -32600, "message": "missing _meta"}); continue
    if m == "server/discover":
        reply({"supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
               "serverInfo": {"name": "modern", "version": "1"}, "resultType": "complete"})
    elif m == "tools/list":
        reply({"tools": [{"name": "who", "inputSchema": {"type": "object"}},
                         {"name": "ask", "inputSchema": {"type": "object"}}],
               "ttlMs": 60000, "resultType": "complete"})
    elif msg["params"]["name"] == "who":
        reply({"content": [{"type": "text", "text": meta["io.modelcontextprotocol/clientInfo"]["name"]}],
               "resultType": "complete"})
    else:
        reply({"resultType": "input_required", "inputRequests": {}})
)";
    McpServerSpec spec = gossamer::test::python_mcp_server("modern", server);
    McpClient client(spec);
    CHECK(client.stateless());
    CHECK(client.protocol_version() == "2026-07-28");
    CHECK(client.tools().size() == 2);
    CHECK(gossamer::test::mcp_text(client, "who", Json::object()) == "gossamer");
    const auto ask = gossamer::test::mcp_call(client, "ask", Json::object());
    CHECK(ask.protocol_error);
    CHECK(ask.error.find("input_required") != std::string::npos);
}

TEST_CASE("sse parser: fields, line ends, ids, retry, comments, split anywhere") {
    const std::string stream =
        "\xEF\xBB\xBF: comment\r\nid: 7\r\nretry: 250\r\nevent: message\r\ndata: {\"a\":\r\n"
        "data:1}\r\n\r\ndata: second\n\nid: x\rdata: third\r\rretry: soon\n\n";
    for (std::size_t split = 0; split <= stream.size(); ++split) {
        CAPTURE(split);
        SseParser parser;
        auto events = parser.feed(stream.substr(0, split));
        const auto rest = parser.feed(stream.substr(split));
        events.insert(events.end(), rest.begin(), rest.end());
        REQUIRE(events.size() == 3);
        CHECK(events[0].data == "{\"a\":\n1}");
        CHECK(events[0].id == "7");
        CHECK(events[1].data == "second");
        CHECK(events[1].id == "7");  // the stream's last id carries on
        CHECK(events[2].id == "x");
        CHECK(parser.last_event_id() == "x");
        CHECK(parser.retry_ms() == 250);  // "soon" is not a number: ignored
    }
    SseParser parser;
    CHECK(parser.feed("event: ping\n\n").empty());  // no data: nothing dispatched
    CHECK(parser.feed("data: unterminated").empty());
}

TEST_CASE("mcp: a tool's outputSchema is honoured (its structuredContent checked)") {
    const Json schema{
        {"type", "object"}, {"properties", {{"n", {{"type", "integer"}}}}}, {"required", {"n"}}};
    CHECK_FALSE(output_schema_problem({{"structuredContent", {{"n", 3}}}}, schema));
    CHECK(output_schema_problem({{"structuredContent", {{"n", "x"}}}}, schema)->find("$.n") !=
          std::string::npos);
    CHECK(
        output_schema_problem({{"content", Json::array()}}, schema)->find("no structuredContent") !=
        std::string::npos);
    CHECK_FALSE(output_schema_problem({{"isError", true}}, schema));  // errors owe nothing

    // Through the tool an agent calls: a server that breaks its own promise (test double).
    const std::string server = R"(
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg: continue
    m = msg["method"]
    if m == "initialize":
        result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                  "serverInfo": {"name": "typed", "version": "1"}}
    elif m == "tools/list":
        schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
        result = {"tools": [{"name": "good", "inputSchema": {"type": "object"}, "outputSchema": schema},
                            {"name": "bad", "inputSchema": {"type": "object"}, "outputSchema": schema}]}
    elif m == "tools/call":
        n = 3 if msg["params"]["name"] == "good" else "three"
        result = {"content": [{"type": "text", "text": json.dumps({"n": n})}], "structuredContent": {"n": n}}
    else:
        print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "no"}}), flush=True)
        continue
    print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}), flush=True)
)";
    McpServerSpec spec = gossamer::test::python_mcp_server("typed", server);
    McpTool tool(spec);
    boost::asio::io_context io;
    ToolContext context;
    context.executor = io.get_executor();
    const auto run = [&](const std::string& name) {
        ToolOutput out;
        bool finished = false;
        tool.invoke({"functions." + name, name, "{}", "commentary", std::nullopt}, context,
                    [&](ToolOutput o) { out = std::move(o), finished = true; });
        for (int i = 0; i < 400 && !finished; ++i) {  // the answer is posted from the client
            io.restart();
            io.poll();
            if (!finished) std::this_thread::sleep_for(25ms);
        }
        REQUIRE(finished);
        return out;
    };
    const auto good = run("good");
    CHECK_FALSE(good.is_error);
    const auto bad = run("bad");
    CHECK(bad.is_error);
    CHECK(bad.text.find("does not match its outputSchema") != std::string::npos);
}
