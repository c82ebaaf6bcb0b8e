// The streaming parser for harmony model output: fed one sampled token at a time, it tracks
// the message being written (header, then content with per-token text deltas) and collects
// completed messages with the token that ended each. Lenient where gpt-oss is sloppy (missing
// <|start|> or <|message|>, recipient on either side of the channel, garbled channels, stray
// stop tokens, invalid UTF-8): it recovers, records a ParseError and never drops text.
// Well-formed output parses exactly as openai/harmony's StreamableParser does.
// Pure and single-threaded: one parser per generation, no I/O; the header grammar itself is
// header_parser.h.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "harmony/header_parser.h"
#include "harmony/message.h"
#include "harmony/special_tokens.h"
#include "harmony/utf8.h"

namespace gossamer::harmony {

class Tokenizer;

struct ParsedMessage {
    Message message;  // one text part
    // The token that ended it: <|end|>, <|call|>, <|return|>, <|endoftext|>, or <|start|> when
    // a new message began without a stop (a start_in_content or missing_message error says so).
    // nullopt: the stream ended (process_eos).
    std::optional<Token> stop;
    // An assistant message with a recipient other than "assistant"/"all": run the tool. Decided
    // by the recipient on any channel, not by the stop token (the model sometimes ends a call
    // with <|end|> or <|return|>, or calls functions from the analysis channel).
    bool is_call = false;
    // The recipient as written when alias normalization changed it ("functions.python").
    std::optional<std::string> original_recipient;
};

class StreamParser {
  public:
    // harmony's StreamState: expecting <|start|>, reading a header, reading content.
    enum class State { expect_start, header, content };

    // role: the role the prompt opened (`...<|start|>assistant`), so the first tokens are header
    // tokens; nullopt to parse whole messages from <|start|> on (e.g. a rendered conversation).
    explicit StreamParser(std::optional<Role> role = Role::assistant, ParseOptions options = {});
    StreamParser(std::optional<Role> role, ParseOptions options, const Tokenizer& tokenizer);

    // One token; any id is accepted (ids outside the vocabulary read as U+FFFD).
    void process(Token token);
    // End of the stream: closes an open message (stop nullopt) or salvages an open header.
    // The parser stays usable; later tokens start from State::expect_start.
    void process_eos();

    State state() const { return state_; }
    // The role of the message being read: its header's in State::content, else the known
    // starting role while the first header is open, else nullopt.
    std::optional<Role> current_role() const;
    // Known once the header is complete (State::content), as in harmony; nullopt otherwise.
    std::optional<std::string> current_channel() const;
    std::optional<std::string> current_recipient() const;
    std::optional<std::string> current_content_type() const;
    // The open header read as if <|message|> came now (State::header), or the header of the
    // message being read (State::content): for routing before the header is complete. Errors
    // are not reported here.
    std::optional<Header> provisional_header() const;
    // Content decoded so far (State::content; empty otherwise). Bytes of a character split
    // across tokens are held back until complete.
    const std::string& current_content() const { return content_; }
    // Text that became complete with the last process() call; nullopt when none did (a held-
    // back partial character, a header token, a stop). Text salvaged from a header without
    // <|message|> is not streamed: it appears only in messages().
    const std::optional<std::string>& last_content_delta() const { return delta_; }

    const std::vector<ParsedMessage>& messages() const { return messages_; }
    const std::vector<ParseError>& errors() const { return errors_; }
    // Every token fed, in order (error positions index into it).
    const std::vector<Token>& tokens() const { return tokens_; }

  private:
    void on_expect_start(Token token);
    void on_header(Token token);
    void on_content(Token token);

    void begin_header(bool explicit_start, std::optional<std::size_t> start_position);
    void complete_header();
    void salvage_header(std::optional<Token> ended_by);
    void append_content(std::string_view bytes);
    void complete_content(std::optional<Token> stop);
    void push_message(const Header& header, std::string text, std::optional<Token> stop);
    void add_error(ParseErrorKind kind, std::string what, std::vector<Token> tokens,
                   std::size_t position);
    HeaderContext header_context() const;

    const Tokenizer* tokenizer_;
    ParseOptions options_;
    Role default_role_;  // for headers that name none: the starting role, else assistant
    std::vector<Token> tokens_;
    std::vector<ParsedMessage> messages_;
    std::vector<ParseError> errors_;

    State state_ = State::expect_start;
    // State::header
    std::optional<Role> next_role_;  // the starting role, for the first header only
    std::vector<Token> header_tokens_;
    std::size_t header_position_ = 0;                   // stream index of header_tokens_[0]
    std::optional<std::size_t> header_start_position_;  // index of its <|start|>, if in the stream
    bool header_explicit_ = true;                       // false: began without <|start|>
    // State::content
    Header header_;
    utf8::StreamDecoder decoder_;
    std::string content_;
    std::optional<std::string> delta_;
};

}  // namespace gossamer::harmony
