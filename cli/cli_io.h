// Input and error helpers shared by the CLI subcommands: whole-stdin reading, strict JSON and
// UTF-8 checks with messages that say what was wrong and where. No command logic here.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "harmony/special_tokens.h"

namespace gossamer::cli {

// Bad input or usage: main() prints "gossamer <command>: <what>" and exits with 2.
struct InputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// All of stdin as bytes (binary-safe).
std::string read_stdin();
// Writes bytes to stdout exactly, and flushes; throws on a write error.
void write_stdout(std::string_view bytes);

// Throws InputError naming the byte offset of the first invalid sequence.
void require_utf8(std::string_view text, std::string_view what);
// Parses JSON (insertion order kept); throws InputError with the parser's position message.
nlohmann::ordered_json parse_json(std::string_view text, std::string_view what);
// A JSON array of token ids, each an integer in [0, kVocabSize); throws InputError naming
// the index and value of the first bad element.
std::vector<harmony::Token> parse_token_array(const nlohmann::ordered_json& value,
                                              std::string_view what);
// Rejects any argument not in `allowed` (e.g. {"--ordinary"}); "-h"/"--help" is left to callers.
void require_known_flags(std::span<const std::string_view> args,
                         std::initializer_list<std::string_view> allowed);

}  // namespace gossamer::cli
