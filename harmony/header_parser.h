// Reads one harmony message header (the tokens between <|start|> and <|message|>) into role,
// tool name, channel, recipient and content type, leniently: the recipient before or after
// <|channel|>, <|constrain|> glued or spaced, a channel written as a plain word, garbled
// channel values, `functions.`-prefixed built-in tools. It also salvages the text of a header
// that never reached <|message|> as message content, byte for byte.
// Pure: no state between calls, no I/O, never throws on model output (problems become
// ParseError entries). The streaming state machine that calls it is stream_parser.h.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harmony/message.h"
#include "harmony/special_tokens.h"

namespace gossamer::harmony {

class Tokenizer;

// What went wrong in model output, and what the parser did about it. Every kind is recovered
// from: the parse goes on and no text is lost; callers that want harmony's strict behaviour
// treat any error as a failure.
enum class ParseErrorKind {
    // A token other than <|start|> after a message ended, e.g. "assistant" or "comment" as plain
    // text (harmony: "Unexpected token 12606 while expecting start token 200006"). It was read
    // as the first token of a header, as if <|start|> had come first.
    unexpected_token,
    // A header ended by <|end|>, <|call|>, <|return|>, <|endoftext|> or <|start|> before any
    // <|message|>: its text after the header words became the content of a message (none when
    // there was no such text).
    missing_message,
    // The stream ended inside a header (harmony: "Unexpected EOS while waiting for message header
    // to complete"). Its text after the header words became the content of a message.
    eos_in_header,
    // <|start|> while a header with no text in it was open: the open header was dropped.
    doubled_start,
    // <|start|> inside content: the message was closed there (its stop is <|start|>).
    start_in_content,
    // A special token other than the stops and <|start|> inside content: kept as its text.
    special_in_content,
    // An id that is not in the vocabulary: decoded as U+FFFD.
    invalid_token,
    // An empty, unknown or garbled channel ("commentary?", "??", <|channel|><|message|>), or a
    // channel written without <|channel|>: read as the channel named in `what`.
    bad_channel,
    // More than one <|channel|> in one header: the last non-empty value was used.
    doubled_channel,
    // A header after <|start|> without a role word (harmony: "message header did not contain a
    // role"): the default role was used.
    missing_role,
    // Header words that are none of role, channel, recipient and content type (harmony:
    // "unexpected tokens remaining in message header"): left out of the message.
    unexpected_header_text,
    // <|call|> ended a message that names no recipient, so there is nothing to call.
    call_without_recipient,
};
// "unexpected_token", "missing_message", ...: the enum value's name.
std::string_view to_string(ParseErrorKind kind);

struct ParseError {
    ParseErrorKind kind = ParseErrorKind::unexpected_token;
    std::string what;           // one line quoting the values involved
    std::vector<Token> tokens;  // the offending ids, in stream order
    std::size_t position = 0;   // stream index of tokens[0]; the token count when tokens is empty
    bool operator==(const ParseError&) const = default;
};

struct Header {
    Role role = Role::assistant;
    std::optional<std::string> name;                // role tool only: who speaks ("browser.search")
    std::optional<std::string> recipient;           // after alias normalization ("python")
    std::optional<std::string> original_recipient;  // as written, when normalization changed it
    std::optional<std::string> channel;
    std::optional<std::string> content_type;  // "<|constrain|>json", "json", "code", as written
    bool operator==(const Header&) const = default;
};

struct ParseOptions {
    // Channels a header may name. Anything else is read as the valid channel it contains
    // ("commentary?" -> "commentary") or as fallback_channel, with a bad_channel error.
    // Empty: every non-empty channel value is kept as written.
    std::vector<std::string> valid_channels{"analysis", "commentary", "final"};
    // For empty or unrecognisable channel values: analysis is never shown to the user.
    std::string fallback_channel = "analysis";
    // "functions.browser.search" -> "browser.search", "functions.python" -> "python": the model
    // sometimes puts built-in tools under functions (gpt-oss PR #199). The written name is kept
    // in original_recipient.
    bool normalize_builtin_aliases = true;
};

// How the header ended: with <|message|> (the normal case), or without it (a stop token,
// <|start|> or end of stream), in which case its trailing text is salvaged as content.
enum class HeaderEnd { message, salvage };

struct HeaderContext {
    // The role when it is known without reading the header: the parser's starting role (the
    // prompt ended with <|start|>assistant). A leading word equal to it is skipped.
    std::optional<Role> role;
    // False when the header began without <|start|> (an unexpected_token recovery): then an
    // unknown first word is text, never a tool name.
    bool explicit_start = true;
    // Role for headers that name none.
    Role default_role = Role::assistant;
    // Stream index of the header's first token, for error positions.
    std::size_t position = 0;
};

struct HeaderResult {
    Header header;
    // HeaderEnd::salvage only: the text after the header words, exactly as written (invalid
    // UTF-8 as U+FFFD); nullopt when there is none.
    std::optional<std::string> content;
    // True when the header holds anything but whitespace.
    bool has_words = false;
    std::vector<ParseError> errors;
};

HeaderResult parse_header(std::span<const Token> tokens, const HeaderContext& context,
                          HeaderEnd end, const ParseOptions& options, const Tokenizer& tokenizer);

}  // namespace gossamer::harmony
