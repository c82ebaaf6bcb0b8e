// Output sanitizer for model-bound text (sanitize.h).
#include "sandbox/sanitize.h"

#include <cstdint>

namespace gossamer::sandbox {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD
constexpr unsigned char kEsc = 0x1b;

// Length of a valid UTF-8 sequence at `s[i]`, or 0 when invalid (overlongs, surrogates and
// code points above U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char b0 = byte(0);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (b0 < 0x80) return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF)
        n = 2, cp = b0 & 0x1F;
    else if (b0 >= 0xE0 && b0 <= 0xEF)
        n = 3, cp = b0 & 0x0F;
    else if (b0 >= 0xF0 && b0 <= 0xF4)
        n = 4, cp = b0 & 0x07;
    else
        return 0;
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((byte(k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (byte(k) & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    return n;
}

// Where an escape sequence starting at s[i] == ESC ends (one past it). An unterminated
// string sequence removes only its introducer, so it cannot hide the rest of the output.
std::size_t escape_end(std::string_view s, std::size_t i) {
    if (i + 1 >= s.size()) return i + 1;
    const unsigned char kind = static_cast<unsigned char>(s[i + 1]);
    if (kind == '[') {  // CSI: parameters and intermediates, then one final byte
        std::size_t j = i + 2;
        while (j < s.size() && static_cast<unsigned char>(s[j]) >= 0x20 &&
               static_cast<unsigned char>(s[j]) <= 0x3F)
            ++j;
        while (j < s.size() && static_cast<unsigned char>(s[j]) >= 0x20 &&
               static_cast<unsigned char>(s[j]) <= 0x2F)
            ++j;
        if (j < s.size() && static_cast<unsigned char>(s[j]) >= 0x40 &&
            static_cast<unsigned char>(s[j]) <= 0x7E)
            return j + 1;
        return i + 2;
    }
    if (kind == ']' || kind == 'P' || kind == 'X' || kind == '^' || kind == '_') {
        for (std::size_t j = i + 2; j < s.size(); ++j) {
            if (s[j] == '\a' && kind == ']') return j + 1;
            if (static_cast<unsigned char>(s[j]) == kEsc && j + 1 < s.size() && s[j + 1] == '\\')
                return j + 2;
        }
        return i + 2;
    }
    if (kind >= 0x20 && kind <= 0x7E) return i + 2;  // two-byte sequences (ESC c, ESC 7, ...)
    return i + 1;
}

void append_escaped(std::string& out, unsigned char c) {
    constexpr char kHex[] = "0123456789abcdef";
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
}

}  // namespace

std::string sanitize_for_model(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == kEsc) {
            i = escape_end(s, i);
        } else if (c == '\r') {
            out += '\n';
            i += (i + 1 < s.size() && s[i + 1] == '\n') ? 2 : 1;
        } else if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7F)) {
            out += static_cast<char>(c);
            ++i;
        } else if (c < 0x20 || c == 0x7F) {
            append_escaped(out, c);
            ++i;
        } else if (const std::size_t n = utf8_length(s, i); n == 0) {
            out += kReplacement;
            ++i;
        } else {
            // C1 controls (U+0080..U+009F) are two-byte sequences C2 80..C2 9F: dropped
            if (!(n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) <= 0x9F))
                out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

}  // namespace gossamer::sandbox
