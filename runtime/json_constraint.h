// Structured outputs: a TokenConstraint that lets the model write freely (its analysis) until
// a message's content must be JSON (any message the user reads under a response format,
// a call to a strict function, any call marked <|constrain|>json), and from there allows only
// tokens that keep the bytes a prefix of a JSON document valid under the JSON Schema (types,
// required, enum/const, nested objects and arrays, additionalProperties: false), then only
// the token that ends the message (<|return|> for an answer, <|call|> for a call). `JsonPrefix` is
// the byte-level checker; it must not know tokens. Runs on the engine thread (the sampler's chain).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/token_constraint.h"
#include "harmony/special_tokens.h"
#include "harmony/tokenizer.h"

namespace gossamer::runtime {

using SchemaJson = nlohmann::ordered_json;

// Reads JSON a byte at a time and says whether the bytes so far can still become a document
// valid under `schema` (nullptr: any JSON value). Whitespace between tokens is allowed up to
// a run of 16 bytes (so that a model cannot fill its budget with blanks).
class JsonPrefix {
  public:
    explicit JsonPrefix(const SchemaJson* schema);
    bool feed(unsigned char c);  // false: no valid document starts with these bytes
    bool feed(std::string_view bytes);
    bool complete() const;  // the bytes are a whole valid document

  private:
    enum class Kind { value, object, array, string, number, literal };
    struct Frame {
        Kind kind = Kind::value;
        const SchemaJson* schema = nullptr;
        int state = 0;
        std::string text;                  // string / number / literal so far (raw)
        std::vector<std::string> choices;  // string: allowed raw contents; literal: texts
        bool is_key = false;               // string: an object key
        bool integer = false;              // number: no fraction or exponent
        bool escape = false;               // string: after a backslash
        int unicode = 0;                   // string: \\u hex digits still to read
        int utf8_left = 0;                 // string: continuation bytes still to read
        int surrogate = 0;  // string: 1 after a high \\uD8xx: "\\" next; 2: "u"; 3: its hex
        unsigned char utf8_lo = 0x80, utf8_hi = 0xBF;  // string: the next one's range
        std::vector<std::string> seen;                 // object: keys so far
        std::string key;                               // object: the key whose value is read
    };
    bool start_value(Frame& f, unsigned char c);
    bool value_done();  // the top frame's value ended: pop it, tell the parent
    bool whitespace(unsigned char c);
    static bool number_complete(const std::string& text);

    std::vector<Frame> stack_;
    bool done_ = false;
    int blank_run_ = 0;
};

// When a message's content must be JSON, and under which schema.
struct JsonTargets {
    std::optional<SchemaJson> final_answer;       // a response format (text.format)
    std::map<std::string, SchemaJson> functions;  // "functions.name" -> parameters (strict)
    bool constrain_marked_calls = true;           // any <|constrain|>json call: valid JSON
    // Only a `final` message is the answer (an agent's commentary preambles stay free).
    bool final_channel_only = false;
};

class JsonConstraint final : public engine::TokenConstraint {
  public:
    JsonConstraint(const harmony::Tokenizer& tokenizer, JsonTargets targets);
    bool allows(std::int32_t token) const override;
    void accept(std::int32_t token) override;
    bool active() const { return json_.has_value(); }

  private:
    void on_header_end();
    const harmony::Tokenizer& tokenizer_;
    JsonTargets targets_;                          // the schemas JsonPrefix points into
    std::optional<JsonPrefix> json_;               // inside a message that must be JSON
    harmony::Token stop_ = harmony::tok::kReturn;  // what ends the JSON message
    // The header being read (the tokens after <|start|>, or after a message's end when the
    // model writes no <|start|>), parsed as the stream parser parses it.
    bool in_header_ = false;  // fed the prompt's opening (<|start|>assistant...) first
    bool explicit_start_ = true;
    std::vector<harmony::Token> header_;
};

}  // namespace gossamer::runtime
