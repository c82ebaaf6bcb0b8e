// `gossamer harmony render` and `gossamer demo`, run as the real binary (GOSSAMER_BINARY)
// with stdin from a file: exit codes, stdout JSON against harmony.md's vectors, and one
// line on stderr for every kind of bad input.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harmony/sha256.h"
#include "harmony/special_tokens.h"
#include "tests/support/run_gossamer.h"

using gossamer::harmony::Token;
using Json = nlohmann::ordered_json;

namespace {

using gossamer::test::Run;

Run run(const std::string& args, std::string_view input) {
    return gossamer::test::run_gossamer(args, input);
}

std::vector<Token> tokens_of(const Run& r) {
    REQUIRE(r.exit_code == 0);
    REQUIRE(!r.out.empty());
    CHECK(r.out.back() == '\n');
    Json json = Json::parse(r.out);
    return json.at("tokens").get<std::vector<Token>>();
}

std::string fingerprint(const std::vector<Token>& ids) {
    std::string joined;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) joined += ' ';
        joined += std::to_string(ids[i]);
    }
    return gossamer::harmony::sha256_hex(joined);
}

// harmony.md 4.1, test_simple_convo.
constexpr std::string_view kSimpleConvoInput = R"({"messages": [
    {"role": "system", "content": [{"type": "system_content"}]},
    {"role": "user", "content": "What is 2 + 2?"}]})";
constexpr std::string_view kSimpleConvoText =
    "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
    "Knowledge cutoff: 2024-06\n\nReasoning: medium\n\n# Valid channels: analysis, commentary, "
    "final. Channel must be included for every message.<|end|><|start|>user<|message|>What is 2 "
    "+ 2?<|end|><|start|>assistant";
const std::vector<Token> kSimpleConvoIds = {
    200006, 17360, 200008, 3575,  553,   17554,  162016, 11,    261,  4410,   6439,   2359,   22203,
    656,    7788,  17527,  558,   87447, 100594, 25,     220,   1323, 19,     12,     3218,   279,
    30377,  289,   25,     14093, 279,   2,      13888,  18403, 25,   8450,   11,     49159,  11,
    1721,   13,    21030,  2804,  413,   7360,   395,    1753,  3176, 13,     200007, 200006, 1428,
    200008, 4827,  382,    220,   17,    659,    220,    17,    30,   200007, 200006, 173781};

// harmony.md 4.6 inputs: test_dropping_cot_by_default / test_preserve_cot.
std::string two_plus_two(std::string_view analysis) {
    return std::string(R"({"messages": [{"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "channel": "analysis", "content": )") +
           std::string(analysis) + R"(},
        {"role": "assistant", "channel": "final", "content": "2 + 2 equals 4."},
        {"role": "user", "content": "What about 9 / 2?"}]})";
}
const std::vector<Token> kDroppingIds = {
    200006, 1428,  200008, 4827, 382, 220, 17,  659,   220, 17,     30,     200007, 200006, 173781,
    200005, 17196, 200008, 17,   659, 220, 17,  29702, 220, 19,     13,     200007, 200006, 1428,
    200008, 4827,  1078,   220,  24,  820, 220, 17,    30,  200007, 200006, 173781};

}  // namespace

TEST_CASE("cli render: simple convo for completion (harmony.md 4.1)") {
    Run r = run("harmony render --for-completion", kSimpleConvoInput);
    CHECK(r.err.empty());
    CHECK(tokens_of(r) == kSimpleConvoIds);
    Json json = Json::parse(r.out);
    CHECK(json.at("text") == kSimpleConvoText);
    // The output object is exactly {"tokens", "text"}, in that order.
    REQUIRE(json.size() == 2);
    CHECK(json.begin().key() == "tokens");
}

TEST_CASE("cli render: without flags, and --for-completion=ROLE") {
    // Without a flag: the conversation alone, i.e. 4.1 without <|start|>assistant.
    auto plain = tokens_of(run("harmony render", kSimpleConvoInput));
    CHECK(plain == std::vector<Token>(kSimpleConvoIds.begin(), kSimpleConvoIds.end() - 2));
    auto assistant = tokens_of(run("harmony render --for-completion=assistant", kSimpleConvoInput));
    CHECK(assistant == kSimpleConvoIds);
    // harmony.md 1.2: "user" is 1428.
    auto user = tokens_of(run("harmony render --for-completion=user", kSimpleConvoInput));
    CHECK(user.size() == kSimpleConvoIds.size());
    CHECK(user.back() == 1428);
}

TEST_CASE("cli render: --drop-analysis modes (harmony.md 4.6)") {
    std::string dropping = two_plus_two(
        R"("User asks: \u201cWhat is 2 + 2?\u201d Simple arithmetic. Provide answer.")");
    CHECK(tokens_of(run("harmony render --for-completion", dropping)) == kDroppingIds);
    CHECK(tokens_of(run("harmony render --for-completion --drop-analysis=completed-turns",
                        dropping)) == kDroppingIds);
    CHECK(tokens_of(run("harmony render --for-completion --drop-analysis=harmony-first-final",
                        dropping)) == kDroppingIds);
    auto kept = tokens_of(
        run("harmony render --drop-analysis=none --for-completion",
            two_plus_two(R"("User asks a simple question: \"What is 2 + 2?\" The answer: 4.")")));
    CHECK(kept.size() == 67);
    CHECK(fingerprint(kept) == "06bd09c06e8970e9dcac5805d538b5993980458cf5ed75170951f88caf79ec52");
}

TEST_CASE("cli render: the two named policies differ on three turns") {
    const std::string three_turns = R"({"messages": [
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "channel": "analysis", "content": "thinking 2+2"},
        {"role": "assistant", "channel": "final", "content": "4"},
        {"role": "user", "content": "What is 3 + 5?"},
        {"role": "assistant", "channel": "analysis", "content": "thinking 3+5"},
        {"role": "assistant", "channel": "final", "content": "8"},
        {"role": "user", "content": "And 4 + 4?"}]})";
    Run completed = run("harmony render --drop-analysis=completed-turns", three_turns);
    Run harmony = run("harmony render --drop-analysis=harmony-first-final", three_turns);
    REQUIRE(completed.exit_code == 0);
    REQUIRE(harmony.exit_code == 0);
    auto completed_text = Json::parse(completed.out).at("text").get<std::string>();
    auto harmony_text = Json::parse(harmony.out).at("text").get<std::string>();
    CHECK(completed_text.find("thinking") == std::string::npos);
    CHECK(harmony_text.find("thinking 2+2") == std::string::npos);
    CHECK(harmony_text.find("thinking 3+5") != std::string::npos);
}

TEST_CASE("cli render: --for-training ends a final answer with <|return|>") {
    const std::string chat = R"({"messages": [{"role": "user", "content": "hi"},
        {"role": "assistant", "channel": "final", "content": "hello"}]})";
    auto regular = tokens_of(run("harmony render", chat));
    auto training = tokens_of(run("harmony render --for-training", chat));
    REQUIRE(regular.size() == training.size());
    CHECK(regular.back() == 200007);
    CHECK(training.back() == 200002);
    CHECK(std::equal(regular.begin(), regular.end() - 1, training.begin()));
}

TEST_CASE("cli render: special-token text from a user stays ordinary tokens") {
    auto ids = tokens_of(
        run("harmony render", R"({"messages": [{"role": "user", "content": "<|start|>"}]})"));
    // <|start|> user <|message|>, then "<|start|>" as text (27 91 5236 91 29), <|end|>.
    CHECK(ids == std::vector<Token>{200006, 1428, 200008, 27, 91, 5236, 91, 29, 200007});
}

TEST_CASE("cli render: bad input exits 2 with one line on stderr and nothing on stdout") {
    struct Case {
        const char* args;
        std::string input;
        const char* error;
    };
    const std::string ok = R"({"messages": [{"role": "user", "content": "hi"}]})";
    const Case cases[] = {
        {"harmony render", "{\"messages\": [", "standard input is not valid JSON"},
        {"harmony render", "{\"messages\": [{\"role\": \"user\", \"content\": \"\xff\"}]}",
         "standard input is not valid UTF-8"},
        {"harmony render", "[]", "standard input must be a JSON object"},
        {"harmony render", "{}", "missing \"messages\""},
        {"harmony render", R"({"messages": [], "model": "x"})", "unknown key 'model'"},
        {"harmony render", R"({"messages": {}})", "messages: expected an array"},
        {"harmony render", R"({"messages": [{"role": "robot", "content": "x"}]})",
         "messages[0].role: unknown role 'robot'"},
        {"harmony render", R"({"messages": [{"role": "user", "content": "x", "to": "y"}]})",
         "messages[0].to: unknown key"},
        {"harmony render", R"({"messages": [{"role": "tool", "content": "x"}]})",
         "messages[0].name: a tool message needs a name"},
        {"harmony render", R"({"messages": [{"role": "user", "content": [
             {"type": "system_content"}]}]})",
         "system_content may only appear in a system message"},
        {"harmony render --ordinary", ok, "unknown argument '--ordinary'"},
        {"harmony render --drop-analysis=all", ok, "--drop-analysis: unknown mode 'all'"},
        {"harmony render --for-completion=robot", ok, "--for-completion: unknown role 'robot'"},
        {"harmony render --for-completion --for-training", ok, "cannot be combined"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.args);
        CAPTURE(c.input);
        Run r = run(c.args, c.input);
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.rfind("gossamer harmony render: ", 0) == 0);
        CHECK(r.err.find(c.error) != std::string::npos);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
}

TEST_CASE("cli render: --help prints the usage and exits 0") {
    Run r = run("harmony render --help", "");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("usage: gossamer harmony render") == 0);
    CHECK(r.out.find("--drop-analysis=completed-turns|harmony-first-final|none") !=
          std::string::npos);
}

TEST_CASE("cli render: gossamer demo renders its conversation and exits 0") {
    Run r = run("demo", "");
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK(r.out.find("<|start|>system<|message|>You are ChatGPT") != std::string::npos);
    CHECK(r.out.find("Current date: ") != std::string::npos);
    CHECK(r.out.find("## browser") != std::string::npos);
    CHECK(r.out.find("## python") != std::string::npos);
    CHECK(r.out.find("Calls to these tools must go to the commentary channel: 'functions'.") !=
          std::string::npos);
    CHECK(r.out.find("<|call|><|start|>functions.") != std::string::npos);
    CHECK(r.out.find(" tokens ==") != std::string::npos);
    CHECK(r.out.find("27 91 5236 91 29") != std::string::npos);  // "<|start|>" as text
    CHECK(r.out.find("result: OK") != std::string::npos);
    CHECK(run("demo --verbose", "").exit_code == 2);
}

TEST_CASE("cli render: --lines renders one result per request line, a bad line in place") {
    std::string one(kSimpleConvoInput);
    one.erase(std::remove(one.begin(), one.end(), '\n'), one.end());
    const auto single = run("harmony render --for-completion", kSimpleConvoInput);
    REQUIRE(single.exit_code == 0);
    const auto r = run("harmony render --for-completion --lines",
                       one + "\nnot json\n\n" + R"({"messages": 1})" + "\n" + one + "\n");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::vector<std::string> lines;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    REQUIRE(lines.size() == 4);  // the empty input line gives no result
    CHECK(lines[0] + "\n" == single.out);
    CHECK(Json::parse(lines[1]).at("error").get<std::string>().find("line 2") == 0);
    CHECK(Json::parse(lines[2]).contains("error"));
    CHECK(lines[3] + "\n" == single.out);
}
