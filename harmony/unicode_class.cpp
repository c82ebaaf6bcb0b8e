#include "harmony/unicode_class.h"

namespace gossamer::harmony {
namespace {
#include "harmony/unicode_tables.inc"
}  // namespace

CodePointClass classify(char32_t cp) {
    if (cp == '\r' || cp == '\n') return CodePointClass::crlf;
    if (cp > 0x10FFFF) return CodePointClass::other;
    unsigned block = kClassStage1[cp >> 8];
    return static_cast<CodePointClass>(kClassStage2[block * 256 + (cp & 0xFF)]);
}

const char* unicode_version() {
    return kUnicodeVersion;
}

}  // namespace gossamer::harmony
