#include "tools/browser/url.h"

#include <cctype>
#include <vector>

#include "harmony/utf8.h"

namespace gossamer::tools::browser::url {
namespace {

bool scheme_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Python's urlsplit cleaning: strip C0 controls and spaces at both ends, remove \t \r \n.
std::string clean(std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e && static_cast<unsigned char>(s[b]) <= 0x20) ++b;
    while (e > b && static_cast<unsigned char>(s[e - 1]) <= 0x20) --e;
    std::string out;
    for (char c : s.substr(b, e - b))
        if (c != '\t' && c != '\r' && c != '\n') out += c;
    return out;
}

// RFC 3986 5.2.4.
std::string remove_dot_segments(std::string_view path) {
    std::vector<std::string> out;
    const bool absolute = !path.empty() && path[0] == '/';
    std::size_t i = absolute ? 1 : 0;
    bool trailing_slash = false;
    while (i <= path.size()) {
        const std::size_t slash = path.find('/', i);
        const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
        const std::string_view seg = path.substr(i, end - i);
        const bool last = slash == std::string_view::npos;
        if (seg == ".") {
            trailing_slash = last;
        } else if (seg == "..") {
            if (!out.empty()) out.pop_back();
            trailing_slash = last;
        } else {
            out.emplace_back(seg);
            trailing_slash = false;
        }
        if (last) break;
        i = end + 1;
    }
    std::string result = absolute ? "/" : "";
    for (std::size_t k = 0; k < out.size(); ++k) {
        if (k) result += '/';
        result += out[k];
    }
    if (trailing_slash && !result.empty() && result.back() != '/') result += '/';
    return result;
}

std::string merge(const Parts& base, std::string_view rel_path) {
    std::string merged;
    if (base.has_authority && base.path.empty()) {
        merged = "/";
    } else if (const std::size_t slash = base.path.rfind('/'); slash != std::string::npos) {
        merged = base.path.substr(0, slash + 1);
    }
    merged.append(rel_path);
    return merged;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

Parts split(std::string_view raw) {
    Parts p;
    std::string_view s = raw;
    const std::size_t colon = s.find(':');
    if (colon != std::string_view::npos && colon > 0 &&
        std::isalpha(static_cast<unsigned char>(s[0]))) {
        bool ok = true;
        for (char c : s.substr(0, colon)) ok = ok && scheme_char(c);
        if (ok) {
            p.scheme = lower_ascii(s.substr(0, colon));
            s.remove_prefix(colon + 1);
        }
    }
    if (s.substr(0, 2) == "//") {
        s.remove_prefix(2);
        const std::size_t end = s.find_first_of("/?#");
        p.has_authority = true;
        p.authority = std::string(s.substr(0, end));
        s.remove_prefix(end == std::string_view::npos ? s.size() : end);
    }
    if (const std::size_t hash = s.find('#'); hash != std::string_view::npos) {
        p.has_fragment = true;
        p.fragment = std::string(s.substr(hash + 1));
        s = s.substr(0, hash);
    }
    if (const std::size_t q = s.find('?'); q != std::string_view::npos) {
        p.has_query = true;
        p.query = std::string(s.substr(q + 1));
        s = s.substr(0, q);
    }
    p.path = std::string(s);
    return p;
}

std::string unsplit(const Parts& p) {
    std::string out;
    if (!p.scheme.empty()) out += p.scheme + ":";
    if (p.has_authority) out += "//" + p.authority;
    out += p.path;
    if (p.has_query) out += "?" + p.query;
    if (p.has_fragment) out += "#" + p.fragment;
    return out;
}

std::string join(std::string_view base_text, std::string_view link_text) {
    const std::string link = clean(link_text);
    if (base_text.empty()) return link;
    if (link.empty()) return std::string(base_text);
    const Parts base = split(base_text);
    Parts rel = split(link);
    if (!rel.scheme.empty() && rel.scheme != base.scheme) return link;
    Parts t;
    t.scheme = base.scheme;
    if (rel.has_authority) {
        t.has_authority = true;
        t.authority = rel.authority;
        t.path = remove_dot_segments(rel.path);
        t.has_query = rel.has_query;
        t.query = rel.query;
    } else {
        t.has_authority = base.has_authority;
        t.authority = base.authority;
        if (rel.path.empty()) {
            t.path = base.path;
            t.has_query = rel.has_query || base.has_query;
            t.query = rel.has_query ? rel.query : base.query;
        } else {
            t.path = remove_dot_segments(rel.path[0] == '/' ? rel.path : merge(base, rel.path));
            t.has_query = rel.has_query;
            t.query = rel.query;
        }
    }
    t.has_fragment = rel.has_fragment;
    t.fragment = rel.fragment;
    return unsplit(t);
}

std::string domain(std::string_view u) {
    const Parts p = split(u);
    if (u.find("http") == std::string_view::npos && !(p.has_authority && !p.scheme.empty())) {
        std::string with_scheme = "http://";
        with_scheme.append(u);
        return split(with_scheme).authority;
    }
    return p.authority;
}

std::string host(std::string_view u) {
    std::string a = split(u).authority;
    if (const std::size_t at = a.rfind('@'); at != std::string::npos) a = a.substr(at + 1);
    if (!a.empty() && a[0] == '[') {
        const std::size_t close = a.find(']');
        return lower_ascii(a.substr(1, close == std::string::npos ? std::string::npos : close - 1));
    }
    if (const std::size_t colon = a.rfind(':'); colon != std::string::npos) a = a.substr(0, colon);
    return lower_ascii(a);
}

std::string quote(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || c == '/') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

std::string unquote(std::string_view text) {
    if (text.find('%') == std::string_view::npos) return std::string(text);
    std::string bytes;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
            if (hi >= 0 && lo >= 0) {
                bytes += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        bytes += text[i];
    }
    return harmony::utf8::to_valid_lossy(bytes);
}

std::string arxiv_to_ar5iv(std::string_view u) {
    std::string out;
    std::size_t i = 0;
    while (i < u.size()) {
        if (u.substr(i, 5) == "arxiv" && i + 8 < u.size() && u[i + 5] != '\n' &&
            u.substr(i + 6, 3) == "org") {
            out += "ar5iv.org";
            i += 9;
        } else {
            out += u[i++];
        }
    }
    return out;
}

}  // namespace gossamer::tools::browser::url
