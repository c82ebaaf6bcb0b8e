// The few Python `str` semantics the browser's output depends on, for byte-for-byte
// agreement with gpt-oss's simple_browser: code points (len() and slicing count them), the
// character classes of Python's `re` (\s, \w, \d), str.lower() and str.strip(). Pure
// functions on UTF-8; they must not know about pages, HTML or the network.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gossamer::tools::browser::py {

// UTF-8 <-> code points. Invalid bytes become U+FFFD (the browser only sees valid text).
std::u32string to_u32(std::string_view utf8);
std::string to_utf8(std::u32string_view text);

// len(text): the number of code points.
std::size_t length(std::string_view utf8);
// The byte offset of code point `n` (the size when the text is shorter).
std::size_t byte_offset(std::string_view utf8, std::size_t n);

// str.isspace() / re's \s for str patterns.
bool is_space(char32_t c);
// re's \d: Unicode decimal digits (Nd).
bool is_digit(char32_t c);
// re's \w: letters, numbers and the underscore.
bool is_word(char32_t c);
// The ASCII whitespace textwrap splits on: "\t\n\x0b\x0c\r ".
bool is_ascii_space(char32_t c);

// str.lower() (simple case mapping).
std::u32string lower(std::u32string_view text);
std::string lower(std::string_view utf8);
// str.strip() with no argument (Unicode whitespace).
std::string strip(std::string_view utf8);
// re.sub(r"\s+", " ", text).
std::string collapse_space(std::string_view utf8);

// backend.maybe_truncate: longer than `n` code points -> the first n-3 and "...".
std::string truncate(std::string_view utf8, std::size_t n = 1024);

// repr() of a str (single quotes unless the text has ' and no ").
std::string repr(std::string_view utf8);
// json.dumps({"error": text}) with Python's separators and ensure_ascii.
std::string json_error(std::string_view utf8);

}  // namespace gossamer::tools::browser::py
