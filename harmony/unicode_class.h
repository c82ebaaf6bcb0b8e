// Code point classes for the o200k pre-tokenizer regex: the Unicode general categories it
// names (L*, M, N) and White_Space, from the generated table in unicode_tables.inc
// (Unicode 16.0, as tiktoken sees it). Lookup only; the regex logic is in pretokenizer.cpp.
#pragma once

#include <cstdint>

namespace gossamer::harmony {

// One class per code point. CR and LF get their own class because the regex treats them
// apart from other whitespace ([^\r\n\p{L}\p{N}], [\r\n]+).
enum class CodePointClass : std::uint8_t {
    other = 0,         // punctuation, symbols, controls, unassigned, invalid bytes
    upper = 1,         // Lu, Lt
    lower = 2,         // Ll
    letter_other = 3,  // Lm, Lo
    mark = 4,          // Mn, Mc, Me
    number = 5,        // Nd, Nl, No
    space = 6,         // White_Space other than CR and LF
    crlf = 7,          // '\r', '\n'
};

CodePointClass classify(char32_t cp);
const char* unicode_version();

}  // namespace gossamer::harmony
