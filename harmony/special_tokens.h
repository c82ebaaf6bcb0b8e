// The o200k_harmony special tokens: ids, names and the stop sets.
// Pure constants; it must not depend on the rank file or any other state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gossamer::harmony {

using Token = std::uint32_t;

namespace tok {
inline constexpr Token kStartOfText = 199998;  // <|startoftext|>, never rendered
inline constexpr Token kEndOfText = 199999;    // <|endoftext|>
inline constexpr Token kReturn = 200002;     // <|return|>: end of a final answer (decode-time stop)
inline constexpr Token kConstrain = 200003;  // <|constrain|>: starts a content type such as json
inline constexpr Token kChannel = 200005;    // <|channel|>
inline constexpr Token kStart = 200006;      // <|start|>: begins a message header
inline constexpr Token kEnd = 200007;        // <|end|>: ends a message
inline constexpr Token kMessage = 200008;    // <|message|>: ends the header
inline constexpr Token kCall = 200012;       // <|call|>: ends a call to a tool (decode-time stop)
}  // namespace tok

inline constexpr Token kFirstSpecial = 199998;
inline constexpr Token kLastSpecial = 201088;  // inclusive, as in openai/harmony
inline constexpr Token kNumMergeableRanks = 199998;
inline constexpr Token kVocabSize = kLastSpecial + 1;  // 201089 ids; the model has 201088 rows

inline constexpr bool is_special(Token t) {
    return t >= kFirstSpecial && t <= kLastSpecial;
}

// Ends of a message for the parser: <|return|>, <|call|>, <|end|>.
inline constexpr bool is_message_stop(Token t) {
    return t == tok::kReturn || t == tok::kCall || t == tok::kEnd;
}
// Stops for sampling: <|return|> and <|call|> only (the model continues after <|end|>).
inline constexpr bool is_action_stop(Token t) {
    return t == tok::kReturn || t == tok::kCall;
}

// "<|start|>" for 200006, "<|reserved_200013|>" for reserved ids; nullopt when not special.
std::optional<std::string> special_token_name(Token t);
// The id of a special token's text ("<|call|>" -> 200012); nullopt when not one.
std::optional<Token> special_token_id(std::string_view text);

}  // namespace gossamer::harmony
