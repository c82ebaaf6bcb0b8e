// UTF-8 helpers shared by the tokenizer, the parser and the CLI: validation, code point
// decoding and the streaming decoder for token-by-token output. No allocation policy, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gossamer::harmony::utf8 {

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Decodes one code point at s[i]. On success returns its length (1..4) and sets cp; on an
// invalid or truncated sequence returns 0 (the caller treats s[i] as one invalid byte).
// Overlong forms, surrogates and values above U+10FFFF are invalid, as in Rust's str.
std::size_t decode(std::string_view s, std::size_t i, char32_t& cp);

// Length of the longest valid UTF-8 prefix of s.
std::size_t valid_prefix(std::string_view s);
inline bool is_valid(std::string_view s) {
    return valid_prefix(s) == s.size();
}

// s with every maximal invalid subsequence replaced by U+FFFD (WHATWG / Rust lossy rules).
std::string to_valid_lossy(std::string_view s);

void append(std::string& out, char32_t cp);

// Incremental decoding of a token stream: bytes of a character split across tokens are held
// back until complete; invalid sequences become U+FFFD and never leak into later output.
class StreamDecoder {
  public:
    // Returns the text that became complete with these bytes (possibly empty).
    std::string push(std::string_view bytes);
    // End of stream: a held-back incomplete sequence becomes U+FFFD.
    std::string flush();
    bool has_pending() const { return !pending_.empty(); }

  private:
    std::string pending_;
};

}  // namespace gossamer::harmony::utf8
