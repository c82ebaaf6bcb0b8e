// Checks tool-call arguments against the JSON Schema a tool declared, before the tool runs,
// so the model gets a precise error ("$.path: expected integer, got string") instead of a
// tool crashing on bad input. Covers the schema subset tools use: type (incl. unions and
// integer), properties, required, additionalProperties (bool or schema), items, enum, const,
// minimum/maximum, minLength/maxLength, minItems/maxItems, anyOf/oneOf. It must not fetch
// $refs or guess: an unsupported keyword is ignored (documented), never an error.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gossamer::tools {

// The problems found, at most `limit`, each "$.a.b[2]: what is wrong". Empty when valid.
std::vector<std::string> check_against_schema(const nlohmann::ordered_json& value,
                                              const nlohmann::ordered_json& schema,
                                              std::size_t limit = 5);

}  // namespace gossamer::tools
