#include "harmony/special_tokens.h"

#include <array>
#include <charconv>

namespace gossamer::harmony {
namespace {

struct Named {
    Token id;
    std::string_view name;
};

// Names from openai/harmony public_encodings.rs; every other id in range is reserved
// (harmony calls 200018 <|reserved_200018|>, tiktoken calls it <|endofprompt|>).
constexpr std::array<Named, 9> kNamed = {{
    {199998, "<|startoftext|>"},
    {199999, "<|endoftext|>"},
    {200002, "<|return|>"},
    {200003, "<|constrain|>"},
    {200005, "<|channel|>"},
    {200006, "<|start|>"},
    {200007, "<|end|>"},
    {200008, "<|message|>"},
    {200012, "<|call|>"},
}};

constexpr std::string_view kReservedPrefix = "<|reserved_";
constexpr std::string_view kSuffix = "|>";

}  // namespace

std::optional<std::string> special_token_name(Token t) {
    if (!is_special(t)) return std::nullopt;
    for (const auto& n : kNamed)
        if (n.id == t) return std::string(n.name);
    return std::string(kReservedPrefix) + std::to_string(t) + std::string(kSuffix);
}

std::optional<Token> special_token_id(std::string_view text) {
    for (const auto& n : kNamed)
        if (n.name == text) return n.id;
    if (!text.starts_with(kReservedPrefix) || !text.ends_with(kSuffix)) return std::nullopt;
    std::string_view digits = text.substr(kReservedPrefix.size());
    digits.remove_suffix(kSuffix.size());
    Token id = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.starts_with('0'))
        return std::nullopt;
    // Only ids that really are reserved: the named ones above have their own text.
    auto name = special_token_name(id);
    if (!name || *name != text) return std::nullopt;
    return id;
}

}  // namespace gossamer::harmony
