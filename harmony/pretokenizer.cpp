#include "harmony/pretokenizer.h"

#include <array>
#include <cstdint>

#include "harmony/unicode_class.h"
#include "harmony/utf8.h"

namespace gossamer::harmony {
namespace {

using Mask = std::uint32_t;
constexpr Mask bit(CodePointClass c) {
    return Mask{1} << static_cast<unsigned>(c);
}

constexpr Mask kUpper = bit(CodePointClass::upper), kLower = bit(CodePointClass::lower),
               kLetterOther = bit(CodePointClass::letter_other), kMark = bit(CodePointClass::mark),
               kNumber = bit(CodePointClass::number), kSpace = bit(CodePointClass::space),
               kCrLf = bit(CodePointClass::crlf), kOther = bit(CodePointClass::other);
// The character sets of the regex, as masks of classes.
constexpr Mask kUpperish = kUpper | kLetterOther | kMark;  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
constexpr Mask kLowerish = kLower | kLetterOther | kMark;  // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
constexpr Mask kPrefix = kOther | kMark | kSpace;          // [^\r\n\p{L}\p{N}]
constexpr Mask kPunct = kOther | kMark;                    // [^\s\p{L}\p{N}]
constexpr Mask kWhite = kSpace | kCrLf;                    // \s

constexpr std::array<std::uint8_t, 128> make_ascii_masks() {
    std::array<std::uint8_t, 128> m{};
    for (int c = 0; c < 128; ++c) {
        CodePointClass cls = CodePointClass::other;
        if (c >= 'A' && c <= 'Z')
            cls = CodePointClass::upper;
        else if (c >= 'a' && c <= 'z')
            cls = CodePointClass::lower;
        else if (c >= '0' && c <= '9')
            cls = CodePointClass::number;
        else if (c == '\r' || c == '\n')
            cls = CodePointClass::crlf;
        else if (c == ' ' || (c >= 0x09 && c <= 0x0D))
            cls = CodePointClass::space;
        m[c] = static_cast<std::uint8_t>(bit(cls));
    }
    return m;
}
constexpr auto kAsciiMask = make_ascii_masks();

// A cursor over the text that yields (class mask, byte length) per character.
struct Scanner {
    std::string_view text;

    struct Char {
        Mask mask;
        std::size_t len;
    };

    Char at(std::size_t i) const {
        auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) return {kAsciiMask[b], 1};
        char32_t cp = 0;
        std::size_t n = utf8::decode(text, i, cp);
        if (n == 0) return {kOther, 1};  // an invalid byte stands alone, like punctuation
        return {bit(classify(cp)), n};
    }
    // Mask at i, or 0 past the end.
    Mask mask_at(std::size_t i) const { return i < text.size() ? at(i).mask : 0; }

    // End of the run of characters in `set` starting at i.
    std::size_t run(std::size_t i, Mask set) const {
        while (i < text.size()) {
            Char c = at(i);
            if (!(c.mask & set)) break;
            i += c.len;
        }
        return i;
    }

    // [Upperish]*[Lowerish]+ at j with the regex's backtracking: when the greedy upper run is
    // not followed by a lowerish character, it gives back up to its last lowerish character
    // (Lm, Lo and M are in both sets). Returns 0 on no match (a match never ends at 0).
    std::size_t upper_star_lower_plus(std::size_t j) const {
        std::size_t k = j, last_lowerish_end = 0;
        while (k < text.size()) {
            Char c = at(k);
            if (!(c.mask & kUpperish)) break;
            k += c.len;
            if (c.mask & kLowerish) last_lowerish_end = k;
        }
        if (mask_at(k) & kLowerish) return run(k, kLowerish);
        return last_lowerish_end;
    }

    // (?i:'s|'t|'re|'ve|'m|'ll|'d)? after a letter run ending at e. Case folding also maps
    // U+017F (long s) to s, as the regex crate's Unicode case-insensitivity does.
    std::size_t contraction(std::size_t e) const {
        if (e + 1 >= text.size() || text[e] != '\'') return e;
        auto lower = [&](std::size_t i) { return static_cast<char>(text[i] | 0x20); };
        char c = lower(e + 1);
        if (c == 's' || c == 't' || c == 'm' || c == 'd') return e + 2;
        if (text.substr(e + 1, 2) == "\xC5\xBF") return e + 3;  // 'ſ
        if (e + 2 >= text.size()) return e;
        char c2 = lower(e + 2);
        if ((c == 'r' && c2 == 'e') || (c == 'v' && c2 == 'e') || (c == 'l' && c2 == 'l'))
            return e + 3;
        return e;
    }

    // Alternatives 5-7 at a whitespace character.
    std::size_t whitespace(std::size_t i) const {
        std::size_t k = i, last_start = i, last_crlf_end = 0;
        while (k < text.size()) {
            Char c = at(k);
            if (!(c.mask & kWhite)) break;
            last_start = k;
            k += c.len;
            if (c.mask & kCrLf) last_crlf_end = k;
        }
        if (last_crlf_end) return last_crlf_end;  // 5: \s*[\r\n]+ ends after the last CR/LF
        if (k == text.size()) return k;           // 6: \s+ at the end of the text
        if (last_start > i) return last_start;    // 6: \s+(?!\S) leaves one for the next word
        return k;                                 // 7: a single \s before non-space
    }
};

}  // namespace

std::size_t next_piece_end(std::string_view text, std::size_t pos) {
    Scanner s{text};
    Scanner::Char c0 = s.at(pos);
    std::size_t after = pos + c0.len;
    // 1: optional prefix, [Upperish]*[Lowerish]+, contraction.
    if (c0.mask & kPrefix)
        if (std::size_t e = s.upper_star_lower_plus(after)) return s.contraction(e);
    if (c0.mask & (kUpperish | kLowerish))
        if (std::size_t e = s.upper_star_lower_plus(pos)) return s.contraction(e);
    // 2: optional prefix, [Upperish]+[Lowerish]*, contraction.
    if ((c0.mask & kPrefix) && (s.mask_at(after) & kUpperish))
        return s.contraction(s.run(s.run(after, kUpperish), kLowerish));
    if (c0.mask & kUpperish) return s.contraction(s.run(s.run(pos, kUpperish), kLowerish));
    // 3: one to three numbers.
    if (c0.mask & kNumber) {
        std::size_t e = after;
        for (int n = 1; n < 3 && (s.mask_at(e) & kNumber); ++n) e += s.at(e).len;
        return e;
    }
    // 4: optional space, punctuation run, then CR/LF/slash run.
    bool space_then_punct = text[pos] == ' ' && (s.mask_at(after) & kPunct);
    if (space_then_punct || (c0.mask & kPunct)) {
        std::size_t e = s.run(space_then_punct ? after : pos, kPunct);
        while (e < text.size() && (text[e] == '\r' || text[e] == '\n' || text[e] == '/')) ++e;
        return e;
    }
    // 5-7: whitespace (every character is in one of the classes above or is whitespace).
    return s.whitespace(pos);
}

}  // namespace gossamer::harmony
