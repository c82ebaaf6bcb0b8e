// JSON Schema -> the TypeScript-like parameter types harmony shows the model in a tools
// section ("type f = (_: { x: string, }) => any;"), byte for byte as openai/harmony v0.0.8's
// json_schema_to_typescript. Pure text: it must not tokenize, validate schemas or reorder keys.
#pragma once

#include <string>
#include <string_view>

#include "harmony/message.h"

namespace gossamer::harmony {

// The type text of `schema`. `indent` prefixes the lines of nested objects (the caller passes
// "" at the top; each nesting level adds four spaces, as harmony does). Unsupported keywords
// (anyOf, allOf, $ref, const, ...) give `any`; never throws on any JSON value.
std::string schema_to_typescript(const Json& schema, std::string_view indent = "");

// A JSON value as serde_json's Display prints it (compact; floats in Rust's shortest form,
// e.g. 0.5, 100.0, 1e21, 1e-7). Default values in the type text are printed this way.
std::string to_serde_json_text(const Json& value);

}  // namespace gossamer::harmony
