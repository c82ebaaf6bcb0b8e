// libFuzzer target for harmony::StreamParser: bytes -> token ids -> process() one at a time ->
// process_eos(). It must never crash, and no content byte may get lost. The first input byte
// picks how the rest becomes tokens:
//   0  text, tokenized with every special token allowed (conversations, stray specials)
//   1  a "token program": each byte picks a header word, special token, stop, invalid id or
//      ordinary token, so the state machine sees every kind of token in every state
//   2  well-formed messages built from the bytes (role, channel, recipient before or after
//      the channel, content type, arbitrary content bytes, stop): they must parse with no
//      error into exactly those messages, content byte for byte (invalid UTF-8 as U+FFFD)
// In modes 0 and 1 every token fed while the parser reads content must reappear in the
// message it ends up in: its bytes (a special token's text, U+FFFD for an unknown id).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harmony/stream_parser.h"
#include "harmony/tokenizer.h"
#include "harmony/utf8.h"

namespace {

namespace h = gossamer::harmony;
using h::Token;

std::string_view g_input;

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "fuzz_parser: %s (input %zu bytes:", what.c_str(), g_input.size());
    for (std::size_t i = 0; i < g_input.size() && i < 256; ++i)
        std::fprintf(stderr, " %02x", static_cast<unsigned char>(g_input[i]));
    std::fprintf(stderr, ")\n");
    std::abort();
}

void check(bool ok, const std::string& what) {
    if (!ok) fail(what);
}

const h::Tokenizer& tok() {
    return h::Tokenizer::o200k_harmony();
}

std::vector<Token> ordinary(std::string_view text) {
    return tok().encode_ordinary(text);
}

void append(std::vector<Token>& out, const std::vector<Token>& more) {
    out.insert(out.end(), more.begin(), more.end());
}

bool is_stop(Token t) {
    return t == h::tok::kEnd || t == h::tok::kCall || t == h::tok::kReturn ||
           t == h::tok::kEndOfText;
}

// Mode 1: each byte is one op.
std::vector<Token> token_program(std::string_view bytes) {
    static const char* const words[] = {"assistant",
                                        "user",
                                        "system",
                                        "developer",
                                        "tool",
                                        "analysis",
                                        "commentary",
                                        "final",
                                        " to=",
                                        "functions",
                                        ".",
                                        "get_weather",
                                        " json",
                                        "json",
                                        "browser",
                                        ".search",
                                        "python",
                                        " ",
                                        "comment",
                                        "ary",
                                        "Hello",
                                        " world",
                                        "\n",
                                        ":",
                                        "functions.get_weather",
                                        " to=functions.lookup",
                                        "=",
                                        "\xE6\x97",
                                        "\xA5",
                                        "{\"a\":1}",
                                        "<|start|>",
                                        "assistant to=python"};
    static const Token specials[] = {
        h::tok::kStart,       h::tok::kEnd,  h::tok::kMessage, h::tok::kChannel,
        h::tok::kConstrain,   h::tok::kCall, h::tok::kReturn,  h::tok::kEndOfText,
        h::tok::kStartOfText, 200000,        200018,           201088};
    std::vector<Token> out;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto b = static_cast<unsigned char>(bytes[i]);
        switch (b % 4) {
            case 0:
                append(out, ordinary(words[(b >> 2) % std::size(words)]));
                break;
            case 1:
                out.push_back(specials[(b >> 2) % std::size(specials)]);
                break;
            case 2:  // an arbitrary ordinary id from the next two bytes
                if (i + 2 < bytes.size()) {
                    out.push_back(
                        static_cast<Token>(((static_cast<unsigned char>(bytes[i + 1]) << 8 |
                                             static_cast<unsigned char>(bytes[i + 2])) *
                                            3u) %
                                           h::kNumMergeableRanks));
                    i += 2;
                }
                break;
            default:  // rarely an id outside the vocabulary
                out.push_back(b >= 0xF0 ? h::kVocabSize + b : static_cast<Token>(b));
                break;
        }
    }
    return out;
}

// Modes 0 and 1: feed the tokens; check the parser's invariants and that content survives.
void run_wild(const std::vector<Token>& tokens, std::optional<h::Role> role) {
    h::StreamParser parser(role);
    std::string expected;  // bytes of the tokens fed while reading the open message's content
    std::string deltas;    // the deltas streamed for it
    auto check_completed = [&](const h::ParsedMessage& m) {
        const std::string text = m.message.text_content();
        check(h::utf8::is_valid(text), "message content is not valid UTF-8");
        check(text == h::utf8::to_valid_lossy(expected),
              "message content differs from the bytes of its content tokens");
        // What was streamed is a prefix; the rest can only be held-back bytes become U+FFFD.
        check(text.compare(0, deltas.size(), deltas) == 0, "deltas are not a prefix of content");
        for (std::size_t i = deltas.size(); i < text.size(); i += h::utf8::kReplacement.size())
            check(std::string_view(text).substr(i, 3) == h::utf8::kReplacement,
                  "content after the last delta is not U+FFFD");
    };
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const Token t = tokens[i];
        const bool in_content = parser.state() == h::StreamParser::State::content;
        const std::size_t before = parser.messages().size();
        parser.process(t);
        check(parser.tokens().size() == i + 1 && parser.tokens().back() == t,
              "tokens() does not record the stream");
        const std::size_t after = parser.messages().size();
        check(after == before || after == before + 1, "more than one message from one token");
        if (in_content) {
            if (after == before + 1) {
                check(is_stop(t) || t == h::tok::kStart, "content ended by a non-stop token");
                check_completed(parser.messages().back());
                expected.clear();
                deltas.clear();
            } else {
                check(!is_stop(t), "a stop token did not end the message");
                expected += tok().valid(t) ? std::string(tok().token_bytes(t))
                                           : std::string(h::utf8::kReplacement);
            }
        }
        if (const auto& d = parser.last_content_delta()) {
            check(h::utf8::is_valid(*d), "delta is not valid UTF-8");
            check(parser.state() == h::StreamParser::State::content, "delta outside of content");
            deltas += *d;
        }
        // The O(length) checks and provisional_header() (which re-reads the open header) on
        // every 8th token and the last one: per token they make long inputs quadratic.
        const bool deep = i % 8 == 0 || i + 1 == tokens.size();
        if (parser.state() == h::StreamParser::State::content) {
            if (deep) {
                check(h::utf8::is_valid(parser.current_content()), "current content not UTF-8");
                check(parser.current_content() == deltas, "current content != streamed deltas");
            }
        } else {
            expected.clear();
            deltas.clear();
        }
        if (deep) (void)parser.provisional_header();
        (void)parser.current_role();
    }
    const bool in_content = parser.state() == h::StreamParser::State::content;
    const std::size_t before = parser.messages().size();
    parser.process_eos();
    if (in_content) {
        check(parser.messages().size() == before + 1, "EOS did not close the open message");
        check(!parser.messages().back().stop.has_value(), "EOS message has a stop token");
        check_completed(parser.messages().back());
    }
    check(parser.state() == h::StreamParser::State::expect_start, "EOS left a message open");
    for (const auto& m : parser.messages())
        check(h::utf8::is_valid(m.message.text_content()), "message not valid UTF-8");
    for (const auto& e : parser.errors()) {
        check(e.position <= parser.tokens().size(), "error position past the stream");
        check(!h::to_string(e.kind).empty(), "error kind without a name");
    }
    // The parser stays usable after EOS.
    parser.process(h::tok::kStart);
    parser.process_eos();
}

// Mode 2: well-formed messages.
struct Expected {
    h::Role role;
    std::optional<std::string> channel, recipient, content_type;
    std::string content;
};

void run_well_formed(std::string_view bytes) {
    static const h::Role roles[] = {h::Role::assistant, h::Role::assistant, h::Role::user,
                                    h::Role::system, h::Role::developer};
    static const char* const role_words[] = {"assistant", "assistant", "user", "system",
                                             "developer"};
    static const char* const channels[] = {"analysis", "commentary", "final"};
    static const char* const recipients[] = {"functions.get_weather", "browser.search", "python",
                                             "functions.lookup_v2"};
    std::vector<Token> tokens;
    std::vector<Expected> want;
    std::size_t i = 0;
    while (i + 3 <= bytes.size() && want.size() < 16) {
        auto b0 = static_cast<unsigned char>(bytes[i]),
             b1 = static_cast<unsigned char>(bytes[i + 1]);
        std::size_t len = static_cast<unsigned char>(bytes[i + 2]) % 64;
        i += 3;
        std::string_view content = bytes.substr(i, std::min(len, bytes.size() - i));
        i += content.size();
        Expected e;
        const std::size_t r = b0 % std::size(roles);
        e.role = roles[r];
        const bool assistant = e.role == h::Role::assistant;
        if (assistant) e.channel = channels[(b0 >> 3) % 3];
        if (assistant && (b1 & 1)) e.recipient = recipients[(b1 >> 1) % std::size(recipients)];
        const int ctype = assistant ? (b1 >> 3) % 3 : 0;  // none, <|constrain|>json, json
        if (ctype == 1) e.content_type = "<|constrain|>json";
        if (ctype == 2) e.content_type = "json";
        e.content = h::utf8::to_valid_lossy(content);
        const bool recipient_first = (b1 >> 5) & 1;  // the renderer's order, else the model's

        tokens.push_back(h::tok::kStart);
        append(tokens, ordinary(role_words[r]));
        if (e.recipient && recipient_first) append(tokens, ordinary(" to=" + *e.recipient));
        if (e.channel) {
            tokens.push_back(h::tok::kChannel);
            append(tokens, ordinary(*e.channel));
        }
        if (e.recipient && !recipient_first) append(tokens, ordinary(" to=" + *e.recipient));
        if (ctype == 1) {
            append(tokens, ordinary(" "));
            tokens.push_back(h::tok::kConstrain);
            append(tokens, ordinary("json"));
        } else if (ctype == 2) {
            append(tokens, ordinary(" json"));
        }
        tokens.push_back(h::tok::kMessage);
        append(tokens, ordinary(content));
        tokens.push_back(e.recipient
                             ? h::tok::kCall
                             : ((b1 >> 6) == 3 && assistant ? h::tok::kReturn : h::tok::kEnd));
        want.push_back(std::move(e));
    }
    h::StreamParser parser(std::nullopt);
    for (Token t : tokens) parser.process(t);
    parser.process_eos();
    if (!parser.errors().empty())
        fail("well-formed stream gave error " + std::string(h::to_string(parser.errors()[0].kind)) +
             ": " + parser.errors()[0].what);
    const auto& got = parser.messages();
    check(got.size() == want.size(), "well-formed stream: wrong number of messages");
    for (std::size_t k = 0; k < want.size(); ++k) {
        const h::Message& m = got[k].message;
        const std::string where = "message " + std::to_string(k) + ": ";
        check(m.role == want[k].role, where + "role differs");
        check(m.channel == want[k].channel, where + "channel differs");
        check(m.recipient == want[k].recipient,
              where + "recipient differs: " + m.recipient.value_or("(none)"));
        check(m.content_type == want[k].content_type,
              where + "content type differs: " + m.content_type.value_or("(none)"));
        check(m.text_content() == want[k].content, where + "content differs");
        check(got[k].stop.has_value(), where + "no stop token");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    g_input = std::string_view(reinterpret_cast<const char*>(data), size);
    const std::string_view rest = g_input.substr(1);
    const std::optional<h::Role> role =
        (data[0] & 0x80) ? std::nullopt : std::optional<h::Role>(h::Role::assistant);
    switch (data[0] % 3) {
        case 0:
            run_wild(tok().encode(rest, h::AllowedSpecial::all_tokens()), role);
            break;
        case 1:
            run_wild(token_program(rest), role);
            break;
        default:
            run_well_formed(rest);
            break;
    }
    return 0;
}
