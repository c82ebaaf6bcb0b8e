// JSON Schema -> TypeScript tests: the derived nested-schema example of harmony.md 2.5 and
// one case per rule listed there. The fixture-level coverage (title, examples, nullable,
// oneOf with defaults, enums) is in test_renderer.cpp's 4.3 and 4.5 vectors.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "harmony/renderer.h"
#include "harmony/schema_typescript.h"

using namespace gossamer::harmony;

namespace {

std::string ts(std::string_view schema) {
    return schema_to_typescript(Json::parse(schema));
}

// 2.5 derived nested-schema example
constexpr std::string_view kNestedSchemaText = R"HM(# Tools

## functions

// Namespace description line.
namespace functions {

// Search the docs.
// Second description line.
type search_docs = (_: {
// Search text
query: string,
// Optional filters
filters?:     // Optional filters
{
    lang: "en" | "de",
    max?: number, // default: 5
    },
tags?: string[],
points?: {
    x: number,
    y: number,
    }[],
mode?: any,
any_list?: Array<any>,
flag?: boolean | null, // default: true
ratio?: number | null, // default: 0.5
}) => any;

// Takes an object without properties.
type empty_obj = (_: {
}) => any;

} // namespace functions)HM";

}  // namespace

TEST_CASE("schema_ts: nested objects, arrays of objects, anyOf, untyped arrays (2.5, derived)") {
    // The input schema described under the example in harmony.md 2.5.
    Json search_docs = Json::parse(R"({"type": "object", "properties": {
        "query": {"type": "string", "description": "Search text"},
        "filters": {"type": "object", "description": "Optional filters",
                    "properties": {"lang": {"type": "string", "enum": ["en", "de"]},
                                   "max": {"type": "integer", "default": 5}},
                    "required": ["lang"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "points": {"type": "array", "items": {"type": "object",
                   "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                   "required": ["x", "y"]}},
        "mode": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "any_list": {"type": "array"},
        "flag": {"type": "boolean", "nullable": true, "default": true},
        "ratio": {"type": ["number", "null"], "default": 0.5}},
      "required": ["query"]})");
    ToolNamespace functions{"functions", "Namespace description line.", {}};
    functions.tools.push_back(
        {"search_docs", "Search the docs.\nSecond description line.", search_docs});
    functions.tools.push_back(
        {"empty_obj", "Takes an object without properties.", Json::parse(R"({"type": "object"})")});
    ToolNamespaces namespaces{{"functions", functions}};
    CHECK(tools_section_text(namespaces) == kNestedSchemaText);
}

TEST_CASE("schema_ts: type arrays map integer to number and keep null") {
    CHECK(ts(R"({"type": ["number", "string"]})") == "number | string");
    CHECK(ts(R"({"type": ["number", "null"]})") == "number | null");
    CHECK(ts(R"({"type": ["integer", "boolean"]})") == "number | boolean");
    // Other keywords are ignored in this case.
    CHECK(ts(R"({"type": ["string", "null"], "enum": ["a"]})") == "string | null");
}

TEST_CASE("schema_ts: scalar types, enums and arrays") {
    CHECK(ts(R"({"type": "string"})") == "string");
    CHECK(ts(R"({"type": "string", "enum": ["a", "b", "c"]})") == R"("a" | "b" | "c")");
    // Non-string enum values are dropped.
    CHECK(ts(R"({"type": "string", "enum": ["a", 1, null]})") == R"("a")");
    CHECK(ts(R"({"type": "number"})") == "number");
    CHECK(ts(R"({"type": "integer"})") == "number");
    CHECK(ts(R"({"type": "boolean"})") == "boolean");
    CHECK(ts(R"({"type": "array", "items": {"type": "string"}})") == "string[]");
    CHECK(ts(R"({"type": "array"})") == "Array<any>");
    CHECK(ts(R"({"type": "null"})") == "any");
}

TEST_CASE("schema_ts: unsupported keywords become any") {
    CHECK(ts(R"({"anyOf": [{"type": "string"}, {"type": "null"}]})") == "any");
    CHECK(ts(R"({"allOf": [{"type": "string"}]})") == "any");
    CHECK(ts(R"({"$ref": "#/definitions/x"})") == "any");
    CHECK(ts(R"({"const": 3})") == "any");
    CHECK(ts(R"({})") == "any");
    // Validation keywords are ignored.
    CHECK(ts(R"({"type": "string", "format": "date", "maxLength": 3, "pattern": "x"})") ==
          "string");
}

TEST_CASE("schema_ts: an object without properties") {
    CHECK(ts(R"({"type": "object"})") == "{\n}");
    CHECK(ts(R"({"type": "object", "additionalProperties": true})") == "{\n}");
}

TEST_CASE("schema_ts: property defaults") {
    // 2.5: a string not in an enum is quoted, an enum string is not, the rest is compact JSON.
    CHECK(ts(R"({"type": "object", "properties": {"s": {"type": "string", "default": "x"}}})") ==
          "{\ns?: string, // default: \"x\"\n}");
    CHECK(ts(R"({"type": "object", "properties": {
                  "u": {"type": "string", "enum": ["c", "f"], "default": "c"}}})") ==
          "{\nu?: \"c\" | \"f\", // default: c\n}");
    CHECK(ts(R"({"type": "object", "properties": {
                  "n": {"type": "number", "default": -1},
                  "b": {"type": "boolean", "default": false},
                  "r": {"type": "number", "default": 0.5},
                  "l": {"type": "array", "items": {"type": "string"}, "default": ["a", "b"]}},
                "required": ["n"]})") ==
          "{\nn: number, // default: -1\nb?: boolean, // default: false\n"
          "r?: number, // default: 0.5\nl?: string[], // default: [\"a\",\"b\"]\n}");
}

TEST_CASE("schema_ts: nullable adds | null once") {
    CHECK(ts(R"({"type": "object", "properties": {"s": {"type": "string", "nullable": true}}})") ==
          "{\ns?: string | null,\n}");
    // Not twice when the type already says null.
    CHECK(ts(R"({"type": "object", "properties": {
                  "s": {"type": ["string", "null"], "nullable": true}}})") ==
          "{\ns?: string | null,\n}");
}

TEST_CASE("schema_ts: a described object prints its description above the brace") {
    CHECK(ts(R"({"type": "object", "description": "params object"})") == "// params object\n{\n}");
}

TEST_CASE("schema_ts: oneOf as the whole schema") {
    // 2.5 rule 1: "\n" + indent + " | " + variant, then " // description default: ...";
    // here an enum string default keeps its quotes.
    CHECK(ts(R"({"oneOf": [{"type": "string", "description": "a name", "default": "x"},
                           {"type": "string", "enum": ["p", "q"], "default": "p"},
                           {"type": "number", "nullable": true}]})") ==
          "\n | string // a name default: \"x\"\n | \"p\" | \"q\" // default: \"p\"\n | number | "
          "null");
}

TEST_CASE("schema_ts: oneOf property whose description repeats the first variant's") {
    // 2.5: the property description is not printed above when it equals the first variant's
    // description, and a variant's description equal to the property's is left out.
    CHECK(ts(R"({"type": "object", "properties": {"v": {
                  "description": "same",
                  "oneOf": [{"type": "string", "description": "same"},
                            {"type": "number", "description": "other"}]}}})") ==
          "{\nv?:\n | string\n | number // other\n,\n}");
}

TEST_CASE("schema_ts: title, examples, and a pydantic Optional") {
    CHECK(ts(R"({"type": "object", "properties": {
                  "s": {"type": "string", "title": "T", "examples": ["a", 2, "b"]},
                  "o": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null}}})") ==
          "{\n// T\n//\n// Examples:\n// - \"a\"\n// - \"b\"\ns?: string,\n"
          "o?: any, // default: null\n}");
}

TEST_CASE("schema_ts: any JSON value is accepted without throwing") {
    for (const char* value : {"true", "42", "\"x\"", "null", "[]", R"({"type": 5})",
                              R"({"type": "object", "properties": []})", R"({"oneOf": "nope"})",
                              R"({"type": "array", "items": null})"})
        CHECK_NOTHROW(ts(value));
    CHECK(ts("true") == "any");
    CHECK(ts(R"({"type": "array", "items": null})") == "any[]");
    // A property schema that is not an object, and a "required" that is not an array.
    CHECK(ts(R"({"type": "object", "required": "a", "properties": {"a": true}})") ==
          "{\na?: any,\n}");
}

TEST_CASE("schema_ts: default values print as serde_json does") {
    // serde_json prints floats with the ryu crate: shortest digits, ".0" on integral values,
    // plain decimals for exponents in (-5, 16], else "1e21" / "1.5e-7".
    CHECK(to_serde_json_text(Json::parse("0.5")) == "0.5");
    CHECK(to_serde_json_text(Json::parse("20.0")) == "20.0");
    CHECK(to_serde_json_text(Json::parse("-1")) == "-1");
    CHECK(to_serde_json_text(Json::parse("1e21")) == "1e21");
    CHECK(to_serde_json_text(Json::parse("1.5e-7")) == "1.5e-7");
    CHECK(to_serde_json_text(Json::parse("0.0001")) == "0.0001");
    CHECK(to_serde_json_text(Json::parse("1e15")) == "1000000000000000.0");
    CHECK(to_serde_json_text(Json::parse(R"({"a": [1, 2.5, "x\n"], "b": null})")) ==
          R"({"a":[1,2.5,"x\n"],"b":null})");
}

TEST_CASE("schema_ts: a tool without parameters, or with null parameters") {
    ToolNamespace ns{"functions", std::nullopt, {}};
    ns.tools.push_back({"a", "A.", std::nullopt});
    ns.tools.push_back({"b", "B.", Json(nullptr)});
    ToolNamespaces namespaces{{"functions", ns}};
    CHECK(tools_section_text(namespaces) ==
          "# Tools\n\n## functions\n\nnamespace functions {\n\n// A.\ntype a = () => any;\n\n"
          "// B.\ntype b = () => any;\n\n} // namespace functions");
}
