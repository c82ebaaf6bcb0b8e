// The stream parser's state machine: one handler per state, each a switch on the token kind.
//
//   expect_start --<|start|>--> header --<|message|>--> content --stop--> expect_start
//
// and the recoveries, each leaving a ParseError:
//   expect_start --other token--> header (implicit start; the token is the header's first)
//   header --stop, <|start|>, eos--> expect_start (salvage: header text after the header
//                                                  words becomes a message)
//   content --<|start|>--> header (the message is closed first)
// Stop tokens between messages are skipped without an error.
#include "harmony/stream_parser.h"

#include <utility>

#include "harmony/tokenizer.h"

namespace gossamer::harmony {
namespace {

// What ends a message in content, and is skipped between messages. <|endoftext|> is in
// gpt-oss's generation_config eos set, so an engine may hand it on.
bool ends_message(Token t) {
    return is_message_stop(t) || t == tok::kEndOfText;
}

std::string token_label(Token t) {
    return special_token_name(t).value_or("token " + std::to_string(t));
}

// Tokens as text for error messages: ids outside the vocabulary as U+FFFD.
std::string text_of(std::span<const Token> tokens, const Tokenizer& tokenizer) {
    std::string bytes;
    for (Token t : tokens)
        bytes += tokenizer.valid(t) ? tokenizer.token_bytes(t) : utf8::kReplacement;
    return utf8::to_valid_lossy(bytes);
}

}  // namespace

StreamParser::StreamParser(std::optional<Role> role, ParseOptions options)
    : StreamParser(role, std::move(options), Tokenizer::o200k_harmony()) {}

StreamParser::StreamParser(std::optional<Role> role, ParseOptions options,
                           const Tokenizer& tokenizer)
    : tokenizer_(&tokenizer),
      options_(std::move(options)),
      default_role_(role.value_or(Role::assistant)) {
    // The prompt ended with <|start|>ROLE: generation starts inside that header.
    if (role) {
        state_ = State::header;
        next_role_ = role;
    }
}

void StreamParser::process(Token token) {
    std::size_t position = tokens_.size();
    tokens_.push_back(token);
    delta_.reset();
    if (!tokenizer_->valid(token))
        add_error(ParseErrorKind::invalid_token,
                  "token id " + std::to_string(token) + " is not in the vocabulary; read as U+FFFD",
                  {token}, position);
    switch (state_) {
        case State::expect_start:
            on_expect_start(token);
            break;
        case State::header:
            on_header(token);
            break;
        case State::content:
            on_content(token);
            break;
    }
}

void StreamParser::process_eos() {
    delta_.reset();
    switch (state_) {
        case State::expect_start:
            break;  // the last message had its stop: a normal end
        case State::header:
            salvage_header(std::nullopt);
            break;
        case State::content:
            complete_content(std::nullopt);
            break;
    }
}

void StreamParser::on_expect_start(Token token) {
    std::size_t position = tokens_.size() - 1;
    if (token == tok::kStart) return begin_header(true, position);
    // "<|end|><|return|>": a stop after a stop ends nothing (vLLM #50690); not an error.
    if (ends_message(token)) return;
    // harmony#60: "assistant", "comment"+"ary", <|channel|>... written where <|start|> belongs.
    // Read on as a header that began here, so no word of it is lost.
    add_error(ParseErrorKind::unexpected_token,
              "Unexpected token " + std::to_string(token) +
                  " while expecting start token 200006; read as the start of a header",
              {token}, position);
    begin_header(false, std::nullopt);
    on_header(token);
}

void StreamParser::on_header(Token token) {
    if (token == tok::kMessage) return complete_header();
    if (ends_message(token)) return salvage_header(token);
    if (token == tok::kStart) {
        salvage_header(token);
        return begin_header(true, tokens_.size() - 1);
    }
    // Everything else, <|channel|> and <|constrain|> included, is header_parser's to read.
    header_tokens_.push_back(token);
}

void StreamParser::on_content(Token token) {
    std::size_t position = tokens_.size() - 1;
    if (ends_message(token)) return complete_content(token);
    if (token == tok::kStart) {
        // The model began a new message without ending this one. harmony would keep
        // "<|start|>assistant<|channel|>..." as text; the special id is never text the model
        // meant to write, so close the message here.
        add_error(ParseErrorKind::start_in_content,
                  "<|start|> before the message ended; the message was closed there", {token},
                  position);
        complete_content(token);
        return begin_header(true, position);
    }
    if (!tokenizer_->valid(token)) {
        // Held-back bytes can never complete now: they become U+FFFD first, as harmony does
        // at the end of the message.
        std::string text = decoder_.flush() + std::string(utf8::kReplacement);
        content_ += text;
        delta_ = std::move(text);
        return;
    }
    if (is_special(token))
        add_error(ParseErrorKind::special_in_content,
                  "special token " + token_label(token) + " inside content; kept as its text",
                  {token}, position);
    append_content(tokenizer_->token_bytes(token));
}

void StreamParser::begin_header(bool explicit_start, std::optional<std::size_t> start_position) {
    state_ = State::header;
    header_tokens_.clear();
    header_explicit_ = explicit_start;
    header_start_position_ = start_position;
    // After an implicit start the current token is the header's first.
    header_position_ = start_position ? *start_position + 1 : tokens_.size() - 1;
}

HeaderContext StreamParser::header_context() const {
    return HeaderContext{next_role_, header_explicit_, default_role_, header_position_};
}

void StreamParser::complete_header() {
    HeaderResult result =
        parse_header(header_tokens_, header_context(), HeaderEnd::message, options_, *tokenizer_);
    for (auto& e : result.errors) errors_.push_back(std::move(e));
    header_ = std::move(result.header);
    next_role_.reset();
    header_tokens_.clear();
    content_.clear();
    decoder_ = {};
    state_ = State::content;
}

// A header that ended without <|message|> (ended_by: a stop, <|start|>, or nullopt at end of
// stream). Its text after the header words becomes a message; the error names what happened.
void StreamParser::salvage_header(std::optional<Token> ended_by) {
    HeaderResult result =
        parse_header(header_tokens_, header_context(), HeaderEnd::salvage, options_, *tokenizer_);
    for (auto& e : result.errors) errors_.push_back(std::move(e));

    std::vector<Token> offending;
    if (header_start_position_) offending.push_back(tok::kStart);
    offending.insert(offending.end(), header_tokens_.begin(), header_tokens_.end());
    if (ended_by) offending.push_back(*ended_by);
    std::size_t position = header_start_position_.value_or(header_position_);
    if (offending.empty()) position = tokens_.size();
    std::string header_text = "\"";
    header_text += text_of(header_tokens_, *tokenizer_);
    header_text += '"';
    // Whitespace after an implicit start already has its unexpected_token error.
    bool worth_reporting = header_explicit_ || result.has_words;

    if (!ended_by) {
        if (worth_reporting)
            add_error(ParseErrorKind::eos_in_header,
                      "Unexpected EOS while waiting for message header to complete (header " +
                          header_text + (result.content ? "); its text was kept as content" : ")"),
                      std::move(offending), position);
    } else if (result.content) {
        add_error(ParseErrorKind::missing_message,
                  "header " + header_text + " ended by " + token_label(*ended_by) +
                      " without <|message|>; its text was kept as content",
                  std::move(offending), position);
    } else if (*ended_by == tok::kStart) {
        if (worth_reporting)
            add_error(
                ParseErrorKind::doubled_start,
                "<|start|> while a header was open; the header " + header_text + " was dropped",
                std::move(offending), position);
    } else if (worth_reporting) {
        add_error(ParseErrorKind::missing_message,
                  "header " + header_text + " ended by " + token_label(*ended_by) +
                      " without <|message|> and without text; no message",
                  std::move(offending), position);
    }
    if (result.content) push_message(result.header, std::move(*result.content), ended_by);
    next_role_.reset();
    header_tokens_.clear();
    state_ = State::expect_start;
}

void StreamParser::append_content(std::string_view bytes) {
    std::string text = decoder_.push(bytes);
    if (text.empty()) return;  // held back: part of a character
    content_ += text;
    delta_ = std::move(text);
}

void StreamParser::complete_content(std::optional<Token> stop) {
    std::string text = std::move(content_) + decoder_.flush();
    push_message(header_, std::move(text), stop);
    content_.clear();
    decoder_ = {};
    delta_.reset();
    state_ = State::expect_start;
}

void StreamParser::push_message(const Header& header, std::string text, std::optional<Token> stop) {
    ParsedMessage parsed;
    Message& m = parsed.message;
    m.role = header.role;
    m.name = header.name;
    m.recipient = header.recipient;
    m.channel = header.channel;
    m.content_type = header.content_type;
    m.content.push_back(TextContent{std::move(text)});
    parsed.stop = stop;
    parsed.original_recipient = header.original_recipient;
    parsed.is_call = is_tool_call(m);
    if (stop == tok::kCall && !parsed.is_call)
        add_error(ParseErrorKind::call_without_recipient,
                  "<|call|> ended a message without a tool recipient; nothing to call", {*stop},
                  tokens_.size() - 1);
    messages_.push_back(std::move(parsed));
}

void StreamParser::add_error(ParseErrorKind kind, std::string what, std::vector<Token> tokens,
                             std::size_t position) {
    errors_.push_back(ParseError{kind, std::move(what), std::move(tokens), position});
}

std::optional<Role> StreamParser::current_role() const {
    if (state_ == State::content) return header_.role;
    if (state_ == State::header) return next_role_;
    return std::nullopt;
}

std::optional<std::string> StreamParser::current_channel() const {
    if (state_ != State::content) return std::nullopt;
    return header_.channel;
}

std::optional<std::string> StreamParser::current_recipient() const {
    if (state_ != State::content) return std::nullopt;
    return header_.recipient;
}

std::optional<std::string> StreamParser::current_content_type() const {
    if (state_ != State::content) return std::nullopt;
    return header_.content_type;
}

std::optional<Header> StreamParser::provisional_header() const {
    switch (state_) {
        case State::expect_start:
            return std::nullopt;
        case State::header:
            return parse_header(header_tokens_, header_context(), HeaderEnd::message, options_,
                                *tokenizer_)
                .header;
        case State::content:
            return header_;
    }
    return std::nullopt;
}

}  // namespace gossamer::harmony
