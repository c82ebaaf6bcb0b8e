// The server's protocol, endpoint by endpoint and error by error, over real HTTP on
// 127.0.0.1: the server runs in-process on its own event-loop thread with the replay model
// (a test double at the engine boundary: it emits harmony text written in advance), and a
// Beast client sends raw requests. The openai SDK and Codex judge the same server on the real
// nano model in tests/clients.
#include <doctest/doctest.h>

// GCC 12 reports a std::string inside a defaulted ServerOptions argument as maybe
// uninitialized (a known false positive of -O3 inlining).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include <fstream>
#include "harmony/tokenizer.h"

#include "runtime/replay_model.h"
#include "server/server.h"
#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"
#include "tools/browser/browser_tool.h"

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace srv = gossamer::server;
using Json = nlohmann::json;

namespace {

using Answer = gossamer::test::HttpAnswer;

// One server on a free port with a scripted model; its loop runs on a thread.
struct Fixture {
    gossamer::test::TempDir dir{"server"};
    asio::io_context io;
    std::unique_ptr<gossamer::runtime::ReplayModel> model;
    std::unique_ptr<gossamer::runtime::SessionStore> store;
    std::unique_ptr<srv::Server> server;
    std::thread thread;

    explicit Fixture(std::string reply, srv::ServerOptions options = {},
                     gossamer::runtime::ToolRegistry* builtin = nullptr)
        : Fixture(gossamer::runtime::ReplayModel::Script(
                      [reply](const std::vector<std::int32_t>&) { return reply; }),
                  std::move(options), builtin) {}
    Fixture(gossamer::runtime::ReplayModel::Script script, srv::ServerOptions options,
            gossamer::runtime::ToolRegistry* builtin) {
        model = std::make_unique<gossamer::runtime::ReplayModel>(io, std::move(script));
        store = std::make_unique<gossamer::runtime::SessionStore>(dir.path / "s.db");
        options.http.port = 0;
        options.model_name = "test-model";
        options.workspaces = dir.path / "ws";
        server = std::make_unique<srv::Server>(io, *model, store.get(), builtin, options);
        thread = std::thread([this] {
            auto guard = asio::make_work_guard(io);
            io.run();
        });
    }
    ~Fixture() {
        io.stop();
        thread.join();
    }

    Answer send(http::verb method, const std::string& target, const std::string& body = "",
                std::map<std::string, std::string> headers = {}) {
        return gossamer::test::http_send(server->port(), method, target, body, headers);
    }
    Answer post(const std::string& target, const Json& body,
                std::map<std::string, std::string> headers = {}) {
        return send(http::verb::post, target, body.dump(), std::move(headers));
    }
};

std::vector<std::int32_t> ids(const std::string& text) {
    const auto t = gossamer::harmony::Tokenizer::o200k_harmony().encode(
        text, gossamer::harmony::AllowedSpecial::all_tokens());
    return {t.begin(), t.end()};
}

}  // namespace

TEST_CASE("server: health, models, metrics and unknown routes") {
    Fixture f("<|channel|>final<|message|>hi<|return|>");
    CHECK(f.send(http::verb::get, "/health").json()["status"] == "ok");
    const auto models = f.send(http::verb::get, "/v1/models").json();
    CHECK(models["data"][0]["id"] == "test-model");
    CHECK(f.send(http::verb::get, "/v1/models/test-model").status == 200);
    CHECK(f.send(http::verb::get, "/v1/models/other").status == 404);
    const auto missing = f.send(http::verb::get, "/v2/nothing");
    CHECK(missing.status == 404);
    CHECK(missing.json()["error"]["code"] == "unknown_url");
    const auto metrics = f.send(http::verb::get, "/metrics");
    CHECK(metrics.header("Content-Type").rfind("text/plain", 0) == 0);
    CHECK(metrics.body.find("# TYPE gossamer_time_to_first_token_seconds histogram") !=
          std::string::npos);
    CHECK(metrics.body.find("gossamer_requests_total{endpoint=\"/health\",status=\"200\"} 1") !=
          std::string::npos);
}

TEST_CASE("server: bad input is a 4xx in OpenAI's error shape, never a crash") {
    srv::ServerOptions o;
    o.http.max_body_bytes = 4096;
    Fixture f("<|channel|>final<|message|>hi<|return|>", o);
    struct Case {
        std::string body;
        int status;
        Json param;
    };
    const std::vector<Case> cases = {
        {"{not json", 400, nullptr},
        {"[1,2]", 400, nullptr},
        {R"({"input": 3})", 400, "input"},
        {R"({"input": "hi", "top_p": 0})", 400, "top_p"},
        {R"({"input": "hi", "max_output_tokens": 0})", 400, "max_output_tokens"},
        {R"({"input": "hi", "reasoning": {"effort": "extreme"}})", 400, "reasoning.effort"},
        {R"({"input": "hi", "tools": [{"type": "file_search"}]})", 400, "tools[0].type"},
        {R"({"input": "hi", "tools": [{"type": "function"}]})", 400, "tools[0].name"},
        {R"({"input": "hi", "tool_choice": {"type": "function", "name": "nope"}})", 400,
         "tool_choice.name"},
        {R"({"input": [{"type": "function_call_output", "call_id": "x", "output": "1"}]})", 400,
         "input[0].call_id"},
        {R"({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]})",
         400, "input[0].content[0].type"},
        {R"({"model": "gpt-5", "input": "hi"})", 404, "model"},
        {R"({"input": "hi", "previous_response_id": "resp_missing"})", 404, "previous_response_id"},
        {"{\"input\": \"" + std::string(5000, 'x') + "\"}", 413, nullptr},
    };
    for (const auto& c : cases) {
        CAPTURE(c.body.substr(0, 120));
        const auto a = f.send(http::verb::post, "/v1/responses", c.body);
        CHECK(a.status == c.status);
        const auto j = a.json();
        CHECK(j["error"]["message"].get<std::string>().size() > 5);
        CHECK(j["error"]["param"] == c.param);
        CHECK(j["error"].contains("type"));
        CHECK(j["error"].contains("code"));
    }
    const auto chat = f.post("/v1/chat/completions", {{"messages", Json::array()}});
    CHECK(chat.status == 400);
    CHECK(chat.json()["error"]["param"] == "messages");
    const auto n2 = f.post("/v1/chat/completions",
                           {{"n", 2}, {"messages", {{{"role", "user"}, {"content", "x"}}}}});
    CHECK(n2.json()["error"]["param"] == "n");
    const auto gen = f.post("/inference/v1/generate", {{"token_ids", {1, 999999}}});
    CHECK(gen.status == 400);
    CHECK(gen.json()["error"]["param"] == "token_ids[1]");
    CHECK(f.send(http::verb::get, "/health").status == 200);  // still serving
}

TEST_CASE("server: a prompt over --max-request-tokens is a 400 context_length_exceeded") {
    srv::ServerOptions o;
    o.max_request_tokens = 200;  // the system message alone is about 60
    Fixture f("<|channel|>final<|message|>hi<|return|>", o);
    const auto a = f.post("/v1/responses", {{"input", std::string(2000, 'x') + " hello"}});
    CHECK(a.status == 400);
    CHECK(a.json()["error"]["code"] == "context_length_exceeded");
    const auto c =
        f.post("/v1/chat/completions",
               {{"messages", {{{"role", "user"}, {"content", std::string(2000, 'y')}}}}});
    CHECK(c.status == 400);
    CHECK(c.json()["error"]["param"] == "messages");
    CHECK(f.post("/v1/responses", {{"input", "hi"}}).status == 200);
}

TEST_CASE("server: an API key is required when set (health excepted)") {
    srv::ServerOptions o;
    o.api_key = "sekret";
    Fixture f("<|channel|>final<|message|>hi<|return|>", o);
    CHECK(f.send(http::verb::get, "/health").status == 200);
    const auto no = f.send(http::verb::get, "/v1/models");
    CHECK(no.status == 401);
    CHECK(no.json()["error"]["code"] == "invalid_api_key");
    CHECK(f.send(http::verb::get, "/v1/models", "", {{"Authorization", "Bearer wrong"}}).status ==
          401);
    CHECK(f.send(http::verb::get, "/v1/models", "", {{"Authorization", "Bearer sekret"}}).status ==
          200);
}

TEST_CASE("server: a function call written on the analysis channel is a function_call item") {
    // gpt-oss-120b writes ~47% of its calls on analysis; they must not be lost.
    Fixture f(
        "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant<|channel|>"
        "analysis to=functions.get_weather "
        "<|constrain|>json<|message|>{\"city\":\"Oslo\"}<|call|>");
    const Json body{
        {"input", "Weather in Oslo?"},
        {"tools",
         {{{"type", "function"}, {"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}},
        {"include", {"reasoning.encrypted_content"}}};
    const auto r = f.post("/v1/responses", body).json();
    REQUIRE(r["output"].size() == 2);
    CHECK(r["output"][0]["type"] == "reasoning");
    CHECK(r["output"][0]["content"][0]["text"] == "Need the weather.");
    CHECK(r["output"][0]["encrypted_content"].get<std::string>().rfind("gossamer-r1:", 0) == 0);
    CHECK(r["output"][1]["type"] == "function_call");
    CHECK(r["output"][1]["name"] == "get_weather");
    CHECK(Json::parse(r["output"][1]["arguments"].get<std::string>())["city"] == "Oslo");
    CHECK(r["usage"]["output_tokens_details"]["reasoning_tokens"].get<int>() > 0);
    // The stored chain keeps the analysis verbatim for the call's result (current turn).
    const auto next = f.post("/v1/responses", {{"previous_response_id", r["id"]},
                                               {"tools", body["tools"]},
                                               {"input",
                                                {{{"type", "function_call_output"},
                                                  {"call_id", r["output"][1]["call_id"]},
                                                  {"output", "sunny"}}}}})
                          .json();
    CHECK(next["status"] == "completed");
    CHECK(next["usage"]["input_tokens"].get<int>() > r["usage"]["input_tokens"].get<int>());
}

TEST_CASE("server: streamed Responses events and Chat chunks") {
    Fixture f(
        "<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>final<|message|>"
        "Hello there.<|return|>");
    const auto a = f.post("/v1/responses", {{"input", "hi"}, {"stream", true}});
    CHECK(a.status == 200);
    CHECK(a.header("Content-Type") == "text/event-stream");
    std::vector<std::string> types;
    std::string text;
    for (std::size_t p = 0; (p = a.body.find("data: ", p)) != std::string::npos;) {
        const auto end = a.body.find("\n\n", p);
        const auto e = Json::parse(a.body.substr(p + 6, end - p - 6));
        types.push_back(e["type"]);
        if (e["type"] == "response.output_text.delta") text += e["delta"].get<std::string>();
        p = end;
    }
    REQUIRE(types.size() > 6);
    CHECK(types.front() == "response.created");
    CHECK(types.back() == "response.completed");
    CHECK(text == "Hello there.");
    const auto c =
        f.post("/v1/chat/completions",
               {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"stream", true}});
    CHECK(c.body.find("\"reasoning_content\":\"Think") != std::string::npos);
    CHECK(c.body.find("\"finish_reason\":\"stop\"") != std::string::npos);
    CHECK(c.body.rfind("data: [DONE]\n\n") == c.body.size() - 14);
    const auto whole =
        f.post("/v1/chat/completions", {{"messages", {{{"role", "user"}, {"content", "hi"}}}}})
            .json();
    CHECK(whole["choices"][0]["message"]["content"] == "Hello there.");
    CHECK(whole["choices"][0]["message"]["reasoning"] == "Think.");
}

TEST_CASE(
    "server: token-level generate in vLLM's shape, with stop ids, logprobs and prefix reuse") {
    Fixture f("<|channel|>final<|message|>one two three<|return|>");
    const auto prompt = ids("<|start|>user<|message|>count<|end|><|start|>assistant");
    const auto a =
        f.post("/inference/v1/generate",
               {{"token_ids", prompt}, {"sampling_params", {{"max_tokens", 50}, {"logprobs", 0}}}})
            .json();
    const auto out = a["choices"][0]["token_ids"].get<std::vector<std::int32_t>>();
    CHECK(out == ids("<|channel|>final<|message|>one two three<|return|>"));
    CHECK(a["choices"][0]["finish_reason"] == "length");  // no stop ids: the script ran out
    CHECK(a["choices"][0]["logprobs"]["content"].size() == out.size());
    CHECK(a["usage"]["prompt_tokens"] == prompt.size());
    // Stop on an id: generation ends with it.
    const auto stop_at = ids("<|message|>")[0];
    const auto b =
        f.post("/inference/v1/generate",
               {{"token_ids", prompt},
                {"sampling_params", {{"max_tokens", 50}, {"stop_token_ids", {stop_at}}}}})
            .json();
    CHECK(b["choices"][0]["token_ids"].back() == stop_at);
    CHECK(b["choices"][0]["finish_reason"] == "stop");
    // Streamed: one id per event, then the finish and [DONE].
    const auto s =
        f.post("/inference/v1/generate",
               {{"token_ids", prompt}, {"stream", true}, {"sampling_params", {{"max_tokens", 3}}}});
    CHECK(s.body.find("\"finish_reason\":\"length\"") != std::string::npos);
    CHECK(s.body.rfind("data: [DONE]\n\n") == s.body.size() - 14);
}

TEST_CASE("server: 429 with Retry-After beyond max_running + max_queue, and drain") {
    srv::ServerOptions o;
    o.max_running = 1;
    o.max_queue = 0;
    Fixture f("<|channel|>final<|message|>hi<|return|>", o);
    // Hold one request open on the loop by admitting it by hand (as a request that is running).
    asio::post(f.io, [&] {
        struct NullReply final : srv::Reply {
            void send(int, std::string, std::string,
                      std::vector<std::pair<std::string, std::string>>) override {}
            void start_events() override {}
            void event(std::string_view, std::string_view) override {}
            void end_events() override {}
            bool gone() const override { return false; }
            void on_gone(std::function<void()>) override {}
        } reply;
        CHECK(f.server->admit(reply, "test"));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto busy = f.post("/v1/responses", {{"input", "hi"}});
    CHECK(busy.status == 429);
    CHECK(busy.header("Retry-After") == "1");
    CHECK(busy.json()["error"]["type"] == "rate_limit_error");
    std::atomic<bool> drained{false};
    asio::post(f.io, [&] { f.server->drain([&] { drained = true; }); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_FALSE(drained.load());  // one request still in progress
    asio::post(f.io, [&] { f.server->release(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(drained.load());
}

TEST_CASE("server: web_search runs gossamer's browser server-side (local documents)") {
    gossamer::test::TempDir docs("docs");
    std::ofstream(docs.path / "oslo.md") << "# Oslo\n\nOslo is the capital of Norway.\n";
    gossamer::tools::browser::BrowserOptions o;
    o.root = docs.path;
    gossamer::runtime::ToolRegistry builtin;
    builtin.add(std::make_shared<gossamer::tools::browser::BrowserTool>(o));
    // The replay model (a scripted test double) searches first, then answers from the result.
    const auto& tok = gossamer::harmony::Tokenizer::o200k_harmony();
    gossamer::runtime::ReplayModel::Script script = [&tok](
                                                        const std::vector<std::int32_t>& prompt) {
        const std::vector<gossamer::harmony::Token> t(prompt.begin(), prompt.end());
        const std::string text = tok.decode(t);
        if (text.find("Oslo is the capital") == std::string::npos)  // no search result yet
            return std::string(
                "<|channel|>analysis to=browser.search code<|message|>"
                "{\"query\": \"Oslo\"}<|call|>");
        return std::string("<|channel|>final<|message|>Oslo is the capital of Norway.<|return|>");
    };
    Fixture f(std::move(script), srv::ServerOptions{}, &builtin);
    const auto r = f.post("/v1/responses", {{"input", "What is the capital of Norway?"},
                                            {"tools", {{{"type", "web_search"}}}}})
                       .json();
    REQUIRE(r["status"] == "completed");
    const auto& out = r["output"];
    INFO(out.dump());
    REQUIRE(out.size() == 2);
    CHECK(out[0]["type"] == "web_search_call");
    CHECK(out[0]["action"]["query"] == "Oslo");
    CHECK(out[1]["type"] == "message");
    CHECK(out[1]["content"][0]["text"] == "Oslo is the capital of Norway.");
    // Without the tool in the request, the model is not offered it.
    const auto plain = f.post("/v1/responses", {{"input", "hi"}, {"max_output_tokens", 40}}).json();
    CHECK(plain.dump().find("web_search_call") == std::string::npos);
}

TEST_CASE("server: the trace viewer at /ui reads the store, with the same key rules") {
    {
        Fixture f("<|channel|>final<|message|>hi<|return|>");
        gossamer::runtime::SessionRecord r;
        r.name = "viewed", r.model = "m", r.spec_path = "/x.yaml";
        const auto id = f.store->create(r);
        const auto page = f.send(http::verb::get, "/ui/");
        CHECK(page.status == 200);
        CHECK(page.header("Content-Type").starts_with("text/html"));
        CHECK(page.header("Content-Security-Policy").find("script-src 'self'") !=
              std::string::npos);
        CHECK(page.body.find("/ui/app.js") != std::string::npos);
        CHECK(f.send(http::verb::get, "/ui/app.js")
                  .header("Content-Type")
                  .starts_with("text/javascript"));
        const auto list = f.send(http::verb::get, "/ui/api/sessions?name=view");
        REQUIRE(list.status == 200);
        CHECK(list.json()["sessions"][0]["id"] == id);
        CHECK(list.json()["sessions"][0]["state"] == "created");
        CHECK(f.send(http::verb::get, "/ui/api/sessions?state=bogus").status == 400);
        CHECK(f.send(http::verb::get, "/ui/api/sessions?limit=x").status == 400);
        CHECK(f.send(http::verb::get, "/ui/api/sessions/" + id).json()["session"]["name"] ==
              "viewed");
        CHECK(f.send(http::verb::get, "/ui/api/sessions/nope").status == 404);
        CHECK(f.send(http::verb::get, "/ui/api/sessions/" + id + "/diff?step=0").status == 404);
        CHECK(f.send(http::verb::post, "/ui/api/sessions").status == 405);
        // A Host that is not this machine (DNS rebinding) is refused.
        CHECK(f.send(http::verb::get, "/ui/", "", {{"Host", "attacker.example"}}).status == 403);
    }
    srv::ServerOptions o;
    o.api_key = "sekret";
    Fixture f("<|channel|>final<|message|>hi<|return|>", o);
    CHECK(f.send(http::verb::get, "/ui/api/sessions").status == 401);
    CHECK(f.send(http::verb::get, "/ui/api/sessions", "", {{"Cookie", "gossamer_ui_key=wrong"}})
              .status == 401);
    CHECK(
        f.send(http::verb::get, "/ui/api/sessions", "", {{"Cookie", "a=b; gossamer_ui_key=sekret"}})
            .status == 200);
    const auto login = f.send(http::verb::get, "/ui/?key=sekret");
    CHECK(login.status == 303);
    CHECK(login.header("Set-Cookie").find("HttpOnly; SameSite=Strict") != std::string::npos);
    CHECK(f.send(http::verb::get, "/ui/?key=nope").status == 401);
}
