#include "harmony/utf8.h"

namespace gossamer::harmony::utf8 {

std::size_t decode(std::string_view s, std::size_t i, char32_t& cp) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
    std::size_t left = s.size() - i;
    unsigned char b0 = p[0];
    if (b0 < 0x80) return cp = b0, 1;
    // Lead byte -> (length, minimum value, bits of the lead byte); continuation bytes 10xxxxxx.
    std::size_t len = 0;
    char32_t value = 0, min = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF)
        len = 2, value = b0 & 0x1Fu, min = 0x80;
    else if (b0 >= 0xE0 && b0 <= 0xEF)
        len = 3, value = b0 & 0x0Fu, min = 0x800;
    else if (b0 >= 0xF0 && b0 <= 0xF4)
        len = 4, value = b0 & 0x07u, min = 0x10000;
    else
        return 0;
    if (left < len) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        if ((p[k] & 0xC0u) != 0x80u) return 0;
        value = (value << 6) | (p[k] & 0x3Fu);
    }
    if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
    cp = value;
    return len;
}

std::size_t valid_prefix(std::string_view s) {
    std::size_t i = 0;
    char32_t cp = 0;
    while (i < s.size()) {
        // Runs of ASCII are the common case: skip them without decoding.
        while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
        if (i == s.size()) break;
        std::size_t n = decode(s, i, cp);
        if (n == 0) return i;
        i += n;
    }
    return i;
}

namespace {

// Length of the maximal prefix of an invalid sequence at s[i] that could still start a valid
// character (the "maximal subpart" of Unicode 3.9 / WHATWG): it becomes one U+FFFD.
std::size_t invalid_length(std::string_view s, std::size_t i) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
    std::size_t left = s.size() - i;
    unsigned char b0 = p[0];
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF)
        len = 2;
    else if (b0 >= 0xE0 && b0 <= 0xEF)
        len = 3, lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
    else if (b0 >= 0xF0 && b0 <= 0xF4)
        len = 4, lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
    else
        return 1;
    std::size_t k = 1;
    if (k < left && p[k] >= lo && p[k] <= hi)
        ++k;
    else
        return 1;
    while (k < len && k < left && (p[k] & 0xC0u) == 0x80u) ++k;
    return k;
}

// Length of a valid-so-far but truncated sequence at the very end of s, or 0.
std::size_t incomplete_tail(std::string_view s) {
    for (std::size_t back = 1; back <= 3 && back <= s.size(); ++back) {
        std::size_t i = s.size() - back;
        auto b = static_cast<unsigned char>(s[i]);
        if ((b & 0xC0u) == 0x80u) continue;  // continuation byte: look further back
        std::size_t needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
        bool lead = b >= 0xC2 && b <= 0xF4;
        return lead && back < needed && invalid_length(s, i) == back ? back : 0;
    }
    return 0;
}

}  // namespace

std::string to_valid_lossy(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    char32_t cp = 0;
    while (i < s.size()) {
        std::size_t n = decode(s, i, cp);
        if (n > 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out.append(kReplacement);
            i += invalid_length(s, i);
        }
    }
    return out;
}

void append(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::string StreamDecoder::push(std::string_view bytes) {
    pending_.append(bytes);
    std::size_t keep = incomplete_tail(pending_);
    std::string out = to_valid_lossy(std::string_view(pending_).substr(0, pending_.size() - keep));
    pending_.erase(0, pending_.size() - keep);
    return out;
}

std::string StreamDecoder::flush() {
    std::string out = to_valid_lossy(pending_);
    pending_.clear();
    return out;
}

}  // namespace gossamer::harmony::utf8
