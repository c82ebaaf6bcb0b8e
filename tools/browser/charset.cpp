#include "tools/browser/charset.h"

#include <iconv.h>

#include <cctype>
#include <cerrno>

#include "harmony/utf8.h"

namespace gossamer::tools::browser {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string trim_label(std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e && (std::isspace(static_cast<unsigned char>(s[b])) || s[b] == '"' || s[b] == '\''))
        ++b;
    while (e > b && (std::isspace(static_cast<unsigned char>(s[e - 1])) || s[e - 1] == '"' ||
                     s[e - 1] == '\''))
        --e;
    return lower(s.substr(b, e - b));
}

// The value after "charset=" in `text` (a Content-Type value or a meta's attributes).
std::string after_charset(std::string_view text) {
    const std::string l = lower(text);
    const std::size_t at = l.find("charset");
    if (at == std::string::npos) return "";
    std::size_t i = at + 7;
    while (i < l.size() && std::isspace(static_cast<unsigned char>(l[i]))) ++i;
    if (i >= l.size() || l[i] != '=') return "";
    ++i;
    while (i < l.size() &&
           (std::isspace(static_cast<unsigned char>(l[i])) || l[i] == '"' || l[i] == '\''))
        ++i;
    std::size_t e = i;
    while (e < l.size() && (std::isalnum(static_cast<unsigned char>(l[e])) || l[e] == '-' ||
                            l[e] == '_' || l[e] == ':' || l[e] == '.'))
        ++e;
    return l.substr(i, e - i);
}

bool bom(std::string_view bytes, std::string& charset, std::size_t& skip) {
    if (bytes.starts_with("\xEF\xBB\xBF")) return charset = "UTF-8", skip = 3, true;
    if (bytes.starts_with("\xFF\xFE")) return charset = "UTF-16LE", skip = 2, true;
    if (bytes.starts_with("\xFE\xFF")) return charset = "UTF-16BE", skip = 2, true;
    return false;
}

}  // namespace

std::string charset_parameter(std::string_view content_type) {
    return after_charset(content_type);
}

std::string meta_charset(std::string_view html) {
    const std::string head = lower(html.substr(0, 1024));
    for (std::size_t at = head.find("<meta"); at != std::string::npos;
         at = head.find("<meta", at + 5)) {
        const std::size_t end = head.find('>', at);
        const std::string tag =
            head.substr(at, end == std::string::npos ? std::string::npos : end - at);
        if (std::string cs = after_charset(tag); !cs.empty()) return cs;
    }
    return "";
}

std::string canonical_charset(std::string_view label) {
    const std::string l = trim_label(label);
    if (l.empty()) return "";
    if (l == "utf8" || l == "utf-8" || l == "unicode-1-1-utf-8") return "UTF-8";
    if (l == "latin1" || l == "iso-8859-1" || l == "iso8859-1" || l == "l1" || l == "ascii" ||
        l == "us-ascii" || l == "iso_8859-1" || l == "cp1252" || l == "windows-1252" ||
        l == "x-cp1252" || l == "cp819" || l == "ibm819")
        return "WINDOWS-1252";
    if (l == "x-sjis" || l == "shift-jis") return "SHIFT_JIS";
    if (l == "gb2312" || l == "gbk" || l == "x-gbk") return "GBK";
    return l;
}

std::string convert_to_utf8(std::string_view bytes, std::string_view charset) {
    const std::string name = canonical_charset(charset);
    if (name.empty() || name == "UTF-8") return harmony::utf8::to_valid_lossy(bytes);
    iconv_t cd = iconv_open("UTF-8", name.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) return harmony::utf8::to_valid_lossy(bytes);
    std::string out;
    std::string in(bytes);
    char* in_ptr = in.data();
    std::size_t in_left = in.size();
    char buffer[4096];
    while (in_left > 0) {
        char* out_ptr = buffer;
        std::size_t out_left = sizeof buffer;
        const std::size_t r = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
        out.append(buffer, static_cast<std::size_t>(out_ptr - buffer));
        if (r != static_cast<std::size_t>(-1)) continue;
        if (errno == E2BIG) continue;
        out += harmony::utf8::kReplacement;  // EILSEQ: a bad byte; EINVAL: cut off at the end
        if (errno == EINVAL) break;
        ++in_ptr;
        --in_left;
    }
    iconv_close(cd);
    return out;
}

std::string decode_body(std::string_view bytes, std::string_view content_type, bool is_html) {
    std::string charset;
    std::size_t skip = 0;
    if (!bom(bytes, charset, skip)) {
        charset = charset_parameter(content_type);
        if (charset.empty() && is_html) charset = meta_charset(bytes);
        if (charset.empty()) charset = harmony::utf8::is_valid(bytes) ? "UTF-8" : "windows-1252";
    }
    return convert_to_utf8(bytes.substr(skip), charset);
}

}  // namespace gossamer::tools::browser
