// A fetched body as UTF-8: the charset comes from a byte-order mark, else the Content-Type
// header, else a <meta charset> / <meta http-equiv="Content-Type"> in the first 1024 bytes
// of HTML, else UTF-8 when the bytes are valid UTF-8, else windows-1252. Labels follow the
// WHATWG encoding standard where it matters (latin1 / iso-8859-1 / ascii mean windows-1252).
// Conversion is glibc iconv; undecodable bytes become U+FFFD. No network, no HTML parsing.
#pragma once

#include <string>
#include <string_view>

namespace gossamer::tools::browser {

// The charset parameter of a Content-Type value, lower-cased ("" when absent).
std::string charset_parameter(std::string_view content_type);
// The charset a <meta> declares in the first 1024 bytes ("" when none).
std::string meta_charset(std::string_view html);
// The iconv name for a label ("windows-1252" for "latin1", "UTF-8" for "utf8"...).
std::string canonical_charset(std::string_view label);

// `bytes` in `charset` (an iconv name or label) to UTF-8; an unknown charset is read as
// UTF-8 with invalid bytes replaced.
std::string convert_to_utf8(std::string_view bytes, std::string_view charset);
// The whole rule above.
std::string decode_body(std::string_view bytes, std::string_view content_type, bool is_html);

}  // namespace gossamer::tools::browser
