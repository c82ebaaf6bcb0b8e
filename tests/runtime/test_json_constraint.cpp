// Structured outputs: the byte-level JSON Schema prefix checker and the token constraint
// that applies it only inside the message that must be JSON (harmony headers read from the
// sampled tokens). The end-to-end check (the real nano model sampled under the mask, the
// output validated) is in tests/clients/sdk_test.mjs.
#include <doctest/doctest.h>

#include "harmony/tokenizer.h"
#include "runtime/json_constraint.h"
#include "tools/schema_check.h"

namespace srv = gossamer::runtime;
using J = srv::SchemaJson;

namespace {

bool accepts(const J* schema, std::string_view text, bool whole = true) {
    srv::JsonPrefix p(schema);
    if (!p.feed(text)) return false;
    return !whole || p.complete();
}

const J kSchema = J::parse(R"({
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "age": {"type": "integer"},
    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
    "ratio": {"type": ["number", "null"]},
    "ok": {"type": "boolean"},
    "inner": {"type": "object", "properties": {"x": {"const": 3}}, "required": ["x"],
              "additionalProperties": false}
  },
  "required": ["name", "age"],
  "additionalProperties": false
})");

}  // namespace

TEST_CASE("json prefix: documents valid under the schema, whole and in every prefix") {
    const std::vector<std::string> valid = {
        R"({"name": "Ada", "age": 36})",
        R"({"age":-1,"name":"x\"y\u00e9\ud83d\ude00","tags":["a","b"],"ratio":1.5e-3,"ok":false})",
        "{\"name\": \"h\xc3\xa9 \xf0\x9f\x98\x80\", \"age\": 2}",
        R"({"name": "", "age": 0, "ratio": null, "inner": {"x": 3}})",
        "{\n  \"name\": \"n\",\n  \"age\": 10\n}",
    };
    for (const auto& doc : valid) {
        CAPTURE(doc);
        CHECK(accepts(&kSchema, doc));
        for (std::size_t n = 0; n < doc.size(); ++n)
            CHECK(accepts(&kSchema, doc.substr(0, n), false));
        // and the checker agrees with the argument validator the agent loop uses
        CHECK(gossamer::tools::check_against_schema(J::parse(doc), kSchema).empty());
    }
}

TEST_CASE("json prefix: what the schema forbids is refused at the first wrong byte") {
    for (const std::string doc : {
             R"({"name": "Ada"})",              // missing required age: '}' refused
             R"({"name": "Ada", "age": 1.5})",  // integer
             R"({"nome": 1})",                  // unknown key (additionalProperties false)
             R"({"name": "a", "name": "b"})",   // a repeated key
             R"({"name": 3, "age": 1})",        // wrong type
             R"({"name": "a", "age": 1, "tags": ["c"]})",      // enum
             R"({"name": "a", "age": 01})",                    // leading zero
             R"({"name": "a", "age": 1, "inner": {"x": 4}})",  // const
             R"({"name": "a", "age": 1} x)",                   // text after the document
             R"({"name": "a", "age": 1, "tags": [], "ratio": 1, "ok": true, "inner": {"x": 3},)",
             // ^ a comma with no property left to write
             R"([1])",                                      // not an object
             "{\"name\": \"a\nb\", \"age\": 1}",            // a raw control character in a string
             "{\"name\": \"\xeb\xeb\", \"age\": 1}",        // invalid UTF-8
             R"({"name": "\ud800", "age": 1})",             // a lone surrogate
             R"({"name": "a", "age": 1, "ratio": 1e999})",  // a number no double holds
         }) {
        CAPTURE(doc);
        CHECK_FALSE(accepts(&kSchema, doc));
    }
    // Blank runs are bounded (a model cannot fill its budget with spaces).
    CHECK_FALSE(accepts(nullptr, std::string(100, ' ') + "1"));
    // No schema: any JSON value.
    for (const char* doc : {"1", "-0.5E+3", "\"s\"", "[]", "{}", "[{\"a\": [null, true]}]"})
        CHECK(accepts(nullptr, doc));
    CHECK_FALSE(accepts(nullptr, "{", true));
    CHECK_FALSE(accepts(nullptr, "tru", true));
}

TEST_CASE("json constraint: free until the final message, then JSON, then only the end") {
    const auto& tok = gossamer::harmony::Tokenizer::o200k_harmony();
    auto ids = [&](const std::string& text) {
        return tok.encode(text, gossamer::harmony::AllowedSpecial::all_tokens());
    };
    srv::JsonTargets targets;
    targets.final_answer = J::parse(R"({"type": "object", "properties": {"n": {"type": "integer"}},
                                        "required": ["n"], "additionalProperties": false})");
    srv::JsonConstraint c(tok, targets);
    // analysis is free text (the prompt's <|start|>assistant is fed first, as the server does)
    for (auto t : ids("<|start|>assistant<|channel|>analysis<|message|>Think {not json<|end|>")) {
        CHECK(c.allows(static_cast<std::int32_t>(t)));
        c.accept(static_cast<std::int32_t>(t));
    }
    CHECK_FALSE(c.active());
    for (auto t : ids("<|start|>assistant<|channel|>final<|message|>"))
        c.accept(static_cast<std::int32_t>(t));
    CHECK(c.active());
    CHECK_FALSE(c.allows(static_cast<std::int32_t>(ids("Hello")[0])));
    CHECK_FALSE(c.allows(static_cast<std::int32_t>(gossamer::harmony::tok::kReturn)));  // not yet
    for (auto t : ids(R"({"n": 42})")) {
        CHECK(c.allows(static_cast<std::int32_t>(t)));
        c.accept(static_cast<std::int32_t>(t));
    }
    CHECK(c.allows(static_cast<std::int32_t>(gossamer::harmony::tok::kReturn)));
    CHECK_FALSE(
        c.allows(static_cast<std::int32_t>(gossamer::harmony::tok::kEnd)));  // no 2nd message
    CHECK_FALSE(c.allows(static_cast<std::int32_t>(ids(",")[0])));
    // A strict function's arguments; a marked call to an unknown function is any JSON.
    targets.functions["functions.f"] =
        J::parse(R"({"type": "object", "properties": {"a": {"type": "boolean"}}})");
    srv::JsonConstraint call(tok, targets);
    for (auto t : ids("<|start|>assistant<|channel|>commentary to=functions.f "
                      "<|constrain|>json<|message|>{\"a\": "))
        call.accept(static_cast<std::int32_t>(t));
    CHECK(call.active());
    CHECK(call.allows(static_cast<std::int32_t>(ids("true")[0])));
    CHECK_FALSE(call.allows(static_cast<std::int32_t>(ids("1")[0])));
    srv::JsonConstraint forced(tok, {std::nullopt, {}, true});
    for (auto t :
         ids("<|start|>assistant to=functions.g<|channel|>commentary <|constrain|>json<|message|>"))
        forced.accept(static_cast<std::int32_t>(t));  // the prompt opened the call
    CHECK(forced.active());
    CHECK(forced.allows(static_cast<std::int32_t>(ids("[")[0])));
    CHECK_FALSE(forced.allows(static_cast<std::int32_t>(ids("hello")[0])));
}

TEST_CASE("json constraint: for agents only the final message is the answer") {
    const auto& tok = gossamer::harmony::Tokenizer::o200k_harmony();
    auto ids = [&](const std::string& text) {
        return tok.encode(text, gossamer::harmony::AllowedSpecial::all_tokens());
    };
    srv::JsonTargets targets;
    targets.final_answer = J::parse(R"({"type": "integer"})");
    targets.final_channel_only = true;
    srv::JsonConstraint c(tok, targets);
    // A commentary preamble and a tool call stay free text; the final message is the answer.
    for (auto t : ids("<|start|>assistant<|channel|>commentary<|message|>Checking first.<|end|>"
                      "<|start|>assistant<|channel|>commentary to=python<|message|>print(1)")) {
        CHECK(c.allows(static_cast<std::int32_t>(t)));
        c.accept(static_cast<std::int32_t>(t));
    }
    CHECK_FALSE(c.active());
    c.accept(static_cast<std::int32_t>(gossamer::harmony::tok::kCall));
    for (auto t : ids("<|start|>assistant<|channel|>final<|message|>"))
        c.accept(static_cast<std::int32_t>(t));
    CHECK(c.active());
    CHECK_FALSE(c.allows(static_cast<std::int32_t>(ids("Hello")[0])));
    CHECK(c.allows(static_cast<std::int32_t>(ids("42")[0])));
}
