// The remote engines' wire forms (runtime/engine_wire.h): requests as each engine documents
// them, and the documented answers (tests/data/remote, sources in its README) decoded whole,
// streamed, and streamed one byte at a time; malformed answers are WireErrors.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "runtime/engine_wire.h"
#include "runtime/model_client.h"
#include "tests/support/run_gossamer.h"

namespace rt = gossamer::runtime;
using gossamer::engine::FinishReason;
using nlohmann::json;

namespace {

std::string fixture(const std::string& name) {
    return gossamer::test::read_file(std::string(GOSSAMER_TEST_DATA) + "/remote/" + name);
}

struct Decoded {
    std::vector<std::int32_t> tokens;
    std::optional<FinishReason> finish;
    std::optional<std::int32_t> matched;
    int cached = -1;
    int frames = 0;
};

Decoded decode(rt::WireShape shape, bool stream, const std::string& body, std::size_t piece) {
    rt::WireDecoder d(shape, stream);
    Decoded out;
    auto take = [&](const std::vector<rt::WireChunk>& chunks) {
        for (const auto& c : chunks) {
            ++out.frames;
            out.tokens.insert(out.tokens.end(), c.tokens.begin(), c.tokens.end());
            if (c.finish) out.finish = c.finish, out.matched = c.matched_stop;
            if (c.cached_tokens >= 0) out.cached = c.cached_tokens;
        }
    };
    for (std::size_t i = 0; i < body.size(); i += piece)
        take(d.feed(std::string_view(body).substr(i, piece)));
    take(d.end());
    return out;
}

rt::ModelRequest sample_request() {
    rt::ModelRequest r;
    r.prompt = {200006, 1428, 200008};
    r.max_tokens = 64;
    r.sampling.temperature = 0.5f;
    r.sampling.top_p = 0.9f;
    r.sampling.top_k = 40;
    r.sampling.seed = 7;
    r.stop = {200002, 200012};
    return r;
}

}  // namespace

TEST_CASE("engine wire: requests in each engine's documented form") {
    const auto r = sample_request();
    const json gen = json::parse(rt::encode_request(rt::WireShape::generate, r, "gpt-oss", true));
    CHECK(gen["model"] == "gpt-oss");
    CHECK(gen["token_ids"] == json({200006, 1428, 200008}));
    CHECK(gen["stream"] == true);
    const auto& sp = gen["sampling_params"];
    CHECK(sp["max_tokens"] == 64);
    CHECK(sp["temperature"].get<double>() == doctest::Approx(0.5));
    CHECK(sp["top_p"].get<double>() == doctest::Approx(0.9));
    CHECK(sp["top_k"] == 40);
    CHECK(sp["seed"] == 7);
    CHECK(sp["stop_token_ids"] == json({200002, 200012}));
    CHECK(sp["skip_special_tokens"] == false);

    const json cmp = json::parse(rt::encode_request(rt::WireShape::completions, r, "m", false));
    CHECK(cmp["prompt"] == json({200006, 1428, 200008}));
    CHECK(cmp["return_token_ids"] == true);
    CHECK(cmp["max_tokens"] == 64);
    CHECK(cmp["seed"] == 7);
    CHECK(cmp["stop_token_ids"] == json({200002, 200012}));
    CHECK(cmp["stream"] == false);

    const json sg = json::parse(rt::encode_request(rt::WireShape::sglang, r, "", true));
    CHECK_FALSE(sg.contains("model"));
    CHECK(sg["input_ids"] == json({200006, 1428, 200008}));
    CHECK(sg["sampling_params"]["max_new_tokens"] == 64);
    CHECK(sg["sampling_params"]["sampling_seed"] == 7);
    CHECK(sg["sampling_params"]["stop_token_ids"] == json({200002, 200012}));
    CHECK(sg["sampling_params"]["no_stop_trim"] == true);

    auto greedy = r;
    greedy.sampling.top_k = 0;
    CHECK_FALSE(json::parse(rt::encode_request(rt::WireShape::generate, greedy, "",
                                               false))["sampling_params"]
                    .contains("top_k"));
    CHECK(rt::path_of(rt::WireShape::generate) == "/inference/v1/generate");
    CHECK(rt::path_of(rt::WireShape::completions) == "/v1/completions");
    CHECK(rt::path_of(rt::WireShape::sglang) == "/generate");
    CHECK(rt::parse_engine_api("vllm") == rt::EngineApi::vllm);
    CHECK_FALSE(rt::parse_engine_api("tgi"));
}

TEST_CASE("engine wire: the documented answers decode whole, streamed and byte by byte") {
    for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{1} << 20}) {
        CAPTURE(piece);
        auto v = decode(rt::WireShape::generate, false, fixture("vllm_generate.json"), piece);
        CHECK(v.tokens == std::vector<std::int32_t>{200005, 17196, 200008, 40, 2061, 200002});
        CHECK(v.finish == FinishReason::Stop);

        auto vs = decode(rt::WireShape::generate, true, fixture("vllm_generate_stream.sse"), piece);
        CHECK(vs.tokens == v.tokens);
        CHECK(vs.finish == FinishReason::Stop);
        CHECK(vs.frames == 4);

        auto c = decode(rt::WireShape::completions, false, fixture("vllm_completions.json"), piece);
        CHECK(c.tokens.size() == 9);
        CHECK(c.tokens.back() == 200012);
        CHECK(c.finish == FinishReason::Stop);
        CHECK(c.matched == 200012);

        auto cs =
            decode(rt::WireShape::completions, true, fixture("vllm_completions_stream.sse"), piece);
        CHECK(cs.tokens == std::vector<std::int32_t>{200005, 17196, 200008, 12194});
        CHECK(cs.finish == FinishReason::Length);

        auto s = decode(rt::WireShape::sglang, false, fixture("sglang_generate.json"), piece);
        CHECK(s.tokens == std::vector<std::int32_t>{200005, 17196, 200008, 19, 200002});
        CHECK(s.finish == FinishReason::Stop);
        CHECK(s.matched == 200002);
        CHECK(s.cached == 32);

        // Cumulative frames (SGLang's default): each id once; the trimmed stop is `matched`.
        auto ss = decode(rt::WireShape::sglang, true, fixture("sglang_generate_stream.sse"), piece);
        CHECK(ss.tokens == std::vector<std::int32_t>{200005, 17196, 200008, 19});
        CHECK(ss.matched == 200002);
        CHECK(ss.finish == FinishReason::Stop);

        auto si = decode(rt::WireShape::sglang, true,
                         fixture("sglang_generate_stream_incremental.sse"), piece);
        CHECK(si.tokens == std::vector<std::int32_t>{200005, 17196, 200008, 19, 19});
        CHECK(si.finish == FinishReason::Length);
    }
}

TEST_CASE("engine wire: errors in band and malformed answers") {
    // vLLM's ErrorResponse in a stream, and an abort.
    auto e = decode(
        rt::WireShape::generate, true,
        "data: {\"object\":\"error\",\"message\":\"KV cache is full\",\"code\":500}\n\n", 1 << 20);
    CHECK(e.finish == FinishReason::Error);
    rt::WireDecoder abort(rt::WireShape::sglang, false);
    abort.feed(
        R"({"text":"","output_ids":[],"meta_info":{"finish_reason":{"type":"abort","message":"client"}}})");
    const auto chunks = abort.end();
    REQUIRE(chunks.size() == 1);
    CHECK(chunks[0].finish == FinishReason::Error);
    CHECK(chunks[0].error.find("abort") != std::string::npos);

    const std::vector<std::pair<rt::WireShape, std::string>> bad = {
        {rt::WireShape::generate, "data: {not json\n\n"},
        {rt::WireShape::generate, "data: [1,2]\n\n"},
        {rt::WireShape::generate, "data: {\"choices\":[{\"token_ids\":[-1]}]}\n\n"},
        {rt::WireShape::generate, "data: {\"choices\":[{\"token_ids\":[\"a\"]}]}\n\n"},
        {rt::WireShape::generate,
         "data: {\"choices\":[{\"token_ids\":[1],\"finish_reason\":3}]}\n\n"},
        {rt::WireShape::completions, "data: {\"choices\":[{\"text\":\"hi\"}]}\n\n"},
        {rt::WireShape::sglang, "data: {\"text\":\"x\"}\n\n"},
        {rt::WireShape::sglang,
         "data: {\"output_ids\":[1,2],\"meta_info\":{}}\n\ndata: "
         "{\"output_ids\":[1],\"meta_info\":{}}\n\n"},
    };
    for (const auto& [shape, body] : bad) {
        CAPTURE(body);
        rt::WireDecoder d(shape, true);
        CHECK_THROWS_AS((d.feed(body), d.end()), rt::WireError);
    }
    // A stream that stops before the end, and a body that is cut off.
    rt::WireDecoder cut(rt::WireShape::generate, true);
    CHECK(
        cut.feed("data: {\"choices\":[{\"token_ids\":[1,2],\"finish_reason\":null}]}\n\n").size() ==
        1);
    CHECK_THROWS_AS(cut.end(), rt::WireError);
    rt::WireDecoder whole(rt::WireShape::generate, false);
    whole.feed("{\"choices\":[{\"token_ids\":[1,2]");
    CHECK_THROWS_AS(whole.end(), rt::WireError);
}
