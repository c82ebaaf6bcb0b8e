#include "cli/cli_io.h"

#include <cstdio>
#include <iostream>
#include <iterator>

#include "harmony/utf8.h"

namespace gossamer::cli {

std::string read_stdin() {
    std::string data;
    char buffer[1 << 16];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), stdin)) > 0) data.append(buffer, n);
    if (std::ferror(stdin)) throw std::runtime_error("error reading standard input");
    return data;
}

void write_stdout(std::string_view bytes) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() ||
        std::fflush(stdout) != 0)
        throw std::runtime_error("error writing standard output");
}

void require_utf8(std::string_view text, std::string_view what) {
    std::size_t ok = harmony::utf8::valid_prefix(text);
    if (ok != text.size())
        throw InputError(std::string(what) + " is not valid UTF-8 (first invalid byte at offset " +
                         std::to_string(ok) + ")");
}

nlohmann::ordered_json parse_json(std::string_view text, std::string_view what) {
    require_utf8(text, what);
    try {
        return nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw InputError(std::string(what) + " is not valid JSON: " + e.what());
    }
}

std::vector<harmony::Token> parse_token_array(const nlohmann::ordered_json& value,
                                              std::string_view what) {
    if (!value.is_array())
        throw InputError(std::string(what) + " must be a JSON array of token ids, got " +
                         value.type_name());
    std::vector<harmony::Token> ids;
    ids.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto& v = value[i];
        bool in_range = v.is_number_integer() && !v.is_number_float() &&
                        (v.is_number_unsigned() ? v.get<std::uint64_t>() < harmony::kVocabSize
                                                : v.get<std::int64_t>() >= 0 &&
                                                      v.get<std::int64_t>() < harmony::kVocabSize);
        if (!in_range)
            throw InputError(std::string(what) + ": element " + std::to_string(i) + " (" +
                             v.dump() + ") is not a token id in [0, " +
                             std::to_string(harmony::kVocabSize) + ")");
        ids.push_back(static_cast<harmony::Token>(v.get<std::uint64_t>()));
    }
    return ids;
}

void require_known_flags(std::span<const std::string_view> args,
                         std::initializer_list<std::string_view> allowed) {
    for (auto arg : args) {
        bool known = false;
        for (auto a : allowed) known = known || a == arg;
        if (!known) throw InputError("unknown argument '" + std::string(arg) + "'");
    }
}

}  // namespace gossamer::cli
