// The o200k pre-tokenizer: splits text into the pieces that byte-pair merging works on,
// exactly as tiktoken's regex (leftmost-first alternation, Unicode classes, `\s+(?!\S)`,
// case-insensitive contractions), hand-written because std::regex cannot express it and a
// regex engine would be the bottleneck. It knows nothing of ranks or special tokens.
//
// The regex (o200k_base and o200k_harmony), alternatives tried in order at each position:
//   1
//   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//   2
//   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//   3 \p{N}{1,3}
//   4  ?[^\s\p{L}\p{N}]+[\r\n/]*
//   5 \s*[\r\n]+
//   6 \s+(?!\S)
//   7 \s+
#pragma once

#include <cstddef>
#include <string_view>

namespace gossamer::harmony {

// End (exclusive byte offset) of the piece that starts at `pos` (< text.size()); always > pos.
// Invalid UTF-8 bytes are single characters of class "other" (like punctuation).
std::size_t next_piece_end(std::string_view text, std::size_t pos);

// Calls f(piece) for every piece of text, in order.
template <class F>
void for_each_piece(std::string_view text, F&& f) {
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = next_piece_end(text, pos);
        f(text.substr(pos, end - pos));
        pos = end;
    }
}

}  // namespace gossamer::harmony
