// OTLP export (runtime/otlp_exporter.h) against a receiver on 127.0.0.1 (the server's own
// HTTP layer, answering as a collector's /v1/traces does): batches arrive whole, a full queue
// drops and counts, a dead or silent collector never holds a run up; `gossamer run` with
// GOSSAMER_OTLP_ENDPOINT exports the span tree the GenAI conventions name, and a call's
// traceparent reaches an MCP server in `_meta`.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "runtime/otlp_exporter.h"
#include "server/http_server.h"
#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"

namespace rt = gossamer::runtime;
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// A collector double: POST /v1/traces bodies are kept; `silent` never answers.
struct Receiver {
    explicit Receiver(bool silent = false) {
        gossamer::server::HttpOptions options;
        options.port = 0;
        server = std::make_unique<gossamer::server::HttpServer>(
            io, options, [this, silent](const auto& request, auto reply) {
                {
                    std::lock_guard lock(mutex);
                    paths.push_back(request.path);
                    headers.push_back(request.header("authorization"));
                    bodies.push_back(Json::parse(request.body));
                }
                if (silent) {
                    held.push_back(reply);
                    return;
                }
                reply->send(200, "application/json", "{}");
            });
        thread = std::thread([this] { io.run(); });
    }
    ~Receiver() {
        io.stop();
        thread.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
    std::size_t requests() {
        std::lock_guard lock(mutex);
        return bodies.size();
    }
    std::vector<Json> spans() {
        std::lock_guard lock(mutex);
        std::vector<Json> out;
        for (const auto& b : bodies)
            for (const auto& rs : b["resourceSpans"])
                for (const auto& ss : rs["scopeSpans"])
                    for (const auto& s : ss["spans"]) out.push_back(s);
        return out;
    }

    boost::asio::io_context io;
    std::unique_ptr<gossamer::server::HttpServer> server;
    std::thread thread;
    std::mutex mutex;
    std::vector<std::string> paths, headers;
    std::vector<Json> bodies;
    std::vector<std::shared_ptr<gossamer::server::Reply>> held;
};

rt::Span span(int i) {
    rt::Span s;
    s.trace_id = std::string(32, '1'), s.span_id = rt::random_hex(16);
    s.name = "s" + std::to_string(i), s.start_ns = 1, s.end_ns = 2;
    return s;
}

std::string attr(const Json& span, const std::string& key) {
    for (const auto& a : span["attributes"])
        if (a["key"] == key) {
            const auto& v = a["value"];
            if (v.contains("stringValue")) return v["stringValue"];
            if (v.contains("intValue")) return v["intValue"];
            return v.dump();
        }
    return "<none>";
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("otlp: spans leave in batches and all arrive by the end") {
    Receiver receiver;
    rt::OtlpOptions options;
    options.url = receiver.url() + "/v1/traces";
    options.headers = {"Authorization: Bearer t0ken"};
    options.max_batch = 100;
    rt::OtlpStats stats;
    {
        rt::OtlpExporter exporter(options);
        for (int i = 0; i < 250; ++i) exporter.add(span(i));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        stats = exporter.stats();
    }
    CHECK(stats.exported >= 200);  // two full batches went before the end
    CHECK(receiver.spans().size() == 250);
    CHECK(receiver.requests() == 3);
    std::lock_guard lock(receiver.mutex);
    CHECK(receiver.paths.front() == "/v1/traces");
    CHECK(receiver.headers.front() == "Bearer t0ken");
}

TEST_CASE("otlp: a full queue drops and counts; a dead or silent collector costs a bounded wait") {
    rt::OtlpOptions options;
    options.url = "http://127.0.0.1:9/v1/traces";  // discard port: nothing listens
    options.max_queue = 10;
    options.shutdown_wait = std::chrono::milliseconds(500);
    {
        rt::OtlpExporter exporter(options);
        for (int i = 0; i < 25; ++i) exporter.add(span(i));
        CHECK(exporter.stats().dropped == 15);
    }
    Receiver silent(true);
    options.url = silent.url() + "/v1/traces";
    const auto begun = std::chrono::steady_clock::now();
    {
        rt::OtlpExporter exporter(options);
        for (int i = 0; i < 5; ++i) exporter.add(span(i));
    }
    CHECK(seconds_since(begun) < 2.0);
    CHECK(silent.requests() == 1);  // it got the request; it never answered
}

TEST_CASE("otlp: gossamer run exports invoke_agent, chat and execute_tool spans") {
    Receiver receiver;
    gossamer::test::TempDir dir("otlp");
    fs::copy(fs::path(GOSSAMER_TEST_DATA) / "../../examples/coding", dir.path / "coding",
             fs::copy_options::recursive);
    fs::create_directories(dir.path / "coding/out");
    const auto run = gossamer::test::run_gossamer(
        "run '" + (dir.path / "coding/agent.yaml").string() + "' --replay '" +
            (dir.path / "coding/replay.json").string() + "' --store '" +
            (dir.path / "s.db").string() + "' --json",
        "", {{"GOSSAMER_OTLP_ENDPOINT", receiver.url()}});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    std::string session;
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);) session = Json::parse(line)["session"];
    const auto spans = receiver.spans();
    REQUIRE(spans.size() == 1 + 4 + 3);  // the run, 4 turns, 3 calls
    const Json* root = nullptr;
    int chats = 0, tools = 0;
    for (const auto& s : spans)
        if (!s.contains("parentSpanId")) root = &s;
    REQUIRE(root);
    CHECK((*root)["name"] == "invoke_agent coding");
    CHECK(attr(*root, "gen_ai.operation.name") == "invoke_agent");
    CHECK(attr(*root, "gen_ai.agent.name") == "coding");
    CHECK(attr(*root, "gen_ai.conversation.id") == session);
    CHECK(attr(*root, "gen_ai.request.model") == "replay");
    CHECK(attr(*root, "gossamer.stop_reason") == "final");
    for (const auto& s : spans) {
        if (&s == root) continue;
        CHECK(s["traceId"] == (*root)["traceId"]);
        CHECK(s["parentSpanId"] == (*root)["spanId"]);
        CHECK(attr(s, "gen_ai.conversation.id") == session);
        CHECK(std::stoull(s["startTimeUnixNano"].get<std::string>()) <=
              std::stoull(s["endTimeUnixNano"].get<std::string>()));
        const auto op = attr(s, "gen_ai.operation.name");
        if (op == "chat") {
            ++chats;
            CHECK(s["name"] == "chat replay");
            CHECK(s["kind"] == 3);
            CHECK(std::stoi(attr(s, "gen_ai.usage.input_tokens")) > 0);
            CHECK(std::stoi(attr(s, "gen_ai.usage.output_tokens")) > 0);
            CHECK(attr(s, "gen_ai.usage.cache_read.input_tokens") != "<none>");
            CHECK(attr(s, "gen_ai.usage.reasoning.output_tokens") != "<none>");
            CHECK(attr(s, "gen_ai.response.finish_reasons") != "<none>");
            CHECK(attr(s, "gen_ai.output.messages") == "<none>");  // content is off
        } else if (op == "execute_tool") {
            ++tools;
            CHECK(attr(s, "gen_ai.tool.call.id").starts_with(session + ":"));
            CHECK(attr(s, "gossamer.tool.outcome") == "ok");
            CHECK(attr(s, "gen_ai.tool.call.arguments") == "<none>");
        }
    }
    CHECK(chats == 4);
    CHECK(tools == 3);
}

TEST_CASE("otlp: a dead collector neither fails nor holds up a run") {
    gossamer::test::TempDir dir("otlp-dead");
    std::ofstream(dir.path / "agent.yaml") << "name: a\nmodel: {reasoning_effort: low}\n"
                                              "task: hi\n";
    std::ofstream(dir.path / "replay.json") << R"(["<|channel|>final<|message|>hello<|return|>"])";
    const auto begun = std::chrono::steady_clock::now();
    const auto run =
        gossamer::test::run_gossamer("run '" + (dir.path / "agent.yaml").string() + "' --replay '" +
                                         (dir.path / "replay.json").string() + "' --store '" +
                                         (dir.path / "s.db").string() + "' --json",
                                     "", {{"GOSSAMER_OTLP_ENDPOINT", "http://127.0.0.1:9"}});
    CHECK(run.exit_code == 0);
    CHECK(seconds_since(begun) < 8);
    CHECK(run.err.find("telemetry: 2 span(s) not exported") != std::string::npos);
}

TEST_CASE("otlp: a tool call's traceparent reaches the MCP server in _meta") {
    Receiver receiver;
    gossamer::test::TempDir dir("otlp-mcp");
    // An MCP server over stdio that writes the _meta of each tools/call to a file.
    std::ofstream(dir.path / "mcp.py") << R"(import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if "id" not in m: continue
    if m["method"] == "initialize":
        r = {"protocolVersion": m["params"]["protocolVersion"], "capabilities": {"tools": {}},
             "serverInfo": {"name": "meta", "version": "1"}}
    elif m["method"] == "tools/list":
        r = {"tools": [{"name": "echo", "description": "echo",
                        "inputSchema": {"type": "object", "properties": {}}}]}
    elif m["method"] == "tools/call":
        open(sys.argv[1], "a").write(json.dumps(m["params"].get("_meta", {})) + "\n")
        r = {"content": [{"type": "text", "text": "ok"}]}
    else:
        r = {}
    print(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": r}), flush=True)
)";
    const auto seen = dir.path / "meta.jsonl";
    std::ofstream(dir.path / "agent.yaml")
        << "name: m\nmodel: {reasoning_effort: low}\ntools:\n  - mcp: {name: meta, command: "
           "[python3, mcp.py, '"
        << seen.string() << "']}\ntask: call it\n";
    std::ofstream(dir.path / "replay.json")
        << R"(["<|channel|>commentary to=functions.echo <|constrain|>json<|message|>{}<|call|>", "<|channel|>final<|message|>done<|return|>"])";
    const auto run =
        gossamer::test::run_gossamer("run '" + (dir.path / "agent.yaml").string() + "' --replay '" +
                                         (dir.path / "replay.json").string() + "' --store '" +
                                         (dir.path / "s.db").string() + "' --json",
                                     "", {{"GOSSAMER_OTLP_ENDPOINT", receiver.url()}});
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    const auto meta = Json::parse(gossamer::test::read_file(seen));
    REQUIRE(meta.contains("traceparent"));
    const std::string traceparent = meta["traceparent"];
    std::string tool_span, trace;
    for (const auto& s : receiver.spans())
        if (attr(s, "gen_ai.operation.name") == "execute_tool")
            tool_span = s["spanId"], trace = s["traceId"];
    CHECK(traceparent == "00-" + trace + "-" + tool_span + "-01");
}
