// The lenient streaming parser (harmony/stream_parser.h): parity with openai/harmony on the
// reference vectors (harmony.md 4.2, 4.4, 4.5, 4.7), then one test per lenient recovery
// (harmony.md 6, gpt-oss.md 6 items 10-17). Expected values are written from the spec.
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harmony/sha256.h"
#include "harmony/stream_parser.h"
#include "harmony/tokenizer.h"
#include "harmony/utf8.h"

// Want{.channel = ..., .text = ...} leaves the other fields to their default initializers on
// purpose; GCC 12's -Wextra still reports each as missing.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace h = gossamer::harmony;
namespace tok = gossamer::harmony::tok;
using h::ParseErrorKind;
using h::Role;
using h::StreamParser;
using h::Token;

namespace {

const std::string kFffd(h::utf8::kReplacement);

std::vector<Token> enc(std::string_view text) {
    return h::Tokenizer::o200k_harmony().encode(text, h::AllowedSpecial::all_tokens());
}

std::vector<Token> cat(std::initializer_list<std::vector<Token>> parts) {
    std::vector<Token> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

StreamParser parse(const std::vector<Token>& ids, std::optional<Role> role = Role::assistant,
                   h::ParseOptions options = {}) {
    StreamParser parser(role, std::move(options));
    for (Token t : ids) parser.process(t);
    parser.process_eos();
    return parser;
}

// A completed message as the test expects it.
struct Want {
    Role role = Role::assistant;
    std::optional<std::string> name;
    std::optional<std::string> recipient;
    std::optional<std::string> channel;
    std::optional<std::string> content_type;
    std::string text;
    std::optional<Token> stop;  // nullopt: closed by the end of the stream
    bool is_call = false;
    std::optional<std::string> original_recipient;
};

std::string show_field(const std::optional<std::string>& v) {
    return v ? "\"" + *v + "\"" : "-";
}

// One line per message, so a failure prints expected and actual side by side.
std::string show(const Want& w) {
    return std::string(h::to_string(w.role)) + " name=" + show_field(w.name) +
           " to=" + show_field(w.recipient) + " channel=" + show_field(w.channel) +
           " type=" + show_field(w.content_type) +
           " stop=" + (w.stop ? std::to_string(*w.stop) : "eos") +
           " call=" + (w.is_call ? "1" : "0") + " alias_of=" + show_field(w.original_recipient) +
           " text=\"" + w.text + "\"";
}

std::string show(const h::ParsedMessage& p) {
    const h::Message& m = p.message;
    std::string text = m.text_content();
    if (m.content.size() != 1) text += " (" + std::to_string(m.content.size()) + " parts)";
    return show(Want{m.role, m.name, m.recipient, m.channel, m.content_type, text, p.stop,
                     p.is_call, p.original_recipient});
}

void check_messages(const StreamParser& parser, const std::vector<Want>& want) {
    const auto& got = parser.messages();
    CHECK(got.size() == want.size());
    for (std::size_t i = 0; i < got.size() && i < want.size(); ++i) {
        INFO("message " << i);
        CHECK(show(got[i]) == show(want[i]));
    }
}

std::string kinds(const StreamParser& parser) {
    std::string out;
    for (const auto& e : parser.errors()) {
        if (!out.empty()) out += ',';
        out += h::to_string(e.kind);
    }
    return out;
}

std::string join_ids(const std::vector<Token>& tokens) {
    std::string out;
    for (Token t : tokens) {
        if (!out.empty()) out += ' ';
        out += std::to_string(t);
    }
    return out;
}

// harmony.md 4.2: docs/format.md's streaming example.
const std::vector<Token> kDocsExample = {
    200005, 35644, 200008, 1844,  31064, 25,  392,   4827, 382, 220,    17,     659,
    220,    17,    16842,  12295, 81645, 13,  51441, 6052, 13,  200007, 200006, 173781,
    200005, 17196, 200008, 17,    659,   220, 17,    314,  220, 19,     13,     200002};

const std::string kDocsAnalysis =
    "User asks: \"What is 2 + 2?\" Simple arithmetic. Provide answer.";

}  // namespace

// ---- parity with harmony on well-formed output ----

TEST_CASE("parser: docs streaming example, token by token (harmony.md 4.2)") {
    CHECK(enc("<|channel|>analysis<|message|>" + kDocsAnalysis +
              "<|end|><|start|>assistant<|channel|>final<|message|>2 + 2 = 4.<|return|>") ==
          kDocsExample);
    StreamParser parser(Role::assistant);
    CHECK(parser.state() == StreamParser::State::header);
    CHECK(parser.current_role() == Role::assistant);

    std::vector<std::string> deltas;
    for (std::size_t i = 0; i < kDocsExample.size(); ++i) {
        parser.process(kDocsExample[i]);
        if (parser.last_content_delta()) deltas.push_back(*parser.last_content_delta());
        if (i == 1) {  // <|channel|>analysis: the header is not complete yet
            CHECK(parser.state() == StreamParser::State::header);
            CHECK(parser.current_channel() == std::nullopt);
            REQUIRE(parser.provisional_header());
            CHECK(parser.provisional_header()->channel == "analysis");
        }
        if (i == 2) {  // <|message|>
            CHECK(parser.state() == StreamParser::State::content);
            CHECK(parser.current_channel() == "analysis");
            CHECK(parser.current_recipient() == std::nullopt);
            CHECK(parser.current_content_type() == std::nullopt);
        }
        if (i == 20) CHECK(parser.current_content() == kDocsAnalysis);
        if (i == 21) {  // <|end|>
            CHECK(parser.state() == StreamParser::State::expect_start);
            CHECK(parser.messages().size() == 1);
            CHECK(parser.current_content().empty());
            CHECK(parser.last_content_delta() == std::nullopt);
        }
        if (i == 22) {  // <|start|>: the role comes from the header now
            CHECK(parser.state() == StreamParser::State::header);
            CHECK(parser.current_role() == std::nullopt);
        }
        if (i == 26) CHECK(parser.current_channel() == "final");
    }
    std::vector<std::string> want_deltas = {"User", " asks", ":", " \"", "What", " is", " ", "2",
                                            " +", " ", "2", "?\"", " Simple", " arithmetic", ".",
                                            " Provide", " answer", ".",
                                            // message 2: 17 659 220 17 314 220 19 13
                                            "2", " +", " ", "2", " =", " ", "4", "."};
    CHECK(deltas == want_deltas);
    check_messages(parser, {
                               {.channel = "analysis", .text = kDocsAnalysis, .stop = tok::kEnd},
                               {.channel = "final", .text = "2 + 2 = 4.", .stop = tok::kReturn},
                           });
    parser.process_eos();
    CHECK(parser.messages().size() == 2);
    CHECK(parser.errors().empty());
    CHECK(parser.tokens() == kDocsExample);
}

TEST_CASE("parser: reasoning response closed by <|return|> and by end of stream") {
    // test_simple_reasoning_response.txt: the first stop is <|return|>, the last is missing.
    std::vector<Token> ids = kDocsExample;
    ids[21] = tok::kReturn;
    ids.pop_back();
    auto parser = parse(ids);
    check_messages(parser, {
                               {.channel = "analysis", .text = kDocsAnalysis, .stop = tok::kReturn},
                               {.channel = "final", .text = "2 + 2 = 4.", .stop = std::nullopt},
                           });
    CHECK(parser.errors().empty());
}

TEST_CASE("parser: tool call on analysis with content type code (test_simple_tool_call)") {
    const std::vector<Token> ids = {200005, 35644,  200008, 1844,   31064, 25,     392,    4827,
                                    382,    290,    11122,  306,    40510, 16842,  1416,   1309,
                                    316,    1199,   37342,  170154, 4584,  13,     200007, 200006,
                                    173781, 200005, 35644,  316,    28,    29712,  170154, 3490,
                                    200008, 10848,  7693,   1243,   392,   173844, 18583};
    auto parser = parse(ids);
    check_messages(
        parser,
        {
            {.channel = "analysis",
             .text =
                 "User asks: \"What is the weather in Tokyo?\" We need to use lookup_weather tool.",
             .stop = tok::kEnd},
            {.recipient = "lookup_weather",
             .channel = "analysis",
             .content_type = "code",
             .text = "{\"location\": \"Tokyo\"}",
             .stop = std::nullopt,
             .is_call = true},
        });
    CHECK(parser.errors().empty());
}

TEST_CASE("parser: tool result parsed with no starting role (test_tool_response_parsing)") {
    const std::vector<Token> ids = {200006, 46071, 16718,  316,   28,   173781, 200005,
                                    12606,  815,   200008, 10848, 2521, 1243,   392,
                                    4172,   1684,  3843,   1361,  1136, 14,     18583};
    auto parser = parse(ids, std::nullopt);
    check_messages(parser, {{.role = Role::tool,
                             .name = "browser.search",
                             .recipient = "assistant",
                             .channel = "commentary",
                             .text = "{\"result\": \"https://openai.com/\"}",
                             .stop = std::nullopt}});
    CHECK(parser.errors().empty());
}

TEST_CASE("parser: harmony's test_streamable_parser fixture (harmony.md 4.5)") {
    const std::string text =
        "<|channel|>analysis<|message|>User asks \"Who is the current US president?\" It's "
        "2025, presumably current president is Joe Biden? Actually as of 2025-07-28, there was "
        "a 2024 election. In 2024, President is probably President Biden still? But w\ne need "
        "up to date info. Let's browse to confirm.<|end|><|start|>assistant<|channel|>commentary "
        "to=browser.search code<|message|>{\"query\": \"current US president July 2025\", "
        "\"topn\": 10, \"source\": \"news\"}<|call|><|start|>browser.search "
        "to=assistant<|channel|>commentary<|message|>{\"result\": \"https://openai.com/\"}<|end|>";
    auto tokens = enc(text);
    // The fixture's token count and hash (harmony.md appendix): the text above is byte-exact.
    CHECK(tokens.size() == 131);
    CHECK(h::sha256_hex(join_ids(tokens)) ==
          "8d0426b0253fc64f849310c489919c30ea9fbfde8c39a005aef0b17596e4c6e1");

    StreamParser parser(Role::assistant);
    for (Token t : tokens) parser.process(t);  // no process_eos: every message has its stop
    check_messages(
        parser,
        {
            {.channel = "analysis",
             .text = "User asks \"Who is the current US president?\" It's 2025, presumably current "
                     "president is Joe Biden? Actually as of 2025-07-28, there was a 2024 "
                     "election. In 2024, President is probably President Biden still? But w\ne "
                     "need up to date info. Let's browse to confirm.",
             .stop = tok::kEnd},
            {.recipient = "browser.search",
             .channel = "commentary",
             .content_type = "code",
             .text = "{\"query\": \"current US president July 2025\", \"topn\": 10, \"source\": "
                     "\"news\"}",
             .stop = tok::kCall,
             .is_call = true},
            {.role = Role::tool,
             .name = "browser.search",
             .recipient = "assistant",
             .channel = "commentary",
             .text = "{\"result\": \"https://openai.com/\"}",
             .stop = tok::kEnd},
        });
    CHECK(parser.errors().empty());
}

TEST_CASE("parser: harmony's accepted recipient and <|constrain|> placements") {
    // tests/test_harmony.py: all three give commentary, functions.get_weather, <|constrain|>json.
    const char* headers[] = {
        "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json",
        "<|start|>assistant to=functions.get_weather<|channel|>commentary<|constrain|>json",
        "<|start|>assistant<|channel|>commentary to=functions.get_weather<|constrain|>json",
    };
    for (const char* header : headers) {
        INFO(header);
        auto parser =
            parse(enc(std::string(header) + "<|message|>{\"location\": \"Tokyo\"}<|call|>"),
                  std::nullopt);
        check_messages(parser, {{.recipient = "functions.get_weather",
                                 .channel = "commentary",
                                 .content_type = "<|constrain|>json",
                                 .text = "{\"location\": \"Tokyo\"}",
                                 .stop = tok::kCall,
                                 .is_call = true}});
        CHECK(parser.errors().empty());
    }
}

TEST_CASE("parser: 4.4 tool round trip parsed as a whole conversation") {
    // Rendered for completion, so it ends with the open header <|start|>assistant.
    const std::vector<Token> ids = {
        200006, 1428,   200008, 4827,   382,   290,    11122,  306,    38371,  30,
        200007, 200006, 173781, 200005, 35644, 200008, 1844,   31064,  25,     966,
        4827,   382,    290,    11122,  306,   38371,  14181,  1416,   1309,   316,
        1199,   37342,  170154, 4584,   13,    200007, 200006, 173781, 316,    28,
        44580,  76043,  170154, 200005, 12606, 815,    220,    200003, 4108,   200008,
        10848,  7693,   1243,   392,    28499, 18826,  18583,  200012, 200006, 44580,
        76043,  170154, 200008, 10848,  54267, 1243,   220,    455,    11,     392,
        9186,   1243,   392,    41133,  3008,  18583,  200007, 200006, 173781};
    REQUIRE(ids.size() == 79);
    auto parser = parse(ids, std::nullopt);
    check_messages(
        parser,
        {
            {.role = Role::user, .text = "What is the weather in SF?", .stop = tok::kEnd},
            {.channel = "analysis",
             .text = "User asks: \xE2\x80\x9CWhat is the weather in SF?\xE2\x80\x9D We need to use "
                     "lookup_weather tool.",
             .stop = tok::kEnd},
            {.recipient = "functions.lookup_weather",
             .channel = "commentary",
             .content_type = "<|constrain|>json",
             .text = "{\"location\": \"San Francisco\"}",
             .stop = tok::kCall,
             .is_call = true},
            // A lone tool name after <|start|>: harmony fails with "Unknown role".
            {.role = Role::tool,
             .name = "functions.lookup_weather",
             .text = "{\"temperature\": 20, \"description\": \"sunny\"}",
             .stop = tok::kEnd},
        });
    REQUIRE(parser.errors().size() == 1);
    const auto& e = parser.errors()[0];
    CHECK(e.kind == ParseErrorKind::eos_in_header);
    CHECK(join_ids(e.tokens) == "200006 173781");
    CHECK(e.position == 77);
    CHECK(e.what.starts_with("Unexpected EOS while waiting for message header to complete"));
}

TEST_CASE("parser: browser call round trip parsed as a whole conversation") {
    const std::vector<Token> ids = {
        200006, 1428,   200008, 20600,  3313,   290,    220,    1323,   17,    5922,   17257,
        30,     200007, 200006, 173781, 200005, 35644,  200008, 23483,  316,   3684,   13,
        200007, 200006, 173781, 316,    28,     46071,  16718,  200005, 35644, 200008, 10848,
        2975,   1243,   392,    1323,   17,     5922,   17257,  19499,  672,   392,    8169,
        77,     1243,   220,    18,     92,     200012, 200006, 46071,  16718, 316,    28,
        173781, 200005, 35644,  200008, 58,     15,     60,     30817,  25327, 2550,   350,
        2521,   2201,   8,      200007, 200006, 173781};
    auto parser = parse(ids, std::nullopt);
    check_messages(
        parser, {
                    {.role = Role::user, .text = "Who won the 2022 World Cup?", .stop = tok::kEnd},
                    {.channel = "analysis", .text = "Need to search.", .stop = tok::kEnd},
                    {.recipient = "browser.search",
                     .channel = "analysis",
                     .text = "{\"query\": \"2022 World Cup winner\", \"topn\": 3}",
                     .stop = tok::kCall,
                     .is_call = true},
                    {.role = Role::tool,
                     .name = "browser.search",
                     .recipient = "assistant",
                     .channel = "analysis",
                     .text = "[0] Argentina wins ... (result text)",
                     .stop = tok::kEnd},
                });
    CHECK(kinds(parser) == "eos_in_header");
}

TEST_CASE("parser: harmony's non-strict vectors (harmony.md 4.7 items 1-4)") {
    SUBCASE("bare text before the first header") {
        auto prefix = enc("I must refuse<|end|>");
        auto parser =
            parse(enc("I must refuse<|end|><|start|>assistant<|channel|>analysis"
                      "<|message|>We must refuse<|end|><|start|>assistant<|channel|>"
                      "final<|message|>I'm sorry, but I can't help with that.<|return|>"));
        check_messages(parser,
                       {
                           {.text = "I must refuse", .stop = tok::kEnd},
                           {.channel = "analysis", .text = "We must refuse", .stop = tok::kEnd},
                           {.channel = "final",
                            .text = "I'm sorry, but I can't help with that.",
                            .stop = tok::kReturn},
                       });
        REQUIRE(parser.errors().size() == 1);
        CHECK(parser.errors()[0].kind == ParseErrorKind::missing_message);
        CHECK(parser.errors()[0].tokens == prefix);  // the header text and its <|end|>
        CHECK(parser.errors()[0].position == 0);
    }
    SUBCASE("channel, then text without <|message|>") {
        auto parser =
            parse(enc("<|channel|>analysis I must refuse<|end|><|start|>assistant"
                      "<|channel|>analysis<|message|>We must refuse<|end|>"));
        check_messages(parser,
                       {
                           {.channel = "analysis", .text = "I must refuse", .stop = tok::kEnd},
                           {.channel = "analysis", .text = "We must refuse", .stop = tok::kEnd},
                       });
        CHECK(kinds(parser) == "missing_message");
    }
    SUBCASE("a tool call after bare text, content type json") {
        auto parser =
            parse(enc("... Let's use the tool.<|end|><|start|>assistant "
                      "to=functions.get_weather<|channel|>commentary json<|message|>"
                      "{\"location\": \"Tokyo\"}<|call|>"));
        check_messages(parser, {
                                   {.text = "... Let's use the tool.", .stop = tok::kEnd},
                                   {.recipient = "functions.get_weather",
                                    .channel = "commentary",
                                    .content_type = "json",
                                    .text = "{\"location\": \"Tokyo\"}",
                                    .stop = tok::kCall,
                                    .is_call = true},
                               });
    }
    SUBCASE("commentary preamble without <|message|>") {
        auto parser = parse(enc("<|channel|>commentary Hello<|end|>"));
        check_messages(parser, {{.channel = "commentary", .text = "Hello", .stop = tok::kEnd}});
    }
}

TEST_CASE("parser: invalid UTF-8 in content (harmony.md 4.7 item 5)") {
    auto start = enc("<|start|>assistant<|message|>");
    auto end = enc("<|end|>");
    SUBCASE("two incomplete sequences then text") {
        auto parser = parse(cat({start, {9552, 9552}, enc("worked"), end}), std::nullopt);
        check_messages(parser, {{.text = " " + kFffd + " " + kFffd + "worked", .stop = tok::kEnd}});
        CHECK(parser.errors().empty());
    }
    SUBCASE("an incomplete sequence cut short by the next token") {
        CHECK(parse(cat({start, {9552}, enc("XY"), end}), std::nullopt)
                  .messages()
                  .at(0)
                  .message.text_content() == " " + kFffd + "XY");
        CHECK(parse(cat({start, {9552}, enc(" interesting"), end}), std::nullopt)
                  .messages()
                  .at(0)
                  .message.text_content() == " " + kFffd + " interesting");
    }
    SUBCASE("a character split across two tokens is held back") {
        StreamParser parser(std::nullopt);
        for (Token t : start) parser.process(t);
        parser.process(31446);  // F0 9F 92
        CHECK(parser.last_content_delta() == std::nullopt);
        CHECK(parser.current_content().empty());
        parser.process(244);  // 96
        CHECK(parser.last_content_delta() == "\xF0\x9F\x92\x96");
        CHECK(parser.current_content() == "\xF0\x9F\x92\x96");
    }
    SUBCASE("end of stream flushes held-back bytes as U+FFFD") {
        StreamParser parser(std::nullopt);
        for (Token t : cat({start, {9552}, enc("Hi")})) parser.process(t);
        parser.process_eos();
        check_messages(parser, {{.text = " " + kFffd + "Hi", .stop = std::nullopt}});
        CHECK(parser.last_content_delta() == std::nullopt);
        CHECK(parser.current_content().empty());
    }
    SUBCASE("an id outside the vocabulary becomes U+FFFD") {
        auto prefix =
            enc("<|start|>assistant<|channel|>analysis<|message|>Practice invalid token "
                "handling.");
        auto parser = parse(cat({prefix, {0xFFFFFFFFu}}), std::nullopt);
        check_messages(parser, {{.channel = "analysis",
                                 .text = "Practice invalid token handling." + kFffd,
                                 .stop = std::nullopt}});
        REQUIRE(parser.errors().size() == 1);
        CHECK(parser.errors()[0].kind == ParseErrorKind::invalid_token);
        CHECK(join_ids(parser.errors()[0].tokens) == "4294967295");
        CHECK(parser.errors()[0].position == prefix.size());
    }
    SUBCASE("held-back bytes never leak into the next message") {
        auto parser = parse(cat({start, {9552, 9552}, end, start, enc("Hi"), end}), std::nullopt);
        check_messages(parser, {
                                   {.text = " " + kFffd + " " + kFffd, .stop = tok::kEnd},
                                   {.text = "Hi", .stop = tok::kEnd},
                               });
    }
    SUBCASE("deltas add up to the content, with no stop at the end") {
        StreamParser parser(std::nullopt);
        std::string joined;
        for (Token t : cat({start, {9552}, enc(" interesting"), enc(" story")})) {
            parser.process(t);
            if (parser.last_content_delta()) joined += *parser.last_content_delta();
        }
        CHECK(joined == " " + kFffd + " interesting story");
        CHECK(parser.current_content() == " " + kFffd + " interesting story");
        parser.process(enc("Y").at(0));
        CHECK(parser.last_content_delta() == "Y");
        CHECK(parser.current_content() == " " + kFffd + " interesting storyY");
    }
    SUBCASE("multi-byte text in many scripts streams intact") {
        const std::string text =
            "Hello M\xC3\xBCller, \xCE\x93\xCE\xB5\xCE\xB9\xCE\xAC \xCF\x83\xCE\xBF\xCF\x85, "
            "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, \xE3\x81\x93\xE3\x82\x93\xE3\x81"
            "\xAB\xE3\x81\xA1\xE3\x81\xAF, \xE4\xBD\xA0\xE5\xA5\xBD. na\xC3\xAFve vs. "
            "nai\xCC\x88ve. "
            "\xF0\x9F\x98\x8A\xF0\x9F\x91\x8B\xF0\x9F\x8F\xBE\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F"
            "\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7\xF0\x9F\x87\xBA\xF0\x9F\x87\xB8.";
        StreamParser parser(std::nullopt);
        std::string joined;
        for (Token t : cat({start, h::Tokenizer::o200k_harmony().encode_ordinary(text), end})) {
            parser.process(t);
            if (parser.last_content_delta()) joined += *parser.last_content_delta();
        }
        CHECK(joined == text);
        check_messages(parser, {{.text = text, .stop = tok::kEnd}});
    }
}

// ---- lenient recoveries ----

TEST_CASE("parser: recipient in the role part of the header") {
    const std::string rest = "<|channel|>commentary <|constrain|>json<|message|>{\"a\": 1}<|call|>";
    Want want{.recipient = "functions.get_weather",
              .channel = "commentary",
              .content_type = "<|constrain|>json",
              .text = "{\"a\": 1}",
              .stop = tok::kCall,
              .is_call = true};
    SUBCASE("right after the prompt's <|start|>assistant") {
        auto parser = parse(enc(" to=functions.get_weather" + rest));
        check_messages(parser, {want});
        CHECK(parser.errors().empty());
    }
    SUBCASE("in a later message") {
        auto parser =
            parse(enc("<|channel|>analysis<|message|>Call it.<|end|><|start|>assistant "
                      "to=functions.get_weather" +
                      rest));
        REQUIRE(parser.messages().size() == 2);
        CHECK(show(parser.messages()[1]) == show(want));
        CHECK(parser.errors().empty());
    }
}

TEST_CASE("parser: recipient after the channel") {
    auto parser =
        parse(enc("<|channel|>commentary to=functions.get_weather <|constrain|>json"
                  "<|message|>{\"a\": 1}<|call|>"));
    check_messages(parser, {{.recipient = "functions.get_weather",
                             .channel = "commentary",
                             .content_type = "<|constrain|>json",
                             .text = "{\"a\": 1}",
                             .stop = tok::kCall,
                             .is_call = true}});
    CHECK(parser.errors().empty());
}

TEST_CASE("parser: content type spellings are kept as written") {
    struct Case {
        const char* header;
        const char* recipient;
        const char* content_type;
    };
    const Case cases[] = {
        {"<|channel|>commentary to=functions.f json", "functions.f", "json"},
        {"<|channel|>analysis to=python code", "python", "code"},
        {"<|channel|>commentary to=functions.f<|constrain|>json", "functions.f",
         "<|constrain|>json"},
        {"<|channel|>commentary<|constrain|>json to=functions.f", "functions.f",
         "<|constrain|>json"},
        // Python docs' with_content_type("<|constrain|> json"): harmony makes "<|constrain|>"
        // the recipient here.
        {"<|channel|>commentary to=functions.f <|constrain|> json", "functions.f",
         "<|constrain|>json"},
        {"<|channel|>commentary functions.f json", "functions.f", "json"},
    };
    for (const auto& c : cases) {
        INFO(c.header);
        auto parser = parse(enc(std::string(c.header) + "<|message|>{}<|call|>"));
        REQUIRE(parser.messages().size() == 1);
        CHECK(parser.messages()[0].message.recipient == c.recipient);
        CHECK(parser.messages()[0].message.content_type == c.content_type);
        CHECK(parser.messages()[0].is_call);
        CHECK(parser.errors().empty());
    }
    SUBCASE("a lone json is a content type, not a recipient (harmony: recipient \"json\")") {
        auto parser = parse(enc("<|channel|>final json<|message|>{\"ok\": true}<|return|>"));
        check_messages(parser, {{.channel = "final",
                                 .content_type = "json",
                                 .text = "{\"ok\": true}",
                                 .stop = tok::kReturn}});
        CHECK(parser.errors().empty());
    }
}

TEST_CASE("parser: header words as plain text after a message (harmony#60)") {
    SUBCASE("assistant without <|start|>") {
        auto first = enc("<|channel|>analysis<|message|>Think.<|end|>");
        auto parser =
            parse(cat({first, enc("assistant<|channel|>final<|message|>Answer.<|return|>")}));
        check_messages(parser, {
                                   {.channel = "analysis", .text = "Think.", .stop = tok::kEnd},
                                   {.channel = "final", .text = "Answer.", .stop = tok::kReturn},
                               });
        REQUIRE(parser.errors().size() == 1);
        const auto& e = parser.errors()[0];
        CHECK(e.kind == ParseErrorKind::unexpected_token);
        CHECK(join_ids(e.tokens) == "173781");
        CHECK(e.position == first.size());
        CHECK(e.what.starts_with("Unexpected token 173781 while expecting start token 200006"));
    }
    SUBCASE("a channel name without <|start|> or <|channel|>") {
        auto first = enc("<|channel|>analysis<|message|>Need weather.<|end|>");
        auto parser = parse(cat({first, enc("commentary to=functions.get_weather<|constrain|>json"
                                            "<|message|>{\"city\": \"Paris\"}<|call|>")}));
        check_messages(parser,
                       {
                           {.channel = "analysis", .text = "Need weather.", .stop = tok::kEnd},
                           {.recipient = "functions.get_weather",
                            .channel = "commentary",
                            .content_type = "<|constrain|>json",
                            .text = "{\"city\": \"Paris\"}",
                            .stop = tok::kCall,
                            .is_call = true},
                       });
        REQUIRE(parser.errors().size() == 1);
        CHECK(parser.errors()[0].kind == ParseErrorKind::unexpected_token);
        CHECK(join_ids(parser.errors()[0].tokens) == "12606");  // "comment" of comment|ary
        CHECK(parser.errors()[0].position == first.size());
    }
    SUBCASE("plain text after a message becomes a message of its own") {
        auto parser = parse(enc("<|channel|>final<|message|>Hi.<|end|>Anything else?<|end|>"));
        check_messages(parser, {
                                   {.channel = "final", .text = "Hi.", .stop = tok::kEnd},
                                   {.text = "Anything else?", .stop = tok::kEnd},
                               });
        CHECK(kinds(parser) == "unexpected_token,missing_message");
    }
}

TEST_CASE("parser: missing <|message|> keeps the text byte for byte") {
    SUBCASE("newlines and runs of spaces survive (harmony re-joins words with one space)") {
        auto parser = parse(enc("<|channel|>final Hello,\n\n  world<|end|>"));
        check_messages(parser,
                       {{.channel = "final", .text = "Hello,\n\n  world", .stop = tok::kEnd}});
        CHECK(kinds(parser) == "missing_message");
    }
    SUBCASE("a tool call without <|message|> keeps its recipient") {
        auto parser = parse(
            enc("<|channel|>commentary to=functions.get_weather {\"city\": \"Paris\"}<|call|>"));
        check_messages(parser, {{.recipient = "functions.get_weather",
                                 .channel = "commentary",
                                 .text = "{\"city\": \"Paris\"}",
                                 .stop = tok::kCall,
                                 .is_call = true}});
        CHECK(kinds(parser) == "missing_message");
    }
    SUBCASE("a channel value that is prose goes back into the text") {
        auto parser = parse(enc("<|channel|>I must refuse<|end|>"));
        check_messages(parser,
                       {{.channel = "analysis", .text = "I must refuse", .stop = tok::kEnd}});
        CHECK(kinds(parser) == "bad_channel,missing_message");
    }
    SUBCASE("a header with nothing after it is not a message") {
        auto parser = parse(enc("<|channel|>final<|end|>"));
        CHECK(parser.messages().empty());
        REQUIRE(parser.errors().size() == 1);
        CHECK(parser.errors()[0].kind == ParseErrorKind::missing_message);
        CHECK(join_ids(parser.errors()[0].tokens) == "200005 17196 200007");
    }
}

TEST_CASE("parser: stray stop tokens between messages are skipped without errors") {
    SUBCASE("<|end|> then <|return|> (vLLM #50690)") {
        auto parser = parse(enc("<|channel|>final<|message|>Done.<|end|><|return|>"));
        check_messages(parser, {{.channel = "final", .text = "Done.", .stop = tok::kEnd}});
        CHECK(parser.errors().empty());
        CHECK(parser.state() == StreamParser::State::expect_start);
    }
    SUBCASE("repeated <|call|> and a trailing <|endoftext|>") {
        auto parser =
            parse(enc("<|channel|>commentary to=functions.f<|message|>{}<|call|><|call|>"
                      "<|call|><|endoftext|>"));
        check_messages(parser, {{.recipient = "functions.f",
                                 .channel = "commentary",
                                 .text = "{}",
                                 .stop = tok::kCall,
                                 .is_call = true}});
        CHECK(parser.errors().empty());
    }
    SUBCASE("<|endoftext|> ends a message like a stop") {
        auto parser = parse(enc("<|channel|>final<|message|>Bye<|endoftext|>"));
        check_messages(parser, {{.channel = "final", .text = "Bye", .stop = tok::kEndOfText}});
        CHECK(parser.errors().empty());
    }
}

TEST_CASE("parser: a functions recipient is a tool call on any channel, with any stop") {
    SUBCASE("analysis channel") {
        auto parser =
            parse(enc("<|channel|>analysis to=functions.lookup_weather <|constrain|>json"
                      "<|message|>{\"location\": \"Tokyo\"}<|call|>"));
        check_messages(parser, {{.recipient = "functions.lookup_weather",
                                 .channel = "analysis",
                                 .content_type = "<|constrain|>json",
                                 .text = "{\"location\": \"Tokyo\"}",
                                 .stop = tok::kCall,
                                 .is_call = true}});
        CHECK(parser.errors().empty());
    }
    SUBCASE("ended by <|end|> or <|return|> instead of <|call|>") {
        for (const char* stop : {"<|end|>", "<|return|>"}) {
            INFO(stop);
            auto parser =
                parse(enc(std::string("<|channel|>commentary to=functions.f<|message|>{}") + stop));
            REQUIRE(parser.messages().size() == 1);
            CHECK(parser.messages()[0].is_call);
            CHECK(parser.errors().empty());
        }
    }
    SUBCASE("a message to assistant is not a call") {
        auto parser = parse(enc("<|channel|>final to=assistant<|message|>Hi<|end|>"));
        REQUIRE(parser.messages().size() == 1);
        CHECK_FALSE(parser.messages()[0].is_call);
    }
}

TEST_CASE("parser: functions.browser.* and functions.python name the built-in tools") {
    SUBCASE("normalized by default, original kept") {
        auto parser =
            parse(enc("<|channel|>analysis to=functions.browser.search<|message|>"
                      "{\"query\": \"x\"}<|call|><|start|>assistant<|channel|>analysis "
                      "to=functions.python code<|message|>print(1)<|call|>"));
        check_messages(parser, {
                                   {.recipient = "browser.search",
                                    .channel = "analysis",
                                    .text = "{\"query\": \"x\"}",
                                    .stop = tok::kCall,
                                    .is_call = true,
                                    .original_recipient = "functions.browser.search"},
                                   {.recipient = "python",
                                    .channel = "analysis",
                                    .content_type = "code",
                                    .text = "print(1)",
                                    .stop = tok::kCall,
                                    .is_call = true,
                                    .original_recipient = "functions.python"},
                               });
        CHECK(parser.errors().empty());
    }
    SUBCASE("user functions are left alone") {
        auto parser = parse(enc("<|channel|>commentary to=functions.browse<|message|>{}<|call|>"));
        REQUIRE(parser.messages().size() == 1);
        CHECK(parser.messages()[0].message.recipient == "functions.browse");
        CHECK(parser.messages()[0].original_recipient == std::nullopt);
    }
    SUBCASE("off by option") {
        h::ParseOptions options;
        options.normalize_builtin_aliases = false;
        auto parser =
            parse(enc("<|channel|>analysis to=functions.browser.search<|message|>{}<|call|>"),
                  Role::assistant, options);
        REQUIRE(parser.messages().size() == 1);
        CHECK(parser.messages()[0].message.recipient == "functions.browser.search");
        CHECK(parser.messages()[0].original_recipient == std::nullopt);
    }
}

TEST_CASE("parser: unknown and garbled channels are recovered") {
    struct Case {
        const char* channel_text;
        const char* channel;
        const char* what_contains;
    };
    const Case cases[] = {
        {"commentary?", "commentary", "unknown channel 'commentary?'; read as 'commentary'"},
        {"\xE2\x80\x93\xE2\x80\x93"
         "commentary",
         "commentary", "read as 'commentary'"},
        {"??", "analysis", "unknown channel '\?\?'; read as 'analysis'"},  // \? : no trigraph
        {"thinking", "analysis", "unknown channel 'thinking'; read as 'analysis'"},
    };
    for (const auto& c : cases) {
        INFO(c.channel_text);
        auto parser =
            parse(enc(std::string("<|channel|>") + c.channel_text + "<|message|>Hi<|end|>"));
        check_messages(parser, {{.channel = c.channel, .text = "Hi", .stop = tok::kEnd}});
        REQUIRE(parser.errors().size() == 1);
        CHECK(parser.errors()[0].kind == ParseErrorKind::bad_channel);
        CHECK(parser.errors()[0].what.find(c.what_contains) != std::string::npos);
        CHECK(parser.errors()[0].tokens.at(0) == tok::kChannel);
        CHECK(parser.errors()[0].position == 0);
    }
    SUBCASE("garbage after a good channel is reported, not taken as a recipient") {
        auto parser = parse(enc("<|channel|>commentary 2?<|message|>Hi<|end|>"));
        check_messages(parser, {{.channel = "commentary", .text = "Hi", .stop = tok::kEnd}});
        REQUIRE(parser.errors().size() == 1);
        CHECK(parser.errors()[0].kind == ParseErrorKind::unexpected_header_text);
        CHECK(parser.errors()[0].what == "unexpected tokens remaining in message header: \"2?\"");
    }
    SUBCASE("prose after <|channel|> never becomes a tool call") {
        auto parser = parse(enc("<|channel|>I think we should search<|message|>ok<|end|>"));
        check_messages(parser, {{.channel = "analysis", .text = "ok", .stop = tok::kEnd}});
        CHECK(kinds(parser) == "bad_channel,unexpected_header_text");
    }
    SUBCASE("any channel is kept when valid_channels is empty") {
        h::ParseOptions options;
        options.valid_channels.clear();
        auto parser =
            parse(enc("<|channel|>thinking<|message|>Hi<|end|>"), Role::assistant, options);
        check_messages(parser, {{.channel = "thinking", .text = "Hi", .stop = tok::kEnd}});
        CHECK(parser.errors().empty());
    }
    SUBCASE("a channel word without <|channel|> after <|start|>assistant") {
        auto parser =
            parse(enc("<|channel|>analysis<|message|>a<|end|><|start|>assistant final"
                      "<|message|>b<|end|>"));
        REQUIRE(parser.messages().size() == 2);
        CHECK(parser.messages()[1].message.channel == "final");
        CHECK(parser.messages()[1].message.recipient == std::nullopt);
        CHECK(kinds(parser) == "bad_channel");
    }
}

TEST_CASE("parser: empty channel <|channel|><|message|>") {
    auto parser = parse(enc("<|channel|><|message|>Hi<|end|>"));
    check_messages(parser, {{.channel = "analysis", .text = "Hi", .stop = tok::kEnd}});
    REQUIRE(parser.errors().size() == 1);
    const auto& e = parser.errors()[0];
    CHECK(e.kind == ParseErrorKind::bad_channel);
    CHECK(e.what.starts_with("channel marker present but no channel value found in header"));
    CHECK(join_ids(e.tokens) == "200005");
}

TEST_CASE("parser: doubled <|channel|>") {
    SUBCASE("the last value wins") {
        auto parser =
            parse(enc("<|channel|>commentary to=assistant<|channel|>final<|message|>Hi<|end|>"));
        check_messages(
            parser,
            {{.recipient = "assistant", .channel = "final", .text = "Hi", .stop = tok::kEnd}});
        REQUIRE(parser.errors().size() == 1);
        CHECK(parser.errors()[0].kind == ParseErrorKind::doubled_channel);
        CHECK(parser.errors()[0].what.find("'final'") != std::string::npos);
    }
    SUBCASE("an empty marker before a good one") {
        auto parser = parse(enc("<|channel|><|channel|>analysis<|message|>Hmm<|end|>"));
        check_messages(parser, {{.channel = "analysis", .text = "Hmm", .stop = tok::kEnd}});
        CHECK(kinds(parser) == "doubled_channel");
    }
}

TEST_CASE("parser: doubled <|start|>") {
    SUBCASE("right after the prompt's <|start|>assistant") {
        auto parser = parse(enc("<|start|>assistant<|channel|>final<|message|>Hi<|end|>"));
        check_messages(parser, {{.channel = "final", .text = "Hi", .stop = tok::kEnd}});
        REQUIRE(parser.errors().size() == 1);
        CHECK(parser.errors()[0].kind == ParseErrorKind::doubled_start);
        CHECK(join_ids(parser.errors()[0].tokens) == "200006");
        CHECK(parser.errors()[0].position == 0);
    }
    SUBCASE("between messages, with and without a role word") {
        auto first = enc("<|channel|>final<|message|>A<|end|>");
        for (const char* doubled : {"<|start|><|start|>", "<|start|>assistant<|start|>"}) {
            INFO(doubled);
            auto parser = parse(cat({first, enc(std::string(doubled) +
                                                "assistant<|channel|>final<|message|>B<|end|>")}));
            check_messages(parser, {
                                       {.channel = "final", .text = "A", .stop = tok::kEnd},
                                       {.channel = "final", .text = "B", .stop = tok::kEnd},
                                   });
            REQUIRE(parser.errors().size() == 1);
            CHECK(parser.errors()[0].kind == ParseErrorKind::doubled_start);
            CHECK(parser.errors()[0].tokens == enc(doubled));
            CHECK(parser.errors()[0].position == first.size());
        }
    }
}

TEST_CASE("parser: end of stream inside a header") {
    SUBCASE("header only: an error with the header tokens, no message") {
        auto parser = parse(enc("<|channel|>final"));
        CHECK(parser.messages().empty());
        REQUIRE(parser.errors().size() == 1);
        CHECK(parser.errors()[0].kind == ParseErrorKind::eos_in_header);
        CHECK(join_ids(parser.errors()[0].tokens) == "200005 17196");
        CHECK(parser.errors()[0].position == 0);
    }
    SUBCASE("text in the header is salvaged") {
        auto parser = parse(enc("<|channel|>analysis Thinking about it"));
        check_messages(
            parser, {{.channel = "analysis", .text = "Thinking about it", .stop = std::nullopt}});
        CHECK(kinds(parser) == "eos_in_header");
    }
    SUBCASE("a later header, with its <|start|>") {
        auto first = enc("<|channel|>final<|message|>A<|end|>");
        auto parser = parse(cat({first, enc("<|start|>assistant<|channel|>")}));
        CHECK(parser.messages().size() == 1);
        REQUIRE(parser.errors().size() == 1);
        CHECK(join_ids(parser.errors()[0].tokens) == "200006 173781 200005");
        CHECK(parser.errors()[0].position == first.size());
    }
    SUBCASE("no output at all after <|start|>assistant") {
        auto parser = parse({});
        CHECK(parser.messages().empty());
        REQUIRE(parser.errors().size() == 1);
        CHECK(parser.errors()[0].kind == ParseErrorKind::eos_in_header);
        CHECK(parser.errors()[0].tokens.empty());
        CHECK(parser.errors()[0].position == 0);
        CHECK(parse({}, std::nullopt).errors().empty());  // nothing was open
    }
}

TEST_CASE("parser: ids outside the vocabulary") {
    SUBCASE("in content, after held-back bytes") {
        auto prefix = enc("<|channel|>final<|message|>ok");
        auto parser = parse(cat({prefix, {9552, h::kVocabSize}, enc("!<|end|>")}));
        check_messages(
            parser, {{.channel = "final", .text = "ok " + kFffd + kFffd + "!", .stop = tok::kEnd}});
        REQUIRE(parser.errors().size() == 1);
        CHECK(parser.errors()[0].kind == ParseErrorKind::invalid_token);
        CHECK(parser.errors()[0].tokens == std::vector<Token>{h::kVocabSize});
        CHECK(parser.errors()[0].position == prefix.size() + 1);
    }
    SUBCASE("in a header") {
        auto parser = parse(cat({enc("<|channel|>final"), {300000}, enc("<|message|>x<|end|>")}));
        check_messages(parser, {{.channel = "final", .text = "x", .stop = tok::kEnd}});
        CHECK(kinds(parser) == "invalid_token,bad_channel");  // "final\uFFFD"
    }
}

TEST_CASE("parser: <|start|> inside content closes the message") {
    auto first = enc("<|channel|>analysis<|message|>thinking");
    auto parser =
        parse(cat({first, enc("<|start|>assistant<|channel|>final<|message|>Answer<|return|>")}));
    check_messages(parser, {
                               {.channel = "analysis", .text = "thinking", .stop = tok::kStart},
                               {.channel = "final", .text = "Answer", .stop = tok::kReturn},
                           });
    REQUIRE(parser.errors().size() == 1);
    CHECK(parser.errors()[0].kind == ParseErrorKind::start_in_content);
    CHECK(parser.errors()[0].position == first.size());
}

TEST_CASE("parser: other special tokens in content are kept as text") {
    auto parser = parse(enc("<|channel|>final<|message|>a<|channel|>b<|reserved_200013|>c<|end|>"));
    check_messages(
        parser,
        {{.channel = "final", .text = "a<|channel|>b<|reserved_200013|>c", .stop = tok::kEnd}});
    CHECK(kinds(parser) == "special_in_content,special_in_content");
    CHECK(join_ids(parser.errors()[1].tokens) == "200013");
}

TEST_CASE("parser: <|call|> without a recipient") {
    auto parser = parse(enc("<|channel|>commentary<|message|>{}<|call|>"));
    check_messages(parser, {{.channel = "commentary", .text = "{}", .stop = tok::kCall}});
    REQUIRE(parser.errors().size() == 1);
    CHECK(parser.errors()[0].kind == ParseErrorKind::call_without_recipient);
    CHECK(join_ids(parser.errors()[0].tokens) == "200012");
}

TEST_CASE("parser: a header after <|start|> without a role word") {
    SUBCASE("channel only") {
        auto parser = parse(enc("<|start|><|channel|>final<|message|>x<|end|>"), std::nullopt);
        check_messages(parser, {{.channel = "final", .text = "x", .stop = tok::kEnd}});
        CHECK(kinds(parser) == "missing_role");
    }
    SUBCASE("to= first: a recipient, not a tool named \"to=functions.f\" as in harmony") {
        auto parser = parse(
            enc("<|start|>to=functions.f<|channel|>commentary<|message|>{}<|call|>"), std::nullopt);
        check_messages(parser, {{.recipient = "functions.f",
                                 .channel = "commentary",
                                 .text = "{}",
                                 .stop = tok::kCall,
                                 .is_call = true}});
        CHECK(kinds(parser) == "missing_role");
    }
}

TEST_CASE("parser: provisional header while the header is open") {
    StreamParser parser(Role::assistant);
    for (Token t : enc("<|channel|>commentary to=functions.get_weather <|constrain|>json"))
        parser.process(t);
    CHECK(parser.state() == StreamParser::State::header);
    CHECK(parser.current_recipient() == std::nullopt);
    auto header = parser.provisional_header();
    REQUIRE(header);
    CHECK(header->role == Role::assistant);
    CHECK(header->channel == "commentary");
    CHECK(header->recipient == "functions.get_weather");
    CHECK(header->content_type == "<|constrain|>json");
    parser.process(tok::kMessage);
    CHECK(parser.current_recipient() == "functions.get_weather");
    CHECK(parser.current_content_type() == "<|constrain|>json");
}

TEST_CASE("parser: arbitrary token soup never crashes nor loses a word") {
    // Header words, specials, split and invalid UTF-8, ids outside the vocabulary; the marker
    // word "Hello" must survive every sequence somewhere: in a message (text or header field)
    // or in an error's tokens.
    const auto& tokenizer = h::Tokenizer::o200k_harmony();
    const Token hello = enc("Hello").at(0);
    REQUIRE(enc("Hello").size() == 1);
    std::vector<Token> pool = {tok::kStart,   tok::kEnd,    tok::kMessage,   tok::kChannel,
                               tok::kCall,    tok::kReturn, tok::kConstrain, tok::kEndOfText,
                               200013,        9552,         31446,           244,
                               h::kVocabSize, 0xFFFFFFFFu,  hello,           hello};
    for (const char* word : {"assistant", "analysis", "final", " to", "=", "functions", ".x",
                             " json", " ", "\n", "?", "user", "commentary"})
        for (Token t : enc(word)) pool.push_back(t);

    std::uint64_t state = 0x9E3779B97F4A7C15ull;
    auto next = [&state] {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<std::uint32_t>(state >> 33);
    };
    auto count = [](std::string_view text, std::string_view word) {
        std::size_t n = 0;
        for (std::size_t at = text.find(word); at != std::string_view::npos;
             at = text.find(word, at + word.size()))
            ++n;
        return n;
    };
    for (int round = 0; round < 3000; ++round) {
        std::vector<Token> tokens(next() % 40);
        for (auto& t : tokens) t = pool[next() % pool.size()];
        std::optional<Role> role;
        if (round % 2 == 0) role = Role::assistant;
        auto parser = parse(tokens, role);

        std::size_t fed = 0;
        for (Token t : tokens) fed += t == hello;
        std::size_t kept = 0;
        for (const auto& m : parser.messages()) {
            const auto& msg = m.message;
            CHECK(h::utf8::is_valid(msg.text_content()));
            kept += count(msg.text_content(), "Hello");
            for (const auto* field : {&msg.name, &msg.recipient, &msg.channel, &msg.content_type,
                                      &m.original_recipient})
                if (*field) {
                    CHECK(h::utf8::is_valid(**field));
                    kept += count(**field, "Hello");
                }
        }
        for (const auto& e : parser.errors()) {
            CHECK(h::utf8::is_valid(e.what));
            for (Token t : e.tokens) kept += t == hello;
            if (e.tokens.empty()) {
                CHECK(e.position <= tokens.size());
            } else {
                REQUIRE(e.position < tokens.size());
                CHECK(tokens[e.position] == e.tokens[0]);
            }
        }
        if (kept < fed) {
            std::string text;
            for (Token t : tokens)
                text += tokenizer.valid(t) ? tokenizer.token_bytes(t) : "<invalid>";
            INFO("tokens: " << join_ids(tokens) << " = " << h::utf8::to_valid_lossy(text));
            CHECK(kept >= fed);
        }
    }
}
