// `gossamer harmony parse` as a binary: flags, the output JSON shape, exit codes (docs/CLI.md).
// Runs the real executable (GOSSAMER_BINARY) through the shell with files for stdin/stderr.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harmony/special_tokens.h"
#include "harmony/tokenizer.h"
#include "tests/support/run_gossamer.h"

namespace h = gossamer::harmony;
using Json = nlohmann::json;  // unordered: comparisons ignore key order

namespace {

using gossamer::test::Run;
using gossamer::test::run_gossamer;

Run run_parse(const std::string& flags, const std::string& input) {
    return run_gossamer("harmony parse " + flags, input);
}

// Parses stdout of a successful run, which must be one JSON object and a newline.
Json output_json(const Run& run) {
    INFO("stderr: " << run.err);
    REQUIRE(run.exit_code == 0);
    REQUIRE(!run.out.empty());
    CHECK(run.out.back() == '\n');
    return Json::parse(run.out);
}

std::vector<h::Token> enc(std::string_view text) {
    return h::Tokenizer::o200k_harmony().encode(text, h::AllowedSpecial::all_tokens());
}

std::string ids_json(const std::vector<h::Token>& ids) {
    return Json(ids).dump();
}

// harmony.md 4.4 rendered for completion: four messages, then the open <|start|>assistant.
const std::vector<h::Token> kToolRoundTrip = {
    200006, 1428,   200008, 4827,   382,    290,    11122,  306,    38371,  30,     200007, 200006,
    173781, 200005, 35644,  200008, 1844,   31064,  25,     966,    4827,   382,    290,    11122,
    306,    38371,  14181,  1416,   1309,   316,    1199,   37342,  170154, 4584,   13,     200007,
    200006, 173781, 316,    28,     44580,  76043,  170154, 200005, 12606,  815,    220,    200003,
    4108,   200008, 10848,  7693,   1243,   392,    28499,  18826,  18583,  200012, 200006, 44580,
    76043,  170154, 200008, 10848,  54267,  1243,   220,    455,    11,     392,    9186,   1243,
    392,    41133,  3008,   18583,  200007, 200006, 173781};

}  // namespace

TEST_CASE("cli parse: docs example to messages, message_info and no errors") {
    // harmony.md 4.2
    Json out = output_json(run_parse(
        "",
        "[200005, 35644, 200008, 1844, 31064, 25, 392, 4827, 382, 220, 17, 659, 220, 17, "
        "16842, 12295, 81645, 13, 51441, 6052, 13, 200007, 200006, 173781, 200005, 17196, "
        "200008, 17, 659, 220, 17, 314, 220, 19, 13, 200002]"));
    CHECK(out == Json::parse(R"({
        "messages": [
            {"role": "assistant", "channel": "analysis",
             "content": "User asks: \"What is 2 + 2?\" Simple arithmetic. Provide answer."},
            {"role": "assistant", "channel": "final", "content": "2 + 2 = 4."}
        ],
        "message_info": [
            {"stop": "<|end|>", "is_call": false},
            {"stop": "<|return|>", "is_call": false}
        ],
        "errors": []
    })"));
}

TEST_CASE("cli parse: tool call with an alias, after a recovered header") {
    auto first = enc("<|channel|>analysis<|message|>Search.<|end|>");
    auto rest = enc("analysis to=functions.browser.search<|message|>{\"query\": \"x\"}<|call|>");
    std::vector<h::Token> ids = first;
    ids.insert(ids.end(), rest.begin(), rest.end());
    Json out = output_json(run_parse("--role=assistant", ids_json(ids)));
    CHECK(out["messages"] == Json::parse(R"([
        {"role": "assistant", "channel": "analysis", "content": "Search."},
        {"role": "assistant", "recipient": "browser.search", "channel": "analysis",
         "content": "{\"query\": \"x\"}"}
    ])"));
    CHECK(out["message_info"] == Json::parse(R"([
        {"stop": "<|end|>", "is_call": false},
        {"stop": "<|call|>", "is_call": true, "original_recipient": "functions.browser.search"}
    ])"));
    REQUIRE(out["errors"].size() == 1);
    const Json& e = out["errors"][0];
    CHECK(e["kind"] == "unexpected_token");
    CHECK(e["tokens"] == Json::parse("[35644]"));  // "analysis" where <|start|> belongs
    CHECK(e["position"] == first.size());
    CHECK(e["what"].get<std::string>().starts_with(
        "Unexpected token 35644 while expecting start token 200006"));
}

TEST_CASE("cli parse: --no-role parses whole messages and reports the open header") {
    Json out = output_json(run_parse("--no-role", ids_json(kToolRoundTrip)));
    REQUIRE(out["messages"].size() == 4);
    CHECK(out["messages"][0] ==
          Json::parse(R"({"role": "user", "content": "What is the weather in SF?"})"));
    CHECK(out["messages"][2] == Json::parse(R"({"role": "assistant",
        "recipient": "functions.lookup_weather", "channel": "commentary",
        "content_type": "<|constrain|>json", "content": "{\"location\": \"San Francisco\"}"})"));
    CHECK(out["messages"][3] == Json::parse(R"({"role": "tool", "name": "functions.lookup_weather",
        "content": "{\"temperature\": 20, \"description\": \"sunny\"}"})"));
    CHECK(out["message_info"][2] == Json::parse(R"({"stop": "<|call|>", "is_call": true})"));
    REQUIRE(out["errors"].size() == 1);
    CHECK(out["errors"][0]["kind"] == "eos_in_header");
    CHECK(out["errors"][0]["tokens"] == Json::parse("[200006, 173781]"));
    CHECK(out["errors"][0]["position"] == 77);
}

TEST_CASE("cli parse: stop is null when the input ends inside a message") {
    Json out = output_json(run_parse("", ids_json(enc("<|channel|>final<|message|>partial"))));
    CHECK(out == Json::parse(R"({
        "messages": [{"role": "assistant", "channel": "final", "content": "partial"}],
        "message_info": [{"stop": null, "is_call": false}],
        "errors": []
    })"));
}

TEST_CASE("cli parse: --role picks the role of the first header") {
    Json out = output_json(run_parse("--role=user", ids_json(enc("<|message|>Hi<|end|>"))));
    CHECK(out["messages"] == Json::parse(R"([{"role": "user", "content": "Hi"}])"));
    CHECK(out["errors"].empty());
}

TEST_CASE("cli parse: empty input") {
    // After <|start|>assistant nothing came: the header never completed.
    Json out = output_json(run_parse("", "[]"));
    CHECK(out["messages"].empty());
    CHECK(out["errors"] == Json::parse(R"json([{"kind": "eos_in_header",
        "what": "Unexpected EOS while waiting for message header to complete (header \"\")",
        "tokens": [], "position": 0
}])json"));
    CHECK(output_json(run_parse("--no-role", "[]")) ==
          Json::parse(R"({"messages": [], "message_info": [], "errors": []})"));
}

TEST_CASE("cli parse: messages are valid `harmony render` input") {
    // Everything before the trailing open header renders back to the same ids.
    std::vector<h::Token> ids(kToolRoundTrip.begin(), kToolRoundTrip.end() - 2);
    Json parsed = output_json(run_parse("--no-role", ids_json(ids)));
    CHECK(parsed["errors"].empty());
    Json render_input = {{"messages", parsed["messages"]}};
    Json rendered = output_json(run_gossamer("harmony render", render_input.dump()));
    CHECK(rendered["tokens"] == Json(ids));
}

TEST_CASE("cli parse: bad input and flags exit 2 with a message and no output") {
    struct Case {
        const char* flags;
        const char* input;
        const char* stderr_contains;
    };
    const Case cases[] = {
        {"", "not json", "not valid JSON"},
        {"", "{\"tokens\": [1]}", "must be a JSON array"},
        {"", "[1, 201089]", "element 1 (201089)"},
        {"", "[-1]", "element 0 (-1)"},
        {"", "[1.5]", "element 0 (1.5)"},
        {"", "[\"7\"]", "element 0"},
        {"", "\xFF[]", "not valid UTF-8"},
        {"--bogus", "[]", "unknown argument '--bogus'"},
        {"--role=robot", "[]", "unknown role 'robot'"},
        {"--role=user --no-role", "[]", "exclude each other"},
    };
    for (const auto& c : cases) {
        INFO("flags: " << c.flags << " input: " << c.input);
        Run run = run_parse(c.flags, c.input);
        CHECK(run.exit_code == 2);
        CHECK(run.out.empty());
        CHECK(run.err.starts_with("gossamer harmony parse: "));
        CHECK(run.err.find(c.stderr_contains) != std::string::npos);
    }
}

TEST_CASE("cli parse: --help") {
    Run run = run_parse("--help", "");
    CHECK(run.exit_code == 0);
    CHECK(run.out.starts_with("usage: gossamer harmony parse [--role=ROLE | --no-role]"));
}
