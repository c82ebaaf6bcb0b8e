// The remote model client (runtime/remote_model.h) against a test double at the engine's HTTP
// boundary (tests/support/fake_engine.h, answers in vLLM's documented shapes): the start-up
// check, streaming, placement (affinity, least load, per-endpoint limit) and every fault the
// issue names: a stream cut off (the engine died), 500, 429 with Retry-After, a malformed
// event, a stalled stream, all endpoints down, a request the engine refuses. The check on
// every retry: the caller sees each token exactly once and the retry continues from them.
#include <doctest/doctest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "harmony/special_tokens.h"
#include "harmony/tokenizer.h"
#include "runtime/remote_model.h"
#include "runtime/setup_error.h"
#include "tests/support/fake_engine.h"
#include "tests/support/run_gossamer.h"

namespace rt = gossamer::runtime;
using gossamer::engine::FinishReason;
using gossamer::test::FakeAnswer;
using gossamer::test::FakeEngine;
using gossamer::test::FakeRequest;
using gossamer::test::generate_event;
using nlohmann::json;

namespace {

constexpr int kStopReturn = 200002;
constexpr int kStopCall = 200012;

// A vLLM-like engine: the listing, /tokenize (o200k, computed here), /health; `gen` answers
// /inference/v1/generate.
FakeEngine::Handler vllm_like(std::function<FakeAnswer(const FakeRequest&)> gen,
                              int max_model_len = 131072) {
    return [gen, max_model_len](const FakeRequest& r) {
        if (r.path == "/v1/models")
            return gossamer::test::model_list("gpt-oss-test", max_model_len);
        if (r.path == "/health") return FakeAnswer{};
        if (r.path == "/tokenize") {
            FakeAnswer a;
            const auto ids = gossamer::harmony::Tokenizer::o200k_harmony().encode(
                r.body.value("prompt", ""), gossamer::harmony::AllowedSpecial::all_tokens());
            a.body = json{{"count", ids.size()}, {"max_model_len", max_model_len}, {"tokens", ids}}
                         .dump();
            return a;
        }
        return gen(r);
    };
}

FakeAnswer stream_of(std::vector<std::string> events, int drop_after = -1) {
    FakeAnswer a;
    a.stream = true;
    a.events = std::move(events);
    a.drop_after = drop_after;
    return a;
}

// The tokens a continuation must hold back: what the engine was asked to continue from.
std::vector<int> ids_of(const FakeRequest& r) {
    return r.body["token_ids"].get<std::vector<int>>();
}

rt::ModelRequest request(int max_tokens = 32) {
    rt::ModelRequest r;
    r.prompt = {200006, 1428, 200008, 13225, 200007};
    r.max_tokens = max_tokens;
    r.sampling.temperature = 0;
    r.stop = {kStopReturn, kStopCall};
    return r;
}

rt::RemoteOptions options(std::vector<std::string> urls) {
    rt::RemoteOptions o;
    o.endpoints = std::move(urls);
    o.backoff_initial = 0.02;
    o.backoff_max = 0.1;
    o.health_interval = 0.05;
    o.token_timeout = 5;
    return o;
}

struct Result {
    std::vector<int> tokens;
    rt::TokenEvent last;
    bool done = false;
    int events_after_done = 0;
};

// Starts a generation; the result fills in as the loop runs.
std::shared_ptr<Result> start(rt::ModelClient& m, rt::ModelClient::Conversation c,
                              rt::ModelRequest r) {
    auto out = std::make_shared<Result>();
    m.generate(c, std::move(r), [out](const rt::TokenEvent& e) {
        if (out->done) ++out->events_after_done;
        if (e.has_token) out->tokens.push_back(e.sample.token);
        if (e.done) out->done = true, out->last = e;
    });
    return out;
}

void run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               double seconds = 20) {
    io.restart();
    auto guard = boost::asio::make_work_guard(io);
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done() && std::chrono::steady_clock::now() < until)
        io.run_one_for(std::chrono::milliseconds(10));
    // Let what the end posted (pumps, late events) run too.
    const auto settle = std::chrono::steady_clock::now() + std::chrono::milliseconds(30);
    while (std::chrono::steady_clock::now() < settle) io.run_one_for(std::chrono::milliseconds(5));
}

Result generate_once(boost::asio::io_context& io, rt::ModelClient& m, rt::ModelRequest r) {
    const auto c = m.open();
    auto out = start(m, c, std::move(r));
    run_until(io, [&] { return out->done; });
    m.close(c);
    return *out;
}

}  // namespace

TEST_CASE("remote: tokens stream from a vLLM-shaped endpoint; the stop token ends it") {
    FakeEngine engine(vllm_like([](const FakeRequest&) {
        return stream_of({generate_event({200005}), generate_event({17196, 200008}),
                          generate_event({40}), generate_event({kStopReturn}, "stop")});
    }));
    boost::asio::io_context io;
    rt::RemoteModel model(io, options({engine.url() + "/"}));
    CHECK(model.warnings().empty());
    CHECK(model.context_window() == 131072);
    const auto r = generate_once(io, model, request());
    CHECK(r.tokens == std::vector<int>{200005, 17196, 200008, 40, kStopReturn});
    CHECK(r.last.reason == FinishReason::Stop);
    CHECK(r.last.has_token);
    CHECK(r.last.stats.served_by == engine.url());
    CHECK(r.last.stats.retries == 0);
    CHECK(r.last.stats.generated_tokens == 5);
    const auto sent = engine.requests_to("/inference/v1/generate");
    REQUIRE(sent.size() == 1);
    CHECK(ids_of(sent[0]) == std::vector<int>{200006, 1428, 200008, 13225, 200007});
    CHECK(sent[0].body["model"] == "gpt-oss-test");
    CHECK(sent[0].body["stream"] == true);
    CHECK(sent[0].body["sampling_params"]["max_tokens"] == 32);
    CHECK(sent[0].body["sampling_params"]["stop_token_ids"] == json({kStopReturn, kStopCall}));
}

TEST_CASE("remote: the start-up check refuses what cannot be exact, and says what it skipped") {
    boost::asio::io_context io;
    FakeEngine good(vllm_like([](const FakeRequest&) { return FakeAnswer{}; }, 4096));
    {
        auto o = options({good.url()});
        o.model_name = "someone-else";
        CHECK_THROWS_WITH_AS(rt::RemoteModel(io, o),
                             doctest::Contains("does not serve the model 'someone-else'"),
                             rt::SetupError);
    }
    {
        rt::RemoteModel m(io, options({good.url()}));
        CHECK(m.context_window() == 4096);  // the endpoint's max_model_len
        auto o = options({good.url()});
        o.context_tokens = 8192;
        CHECK_THROWS_WITH_AS(rt::RemoteModel(io, o), doctest::Contains("more than an endpoint"),
                             rt::SetupError);
    }
    FakeEngine other_tokenizer([](const FakeRequest& r) {
        if (r.path == "/v1/models") return gossamer::test::model_list("gpt-oss-test", 4096);
        FakeAnswer a;
        a.body = R"({"count":3,"max_model_len":4096,"tokens":[1,2,3]})";
        return a;
    });
    CHECK_THROWS_WITH_AS(rt::RemoteModel(io, options({other_tokenizer.url()})),
                         doctest::Contains("not o200k_harmony"), rt::SetupError);
    FakeEngine no_tokenize([](const FakeRequest& r) {
        if (r.path == "/v1/models") return gossamer::test::model_list("gpt-oss-test", 4096);
        FakeAnswer a;
        a.status = 404;
        a.body = R"({"detail":"Not Found"})";
        return a;
    });
    {
        rt::RemoteModel m(io, options({no_tokenize.url()}));
        REQUIRE(m.warnings().size() == 1);
        CHECK(m.warnings()[0].find("cannot check its tokenizer") != std::string::npos);
    }
    FakeEngine refuses_key([](const FakeRequest&) {
        FakeAnswer a;
        a.status = 401;
        return a;
    });
    CHECK_THROWS_WITH_AS(rt::RemoteModel(io, options({refuses_key.url()})),
                         doctest::Contains("API key was refused"), rt::SetupError);
    // One endpoint down: it starts down, with a warning. All down: nothing to run on.
    FakeEngine gone(vllm_like([](const FakeRequest&) { return FakeAnswer{}; }));
    const std::string dead = gone.url();
    gone.stop();
    {
        rt::RemoteModel m(io, options({good.url(), dead}));
        REQUIRE(m.warnings().size() == 1);
        CHECK(m.warnings()[0].find(dead) != std::string::npos);
        CHECK_FALSE(m.stats()[1].up);
    }
    CHECK_THROWS_WITH_AS(rt::RemoteModel(io, options({dead})),
                         doctest::Contains("no endpoint answered"), rt::SetupError);
    CHECK_THROWS_AS(rt::RemoteModel(io, options({"ftp://x"})), rt::SetupError);
}

TEST_CASE(
    "remote: an endpoint that dies mid-stream: the generation continues elsewhere, "
    "every token once") {
    // A sends three tokens and drops the connection; B continues.
    FakeEngine a(vllm_like([](const FakeRequest&) {
        return stream_of({generate_event({11, 12}), generate_event({13}), generate_event({14})}, 2);
    }));
    FakeEngine b(vllm_like([](const FakeRequest&) {
        return stream_of({generate_event({14}), generate_event({kStopCall}, "stop")});
    }));
    boost::asio::io_context io;
    rt::RemoteModel model(io, options({a.url(), b.url()}));
    const auto r = generate_once(io, model, request(10));
    CHECK(r.tokens == std::vector<int>{11, 12, 13, 14, kStopCall});
    CHECK(r.last.reason == FinishReason::Stop);
    CHECK(r.last.stats.retries == 1);
    CHECK(r.last.stats.served_by == b.url());
    CHECK(r.events_after_done == 0);
    const auto continued = b.requests_to("/inference/v1/generate");
    REQUIRE(continued.size() == 1);
    // The prompt plus what A sent, and only what is left of the budget.
    CHECK(ids_of(continued[0]) ==
          std::vector<int>{200006, 1428, 200008, 13225, 200007, 11, 12, 13});
    CHECK(continued[0].body["sampling_params"]["max_tokens"] == 7);
    CHECK(model.stats()[0].failures == 1);
}

TEST_CASE(
    "remote: 500, a malformed event and a stalled stream fail over; 429 waits for "
    "Retry-After") {
    boost::asio::io_context io;
    FakeEngine good(vllm_like([](const FakeRequest&) {
        return stream_of({generate_event({7}), generate_event({kStopReturn}, "stop")});
    }));
    SUBCASE("500") {
        FakeEngine bad(vllm_like([](const FakeRequest&) {
            FakeAnswer a;
            a.status = 500;
            a.body = R"({"object":"error","message":"engine dead","code":500})";
            return a;
        }));
        rt::RemoteModel model(io, options({bad.url(), good.url()}));
        const auto r = generate_once(io, model, request());
        CHECK(r.tokens == std::vector<int>{7, kStopReturn});
        CHECK(r.last.stats.retries == 1);
    }
    SUBCASE("malformed event mid-stream") {
        FakeEngine bad(vllm_like([](const FakeRequest&) {
            return stream_of({generate_event({5}), "{\"choices\": [{\"token_ids\": \"oops\"}]}"});
        }));
        rt::RemoteModel model(io, options({bad.url(), good.url()}));
        const auto r = generate_once(io, model, request());
        CHECK(r.tokens == std::vector<int>{5, 7, kStopReturn});
        CHECK(ids_of(good.requests_to("/inference/v1/generate").at(0)).back() == 5);
    }
    SUBCASE("a stalled stream") {
        FakeEngine slow(vllm_like([](const FakeRequest&) {
            auto a = stream_of({generate_event({5})});
            a.stall = std::chrono::milliseconds(3000);
            return a;
        }));
        auto o = options({slow.url(), good.url()});
        o.token_timeout = 0.3;
        rt::RemoteModel model(io, o);
        const auto begun = std::chrono::steady_clock::now();
        const auto r = generate_once(io, model, request());
        CHECK(r.tokens == std::vector<int>{5, 7, kStopReturn});
        CHECK(std::chrono::steady_clock::now() - begun < std::chrono::milliseconds(2500));
        slow.stop();
    }
    SUBCASE("429 with Retry-After on the only endpoint") {
        std::atomic<int> calls{0};
        FakeEngine busy(vllm_like([&](const FakeRequest&) {
            if (calls++ == 0) {
                FakeAnswer a;
                a.status = 429;
                a.extra_headers = {"Retry-After: 1"};
                a.body = R"({"error":{"message":"too many requests"}})";
                return a;
            }
            return stream_of({generate_event({kStopReturn}, "stop")});
        }));
        rt::RemoteModel model(io, options({busy.url()}));
        const auto begun = std::chrono::steady_clock::now();
        const auto r = generate_once(io, model, request());
        CHECK(r.last.reason == FinishReason::Stop);
        CHECK(calls == 2);
        CHECK(std::chrono::steady_clock::now() - begun >= std::chrono::milliseconds(950));
    }
}

TEST_CASE(
    "remote: all endpoints down is an Error naming each; a refused request is not "
    "retried") {
    boost::asio::io_context io;
    std::atomic<bool> up{true};
    auto handler = [&](const FakeRequest&) {
        FakeAnswer a;
        a.status = 503;
        a.body = R"({"error":"overloaded"})";
        return a;
    };
    FakeEngine a(vllm_like(handler)), b(vllm_like(handler));
    auto o = options({a.url(), b.url()});
    o.max_attempts = 3;
    o.health_interval = 5;  // they stay down for this test
    rt::RemoteModel model(io, o);
    const auto r = generate_once(io, model, request());
    CHECK(r.last.reason == FinishReason::Error);
    CHECK(r.last.error.find(a.url()) != std::string::npos);
    CHECK(r.last.error.find(b.url()) != std::string::npos);
    CHECK(r.last.error.find("HTTP 503") != std::string::npos);
    CHECK(r.tokens.empty());

    std::atomic<int> calls{0};
    FakeEngine refusing(vllm_like([&](const FakeRequest&) {
        ++calls;
        FakeAnswer x;
        x.status = 400;
        x.body = R"({"object":"error","message":"token_ids: longer than the context"})";
        return x;
    }));
    // A failure marks the only endpoint down; its health check brings it back and the retry
    // runs there.
    std::atomic<int> tries{0}, checks{0};
    FakeEngine flaky([&](const FakeRequest& q) {
        if (q.path == "/health") return ++checks, FakeAnswer{};
        if (q.path != "/inference/v1/generate")
            return vllm_like([](const FakeRequest&) { return FakeAnswer{}; })(q);
        if (tries++ == 0) {
            FakeAnswer x;
            x.status = 502;
            return x;
        }
        return stream_of({generate_event({kStopReturn}, "stop")});
    });
    rt::RemoteModel recovering(io, options({flaky.url()}));
    const auto back = generate_once(io, recovering, request());
    CHECK(back.last.reason == FinishReason::Stop);
    CHECK(back.last.stats.retries == 1);
    CHECK(checks >= 1);
    CHECK(recovering.stats()[0].up);

    rt::RemoteModel strict(io, options({refusing.url()}));
    const auto refused = generate_once(io, strict, request());
    CHECK(refused.last.reason == FinishReason::Error);
    CHECK(refused.last.error.find("longer than the context") != std::string::npos);
    CHECK(calls == 1);
}

TEST_CASE(
    "remote: a conversation sticks to its endpoint; new ones go to the least loaded; "
    "max_in_flight holds") {
    // Each answer: three events 60 ms apart.
    auto slow = [](const FakeRequest&) {
        auto a = stream_of(
            {generate_event({1}), generate_event({2}), generate_event({kStopReturn}, "stop")});
        a.gap = std::chrono::milliseconds(60);
        return a;
    };
    FakeEngine a(vllm_like(slow)), b(vllm_like(slow));
    boost::asio::io_context io;
    auto o = options({a.url(), b.url()});
    rt::RemoteModel model(io, o);
    const auto c1 = model.open(), c2 = model.open();
    auto r1 = start(model, c1, request());
    auto r2 = start(model, c2, request());
    run_until(io, [&] { return r1->done && r2->done; });
    REQUIRE(r1->done);
    REQUIRE(r2->done);
    CHECK(r1->last.stats.served_by != r2->last.stats.served_by);  // spread
    for (int i = 0; i < 3; ++i) {  // and each stays where its prefix is
        auto again = start(model, c1, request());
        run_until(io, [&] { return again->done; });
        CAPTURE(again->last.error);
        CHECK(again->last.stats.served_by == r1->last.stats.served_by);
    }
    model.close(c1);
    model.close(c2);

    // One endpoint, one at a time: four conversations queue and all finish, one after another
    // (each answer takes two 60 ms gaps).
    FakeEngine c(vllm_like(slow));
    auto one = options({c.url()});
    one.max_in_flight = 1;
    rt::RemoteModel limited(io, one);
    std::vector<std::shared_ptr<Result>> all;
    const auto begun = std::chrono::steady_clock::now();
    for (int i = 0; i < 4; ++i) all.push_back(start(limited, limited.open(), request()));
    int most_in_flight = 0;
    run_until(io, [&] {
        most_in_flight = std::max(most_in_flight, limited.stats()[0].in_flight);
        return std::all_of(all.begin(), all.end(), [](const auto& r) { return r->done; });
    });
    for (const auto& r : all) CHECK(r->last.reason == FinishReason::Stop);
    CHECK(c.requests_to("/inference/v1/generate").size() == 4);
    CHECK(most_in_flight == 1);
    CHECK(std::chrono::steady_clock::now() - begun >= std::chrono::milliseconds(4 * 115));
}

TEST_CASE(
    "remote: vLLM without the token endpoint falls back to /v1/completions; cancel ends "
    "a generation") {
    FakeEngine old(vllm_like([](const FakeRequest& r) {
        FakeAnswer a;
        if (r.path == "/inference/v1/generate") {
            a.status = 404;
            a.body = R"({"detail":"Not Found"})";
            return a;
        }
        a.stream = true;
        a.events = {
            R"({"choices":[{"index":0,"text":"x","token_ids":[9],"finish_reason":null}]})",
            R"({"choices":[{"index":0,"text":"","token_ids":[200002],"finish_reason":"stop","stop_reason":200002}]})"};
        return a;
    }));
    boost::asio::io_context io;
    auto o = options({old.url()});
    o.api = rt::EngineApi::vllm;
    rt::RemoteModel model(io, o);
    const auto r = generate_once(io, model, request());
    CHECK(r.tokens == std::vector<int>{9, kStopReturn});
    CHECK(r.last.stats.retries == 0);
    const auto sent = old.requests_to("/v1/completions");
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].body["prompt"].size() == 5);
    CHECK(sent[0].body["return_token_ids"] == true);
    // Later generations go straight to /v1/completions.
    generate_once(io, model, request());
    CHECK(old.requests_to("/inference/v1/generate").size() == 1);

    FakeEngine slow(vllm_like([](const FakeRequest&) {
        auto a = stream_of({generate_event({1}), generate_event({2}), generate_event({3}),
                            generate_event({kStopReturn}, "stop")});
        a.gap = std::chrono::milliseconds(200);
        return a;
    }));
    rt::RemoteModel m2(io, options({slow.url()}));
    const auto c = m2.open();
    auto out = start(m2, c, request());
    run_until(io, [&] { return !out->tokens.empty(); });
    m2.cancel(c);
    run_until(io, [&] { return out->done; });
    CHECK(out->last.reason == FinishReason::Cancelled);
    const auto seen = out->tokens.size();
    run_until(
        io, [] { return false; }, 0.8);
    CHECK(out->tokens.size() == seen);  // nothing after the cancel
    CHECK(out->events_after_done == 0);
    CHECK(m2.stats()[0].in_flight == 0);
}

TEST_CASE("remote: SGLang's /generate (cumulative stream, trimmed stop) and whole answers") {
    // SGLang: no /tokenize here (a warning), cumulative output_ids, the stop id trimmed from
    // them and named in meta_info.finish_reason.matched.
    auto sglang = [](const FakeRequest& r) {
        if (r.path == "/v1/models") return gossamer::test::model_list("gpt-oss-test", 8192);
        FakeAnswer a;
        if (r.path != "/generate") {
            a.status = 404;
            return a;
        }
        const bool stream = r.body.value("stream", false);
        auto frame = [](std::vector<int> ids, json finish) {
            const int n = static_cast<int>(ids.size());
            return json{{"text", ""},
                        {"output_ids", std::move(ids)},
                        {"meta_info",
                         {{"id", "x"},
                          {"finish_reason", std::move(finish)},
                          {"prompt_tokens", 5},
                          {"completion_tokens", n},
                          {"cached_tokens", 4}}}}
                .dump();
        };
        const json stop{{"type", "stop"}, {"matched", kStopCall}};
        if (!stream) {
            a.body = frame({200005, 31, 32}, stop);
            return a;
        }
        a.stream = true;
        a.events = {frame({200005}, nullptr), frame({200005, 31}, nullptr),
                    frame({200005, 31, 32}, stop)};
        return a;
    };
    FakeEngine engine(sglang);
    boost::asio::io_context io;
    for (const bool stream : {true, false}) {
        CAPTURE(stream);
        auto o = options({engine.url()});
        o.api = rt::EngineApi::sglang;
        o.stream = stream;
        rt::RemoteModel model(io, o);
        REQUIRE(model.warnings().size() == 1);  // the tokenizer could not be checked
        CHECK(model.context_window() == 8192);
        const auto r = generate_once(io, model, request());
        CHECK(r.tokens == std::vector<int>{200005, 31, 32, kStopCall});
        CHECK(r.last.reason == FinishReason::Stop);
        CHECK(r.last.stats.reused_tokens == 4);
        const auto sent = engine.requests_to("/generate").back();
        CHECK(sent.body["input_ids"].size() == 5);
        CHECK(sent.body["sampling_params"]["max_new_tokens"] == 32);
        CHECK(sent.body["stream"] == stream);
    }
    // vLLM's whole (non-streamed) answer.
    FakeEngine whole(vllm_like([](const FakeRequest&) {
        FakeAnswer a;
        a.body = gossamer::test::read_file(std::string(GOSSAMER_TEST_DATA) +
                                           "/remote/vllm_generate.json");
        return a;
    }));
    auto o = options({whole.url()});
    o.stream = false;
    rt::RemoteModel model(io, o);
    const auto r = generate_once(io, model, request());
    CHECK(r.tokens == std::vector<int>{200005, 17196, 200008, 40, 2061, kStopReturn});
    CHECK(r.last.reason == FinishReason::Stop);
}
