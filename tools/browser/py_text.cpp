#include "tools/browser/py_text.h"

#include <locale.h>
#include <wctype.h>

#include <cstdio>

#include "harmony/unicode_class.h"
#include "harmony/utf8.h"

namespace gossamer::tools::browser::py {
namespace {

using harmony::CodePointClass;

// Numbers that are not decimal digits (No, Nl): superscripts, fractions, roman numerals,
// circled numbers. re's \d does not match them; everything else of class N does.
bool is_non_decimal_number(char32_t c) {
    return c == 0xB2 || c == 0xB3 || c == 0xB9 || (c >= 0xBC && c <= 0xBE) ||
           (c >= 0x2070 && c <= 0x209F) || (c >= 0x2150 && c <= 0x218F) ||
           (c >= 0x2460 && c <= 0x24FF) || (c >= 0x2776 && c <= 0x2793) ||
           (c >= 0x3021 && c <= 0x3029) || (c >= 0x3192 && c <= 0x3195) ||
           (c >= 0x3220 && c <= 0x3229) || (c >= 0x3248 && c <= 0x325F) ||
           (c >= 0x3280 && c <= 0x3289) || (c >= 0x32B1 && c <= 0x32BF);
}

// Code points repr() escapes besides the C0/C1 controls: separators other than the space
// and the common format characters (Python's str.isprintable() is false for them).
bool is_unprintable(char32_t c) {
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return true;
    return c == 0xA0 || c == 0xAD || c == 0x1680 || (c >= 0x2000 && c <= 0x200F) ||
           (c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x2064) || c == 0x3000 ||
           c == 0xFEFF || (c >= 0xD800 && c <= 0xDFFF);
}

locale_t utf8_locale() {
    static const locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    return loc;
}

std::string hex_escape(const char* format, unsigned value) {
    char buf[16];
    std::snprintf(buf, sizeof buf, format, value);
    return buf;
}

}  // namespace

std::u32string to_u32(std::string_view utf8) {
    std::u32string out;
    out.reserve(utf8.size());
    for (std::size_t i = 0; i < utf8.size();) {
        char32_t cp = 0;
        const std::size_t n = harmony::utf8::decode(utf8, i, cp);
        if (n == 0) {
            out.push_back(0xFFFD);
            ++i;
        } else {
            out.push_back(cp);
            i += n;
        }
    }
    return out;
}

std::string to_utf8(std::u32string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char32_t c : text) harmony::utf8::append(out, c);
    return out;
}

std::size_t length(std::string_view utf8) {
    std::size_t n = 0;
    for (unsigned char c : utf8)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

std::size_t byte_offset(std::string_view utf8, std::size_t n) {
    std::size_t seen = 0;
    for (std::size_t i = 0; i < utf8.size(); ++i) {
        if ((static_cast<unsigned char>(utf8[i]) & 0xC0) == 0x80) continue;
        if (seen == n) return i;
        ++seen;
    }
    return utf8.size();
}

bool is_space(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_digit(char32_t c) {
    if (c < 0x80) return c >= '0' && c <= '9';
    return harmony::classify(c) == CodePointClass::number && !is_non_decimal_number(c);
}

bool is_word(char32_t c) {
    if (c < 0x80)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '_';
    switch (harmony::classify(c)) {
        case CodePointClass::upper:
        case CodePointClass::lower:
        case CodePointClass::letter_other:
        case CodePointClass::number:
            return true;
        case CodePointClass::other:
        case CodePointClass::mark:
        case CodePointClass::space:
        case CodePointClass::crlf:
            return false;
    }
    return false;
}

bool is_ascii_space(char32_t c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0D);
}

std::u32string lower(std::u32string_view text) {
    std::u32string out(text);
    const locale_t loc = utf8_locale();
    for (char32_t& c : out) {
        if (c < 0x80) {
            if (c >= 'A' && c <= 'Z') c = c - 'A' + 'a';
        } else if (loc != static_cast<locale_t>(0)) {
            c = static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), loc));
        }
    }
    return out;
}

std::string lower(std::string_view utf8) {
    return to_utf8(lower(to_u32(utf8)));
}

std::string strip(std::string_view utf8) {
    const std::u32string t = to_u32(utf8);
    std::size_t b = 0, e = t.size();
    while (b < e && is_space(t[b])) ++b;
    while (e > b && is_space(t[e - 1])) --e;
    return to_utf8(std::u32string_view(t).substr(b, e - b));
}

std::string collapse_space(std::string_view utf8) {
    const std::u32string t = to_u32(utf8);
    std::u32string out;
    out.reserve(t.size());
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (!is_space(t[i])) {
            out.push_back(t[i]);
            continue;
        }
        out.push_back(U' ');
        while (i + 1 < t.size() && is_space(t[i + 1])) ++i;
    }
    return to_utf8(out);
}

std::string truncate(std::string_view utf8, std::size_t n) {
    if (length(utf8) <= n) return std::string(utf8);
    return std::string(utf8.substr(0, byte_offset(utf8, n - 3))) + "...";
}

std::string repr(std::string_view utf8) {
    const std::u32string t = to_u32(utf8);
    const bool has_single = t.find(U'\'') != std::u32string::npos;
    const bool has_double = t.find(U'"') != std::u32string::npos;
    const char32_t quote = has_single && !has_double ? U'"' : U'\'';
    std::string out(1, static_cast<char>(quote));
    for (char32_t c : t) {
        if (c == U'\\' || c == quote) {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == U'\t') {
            out += "\\t";
        } else if (c == U'\n') {
            out += "\\n";
        } else if (c == U'\r') {
            out += "\\r";
        } else if (is_unprintable(c)) {
            out += c < 0x100 ? hex_escape("\\x%02x", c) : hex_escape("\\u%04x", c);
        } else {
            harmony::utf8::append(out, c);
        }
    }
    out += static_cast<char>(quote);
    return out;
}

std::string json_error(std::string_view utf8) {
    std::string out = "{\"error\": \"";
    for (char32_t c : to_u32(utf8)) {
        switch (c) {
            case U'"':
                out += "\\\"";
                break;
            case U'\\':
                out += "\\\\";
                break;
            case U'\n':
                out += "\\n";
                break;
            case U'\r':
                out += "\\r";
                break;
            case U'\t':
                out += "\\t";
                break;
            case U'\b':
                out += "\\b";
                break;
            case U'\f':
                out += "\\f";
                break;
            default:
                if (c >= 0x20 && c < 0x7F) {
                    out += static_cast<char>(c);
                } else if (c < 0x10000) {
                    out += hex_escape("\\u%04x", c);
                } else {
                    const char32_t v = c - 0x10000;
                    out += hex_escape("\\u%04x", 0xD800 + (v >> 10));
                    out += hex_escape("\\u%04x", 0xDC00 + (v & 0x3FF));
                }
        }
    }
    return out + "\"}";
}

}  // namespace gossamer::tools::browser::py
