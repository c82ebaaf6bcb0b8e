#include "runtime/json_constraint.h"

#include <algorithm>
#include <cctype>

#include "harmony/header_parser.h"
#include "harmony/special_tokens.h"

namespace gossamer::runtime {

namespace {

constexpr int kMaxBlankRun = 16;

bool is_blank(unsigned char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

// The JSON types a schema admits (bit set); all when it says nothing.
enum : unsigned {
    kObject = 1,
    kArray = 2,
    kString = 4,
    kNumber = 8,
    kInteger = 16,
    kBoolean = 32,
    kNull = 64,
    kAny = 127
};

unsigned type_bit(const std::string& t) {
    if (t == "object") return kObject;
    if (t == "array") return kArray;
    if (t == "string") return kString;
    if (t == "number") return kNumber;
    if (t == "integer") return kInteger;
    if (t == "boolean") return kBoolean;
    if (t == "null") return kNull;
    return kAny;
}

unsigned types_of(const SchemaJson* schema) {
    if (!schema || !schema->is_object()) return kAny;
    const auto it = schema->find("type");
    if (it == schema->end()) return kAny;
    if (it->is_string()) return type_bit(it->get<std::string>());
    if (it->is_array()) {
        unsigned bits = 0;
        for (const auto& t : *it)
            if (t.is_string()) bits |= type_bit(t.get<std::string>());
        return bits ? bits : kAny;
    }
    return kAny;
}

// enum / const as the list of their JSON texts; nullopt when the schema has neither.
std::optional<std::vector<SchemaJson>> literals_of(const SchemaJson* schema) {
    if (!schema || !schema->is_object()) return std::nullopt;
    if (const auto c = schema->find("const"); c != schema->end()) return std::vector{*c};
    if (const auto e = schema->find("enum"); e != schema->end() && e->is_array() && !e->empty())
        return std::vector<SchemaJson>(e->begin(), e->end());
    return std::nullopt;
}

const SchemaJson* property_schema(const SchemaJson* object, const std::string& key) {
    if (!object || !object->is_object()) return nullptr;
    const auto props = object->find("properties");
    if (props != object->end() && props->is_object()) {
        const auto p = props->find(key);
        if (p != props->end()) return &*p;
    }
    const auto extra = object->find("additionalProperties");
    if (extra != object->end() && extra->is_object()) return &*extra;
    return nullptr;
}

bool closed(const SchemaJson* object) {  // additionalProperties: false
    if (!object || !object->is_object()) return false;
    const auto extra = object->find("additionalProperties");
    return extra != object->end() && extra->is_boolean() && !extra->get<bool>();
}

std::vector<std::string> required_of(const SchemaJson* object) {
    std::vector<std::string> out;
    if (!object || !object->is_object()) return out;
    const auto r = object->find("required");
    if (r != object->end() && r->is_array())
        for (const auto& k : *r)
            if (k.is_string()) out.push_back(k.get<std::string>());
    return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// A raw (still escaped) string content that is a prefix of one of `choices`.
bool prefix_of_any(const std::string& text, const std::vector<std::string>& choices) {
    return std::any_of(choices.begin(), choices.end(),
                       [&](const std::string& c) { return c.compare(0, text.size(), text) == 0; });
}

// JSON text of a string's content as it appears between the quotes.
std::string raw_content(const std::string& s) {
    const std::string quoted = SchemaJson(s).dump();
    return quoted.substr(1, quoted.size() - 2);
}

// The properties of a closed object (additionalProperties: false) not written yet, as keys
// appear between quotes.
std::vector<std::string> keys_left(const SchemaJson* object, const std::vector<std::string>& seen) {
    std::vector<std::string> out;
    const auto props = object->find("properties");
    if (props == object->end() || !props->is_object()) return out;
    for (const auto& [name, _] : props->items())
        if (!has(seen, raw_content(name))) out.push_back(raw_content(name));
    return out;
}

}  // namespace

JsonPrefix::JsonPrefix(const SchemaJson* schema) {
    Frame root;
    root.schema = schema;
    stack_.push_back(std::move(root));
}

bool JsonPrefix::whitespace(unsigned char c) {
    if (!is_blank(c)) return false;
    return ++blank_run_ <= kMaxBlankRun;
}

bool JsonPrefix::feed(std::string_view bytes) {
    for (char c : bytes)
        if (!feed(static_cast<unsigned char>(c))) return false;
    return true;
}

bool JsonPrefix::number_complete(const std::string& t) {
    if (t.empty() || t == "-") return false;
    const char last = t.back();
    return last >= '0' && last <= '9';
}

bool JsonPrefix::complete() const {
    if (done_) return true;
    // A number at the top level ends with the input.
    return stack_.size() == 1 && stack_[0].kind == Kind::number && number_complete(stack_[0].text);
}

bool JsonPrefix::start_value(Frame& f, unsigned char c) {
    const unsigned types = types_of(f.schema);
    if (const auto literals = literals_of(f.schema)) {
        // enum / const: strings are read as strings limited to the choices, others as texts.
        std::vector<std::string> strings, texts;
        for (const auto& v : *literals)
            (v.is_string() ? strings : texts)
                .push_back(v.is_string() ? raw_content(v.get<std::string>()) : v.dump());
        if (c == '"' && !strings.empty()) {
            f.kind = Kind::string;
            f.choices = std::move(strings);
            return true;
        }
        f.kind = Kind::literal;
        f.choices = std::move(texts);
        f.text.assign(1, static_cast<char>(c));
        return prefix_of_any(f.text, f.choices);
    }
    if (c == '{' && (types & kObject)) return f.kind = Kind::object, f.state = 0, true;
    if (c == '[' && (types & kArray)) return f.kind = Kind::array, f.state = 0, true;
    if (c == '"' && (types & kString)) return f.kind = Kind::string, true;
    if ((c == '-' || (c >= '0' && c <= '9')) && (types & (kNumber | kInteger))) {
        f.kind = Kind::number;
        f.integer = !(types & kNumber);
        f.text.assign(1, static_cast<char>(c));
        return true;
    }
    f.kind = Kind::literal;
    if (c == 't' && (types & kBoolean))
        f.choices = {"true"};
    else if (c == 'f' && (types & kBoolean))
        f.choices = {"false"};
    else if (c == 'n' && (types & kNull))
        f.choices = {"null"};
    else
        return false;
    f.text.assign(1, static_cast<char>(c));
    return true;
}

bool JsonPrefix::value_done() {
    Frame finished = std::move(stack_.back());
    stack_.pop_back();
    if (stack_.empty()) {
        done_ = true;
        return true;
    }
    Frame& parent = stack_.back();
    if (parent.kind == Kind::object) {
        if (finished.is_key) {
            // The key must name a property (closed objects) and not repeat.
            const std::string& key = finished.text;
            if (has(parent.seen, key)) return false;
            parent.key = key;
            parent.state = 2;  // expect ':'
        } else {
            parent.seen.push_back(parent.key);
            parent.state = 4;  // expect ',' or '}'
        }
    } else if (parent.kind == Kind::array) {
        parent.state = 2;  // expect ',' or ']'
    }
    return true;
}

bool JsonPrefix::feed(unsigned char c) {
    if (done_) return false;  // nothing may follow the document (the message must end)
    if (!is_blank(c)) blank_run_ = 0;
    Frame& f = stack_.back();
    switch (f.kind) {
        case Kind::value:
            if (whitespace(c)) return true;
            return start_value(f, c);
        case Kind::string: {
            if (f.unicode > 0) {
                if (!std::isxdigit(c)) return false;
                --f.unicode;
                f.text += static_cast<char>(c);
                if (f.unicode == 0) {  // surrogates must pair, as JSON parsers check
                    const unsigned code = static_cast<unsigned>(
                        std::stoul(f.text.substr(f.text.size() - 4), nullptr, 16));
                    const bool high = code >= 0xD800 && code <= 0xDBFF;
                    const bool low = code >= 0xDC00 && code <= 0xDFFF;
                    if (f.surrogate == 3) {
                        if (!low) return false;
                        f.surrogate = 0;
                    } else if (low) {
                        return false;
                    } else if (high) {
                        f.surrogate = 1;
                    }
                }
            } else if (f.surrogate == 1 || f.surrogate == 2) {
                if (c != (f.surrogate == 1 ? '\\' : 'u')) return false;
                f.text += static_cast<char>(c);
                if (++f.surrogate == 3) f.unicode = 4;
            } else if (f.escape) {
                if (std::string_view("\"\\/bfnrtu").find(static_cast<char>(c)) == std::string::npos)
                    return false;
                f.escape = false;
                f.text += static_cast<char>(c);
                if (c == 'u') f.unicode = 4;
            } else if (f.utf8_left > 0) {  // strict UTF-8, as JSON parsers want it
                if (c < f.utf8_lo || c > f.utf8_hi) return false;
                --f.utf8_left;
                f.utf8_lo = 0x80, f.utf8_hi = 0xBF;
                f.text += static_cast<char>(c);
            } else if (c == '"') {
                if (!f.choices.empty() && !has(f.choices, f.text)) return false;
                return value_done();
            } else {
                if (c < 0x20 || (c >= 0x80 && c < 0xC2) || c > 0xF4) return false;
                if (c >= 0xC2) {
                    f.utf8_left = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
                    f.utf8_lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
                    f.utf8_hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
                }
                if (c == '\\') f.escape = true;
                f.text += static_cast<char>(c);
            }
            return f.choices.empty() || prefix_of_any(f.text, f.choices);
        }
        case Kind::number: {
            const bool digit = c >= '0' && c <= '9';
            const std::string& t = f.text;
            const char last = t.back();
            bool ok = false;
            if (digit) {
                // no leading zeros: "0" or "-0" is not followed by a digit
                ok = !(t == "0" || t == "-0");
            } else if (c == '.') {
                ok = !f.integer && t.find_first_of(".eE") == std::string::npos && last >= '0' &&
                     last <= '9';
            } else if (c == 'e' || c == 'E') {
                ok = !f.integer && t.find_first_of("eE") == std::string::npos && last >= '0' &&
                     last <= '9';
            } else if (c == '+' || c == '-') {
                ok = last == 'e' || last == 'E';
            }
            // Bounded so that every number fits a double (a parser may refuse 1e999): at most
            // 32 characters, at most 2 exponent digits.
            if (ok && f.text.size() >= 32) ok = false;
            if (ok && digit) {
                const auto e = t.find_first_of("eE");
                if (e != std::string::npos) {
                    const std::size_t sign =
                        t.size() > e + 1 && (t[e + 1] == '+' || t[e + 1] == '-');
                    if (t.size() - e - 1 - sign >= 2) ok = false;
                }
            }
            if (ok) {
                f.text += static_cast<char>(c);
                return true;
            }
            if (!number_complete(t)) return false;
            if (!value_done()) return false;
            return feed(c);  // the byte belongs to the parent
        }
        case Kind::literal: {
            const std::string next = f.text + static_cast<char>(c);
            if (prefix_of_any(next, f.choices)) {
                f.text = next;
                if (f.choices.size() == 1 && f.text == f.choices[0]) return value_done();
                return true;
            }
            if (!has(f.choices, f.text)) return false;
            if (!value_done()) return false;
            return feed(c);
        }
        case Kind::object: {
            const SchemaJson* schema = f.schema;
            auto can_close = [&] {
                for (const auto& r : required_of(schema))
                    if (!has(f.seen, r)) return false;
                return true;
            };
            auto open_key = [&] {
                Frame key;
                key.kind = Kind::string;
                key.is_key = true;
                if (closed(schema)) {
                    key.choices = keys_left(schema, f.seen);
                    if (key.choices.empty()) return false;  // nothing left to write
                }
                stack_.push_back(std::move(key));
                return true;
            };
            switch (f.state) {
                case 0:  // after '{'
                    if (whitespace(c)) return true;
                    if (c == '}') return can_close() && value_done();
                    if (c == '"') return open_key();
                    return false;
                case 2:  // after a key
                    if (whitespace(c)) return true;
                    if (c != ':') return false;
                    f.state = 3;
                    return true;
                case 3: {  // the value
                    if (whitespace(c)) return true;
                    Frame value;
                    value.schema = property_schema(schema, f.key);
                    stack_.push_back(std::move(value));
                    return start_value(stack_.back(), c);
                }
                case 4:  // after a value
                    if (whitespace(c)) return true;
                    if (c == '}') return can_close() && value_done();
                    if (c == ',') {  // only if a property is left to write
                        if (closed(schema) && keys_left(schema, f.seen).empty()) return false;
                        f.state = 5;
                        return true;
                    }
                    return false;
                case 5:  // after ','
                    if (whitespace(c)) return true;
                    if (c == '"') return open_key();
                    return false;
            }
            return false;
        }
        case Kind::array: {
            const SchemaJson* items = nullptr;
            if (f.schema && f.schema->is_object() && f.schema->contains("items") &&
                (*f.schema)["items"].is_object())
                items = &(*f.schema)["items"];
            auto open_value = [&] {
                Frame value;
                value.schema = items;
                stack_.push_back(std::move(value));
                return start_value(stack_.back(), c);
            };
            switch (f.state) {
                case 0:  // after '['
                    if (whitespace(c)) return true;
                    if (c == ']') return value_done();
                    return open_value();
                case 2:  // after a value
                    if (whitespace(c)) return true;
                    if (c == ']') return value_done();
                    if (c == ',') return f.state = 3, true;
                    return false;
                case 3:  // after ','
                    if (whitespace(c)) return true;
                    return open_value();
            }
            return false;
        }
    }
    return false;
}

JsonConstraint::JsonConstraint(const harmony::Tokenizer& tokenizer, JsonTargets targets)
    : tokenizer_(tokenizer), targets_(std::move(targets)) {}

bool JsonConstraint::allows(std::int32_t token) const {
    if (!json_) return true;
    const auto t = static_cast<harmony::Token>(token);
    if (harmony::is_special(t)) return json_->complete() && t == stop_;
    JsonPrefix next = *json_;
    return next.feed(tokenizer_.token_bytes(t));
}

void JsonConstraint::accept(std::int32_t token) {
    const auto t = static_cast<harmony::Token>(token);
    if (json_) {
        if (harmony::is_special(t)) {  // the message ended: free again; a header may follow
            json_.reset();
            in_header_ = true;
            explicit_start_ = false;
            header_.clear();
        } else {
            json_->feed(tokenizer_.token_bytes(t));
        }
        return;
    }
    if (t == harmony::tok::kStart || harmony::is_message_stop(t)) {
        in_header_ = true;
        explicit_start_ = t == harmony::tok::kStart;
        header_.clear();
    } else if (t == harmony::tok::kMessage && in_header_) {
        in_header_ = false;
        on_header_end();
        header_.clear();
    } else if (in_header_) {
        header_.push_back(t);
    }
}

void JsonConstraint::on_header_end() {
    harmony::HeaderContext context;
    context.role = harmony::Role::assistant;
    context.explicit_start = explicit_start_;
    const auto header =
        harmony::parse_header(header_, context, harmony::HeaderEnd::message, {}, tokenizer_).header;
    const SchemaJson* schema = nullptr;  // any JSON
    if (harmony::is_tool_recipient(header.recipient)) {
        stop_ = harmony::tok::kCall;
        const auto f = targets_.functions.find(*header.recipient);
        const bool marked =
            header.content_type && header.content_type->find("json") != std::string::npos;
        if (f != targets_.functions.end())
            schema = &f->second;
        else if (!(targets_.constrain_marked_calls && marked))
            return;
    } else if (targets_.final_answer && header.channel != "analysis" &&
               (!targets_.final_channel_only || header.channel == "final")) {
        // Any message the user reads (final, or a commentary preamble) is the answer.
        stop_ = harmony::tok::kReturn;
        schema = &*targets_.final_answer;
    } else {
        return;
    }
    json_.emplace(schema && !schema->is_null() ? schema : nullptr);
}

}  // namespace gossamer::runtime
