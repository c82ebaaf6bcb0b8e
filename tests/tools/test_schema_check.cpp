// The JSON-Schema argument check against the problems models actually make: wrong types,
// missing and unknown properties, enums, ranges, nested arrays, unions.
#include <doctest/doctest.h>

#include "tools/schema_check.h"

using gossamer::tools::check_against_schema;
using Json = nlohmann::ordered_json;

namespace {

const Json kSchema = Json::parse(R"({
  "type": "object",
  "properties": {
    "city": {"type": "string", "minLength": 2},
    "unit": {"type": "string", "enum": ["c", "f"]},
    "days": {"type": "integer", "minimum": 1, "maximum": 14},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
    "when": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    "extra": {"type": ["number", "boolean"]}
  },
  "required": ["city"],
  "additionalProperties": false
})");

std::vector<std::string> problems(const char* json) {
    return check_against_schema(Json::parse(json), kSchema);
}

}  // namespace

TEST_CASE("schema check: valid arguments pass") {
    CHECK(problems(R"({"city": "Oslo"})").empty());
    CHECK(
        problems(
            R"({"city": "Oslo", "unit": "c", "days": 3, "tags": ["a"], "when": null, "extra": true})")
            .empty());
    CHECK(problems(R"({"city": "Oslo", "days": 3.0})").empty());  // 3.0 is an integer
}

TEST_CASE("schema check: each kind of problem is named with its path") {
    CHECK(problems(R"({})") == std::vector<std::string>{"$: missing required property \"city\""});
    CHECK(problems(R"({"city": 5})") ==
          std::vector<std::string>{"$.city: expected string, got integer"});
    CHECK(problems(R"({"city": "O"})") ==
          std::vector<std::string>{"$.city: must have at least 2 characters"});
    CHECK(problems(R"({"city": "Oslo", "unit": "k"})") ==
          std::vector<std::string>{"$.unit: must be one of [\"c\",\"f\"], got \"k\""});
    CHECK(problems(R"({"city": "Oslo", "days": 0})") ==
          std::vector<std::string>{"$.days: must be >= 1, got 0"});
    CHECK(problems(R"({"city": "Oslo", "days": 2.5})") ==
          std::vector<std::string>{"$.days: expected integer, got number"});
    CHECK(problems(R"({"city": "Oslo", "tags": ["a", 3]})") ==
          std::vector<std::string>{"$.tags[1]: expected string, got integer"});
    CHECK(problems(R"({"city": "Oslo", "tags": ["a", "b", "c"]})") ==
          std::vector<std::string>{"$.tags: must have at most 2 items"});
    CHECK(problems(R"({"city": "Oslo", "when": 3})") ==
          std::vector<std::string>{"$.when: matches none of the allowed forms (anyOf)"});
    CHECK(problems(R"({"city": "Oslo", "extra": "x"})") ==
          std::vector<std::string>{"$.extra: expected number or boolean, got string"});
    CHECK(problems(R"({"city": "Oslo", "zip": 1})") ==
          std::vector<std::string>{"$: unknown property \"zip\""});
    CHECK(problems(R"([1])") == std::vector<std::string>{"$: expected object, got array"});
}

TEST_CASE("schema check: stops at the limit; an empty or odd schema constrains nothing") {
    CHECK(check_against_schema(Json::parse(R"({"a":1,"b":2,"c":3})"),
                               Json::parse(R"({"additionalProperties": false})"), 2)
              .size() == 2);
    CHECK(check_against_schema(Json::parse("[1,2]"), Json::object()).empty());
    CHECK(check_against_schema(Json::parse("1"), Json::parse(R"({"type": "mystery"})")).empty());
}
