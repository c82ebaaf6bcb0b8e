#include "tools/browser/citations.h"

#include "tools/browser/py_text.h"
#include "tools/browser/str_cat.h"
#include "tools/browser/url.h"

namespace gossamer::tools::browser {
namespace {

constexpr std::string_view kOpen = "【";
constexpr std::string_view kClose = "】";
constexpr std::string_view kDagger = "†";

bool at(std::string_view s, std::size_t i, std::string_view what) {
    return s.substr(i, what.size()) == what;
}
std::size_t skip_plain(std::string_view s, std::size_t i) {
    while (i < s.size() && !at(s, i, kDagger) && !at(s, i, kClose)) ++i;
    return i;
}
// \d: Unicode decimal digits.
std::size_t skip_digits(std::string_view s, std::size_t i) {
    while (i < s.size()) {
        const std::size_t n = py::byte_offset(s.substr(i), 1);
        const std::u32string c = py::to_u32(s.substr(i, n));
        if (c.empty() || !py::is_digit(c[0])) break;
        i += n;
    }
    return i;
}

// CITATION_OUTPUT_PATTERN 【(?P<cursor>\d+)†(?P<content>[^†】]+)(?:†[^†】]+)?】 at i.
bool match_citation(std::string_view s, std::size_t i, std::size_t& end, std::string_view& cursor) {
    if (!at(s, i, kOpen)) return false;
    const std::size_t d = i + kOpen.size();
    std::size_t j = skip_digits(s, d);
    if (j == d || !at(s, j, kDagger)) return false;
    cursor = s.substr(d, j - d);
    const std::size_t c = j + kDagger.size();
    j = skip_plain(s, c);
    if (j == c) return false;
    if (at(s, j, kDagger)) {
        const std::size_t e = j + kDagger.size();
        j = skip_plain(s, e);
        if (j == e) return false;
    }
    if (!at(s, j, kClose)) return false;
    end = j + kClose.size();
    return true;
}

// unquote(url).split("/")[2], or the URL when it has fewer parts.
std::string citation_domain(const std::string& u) {
    const std::string plain = url::unquote(u);
    std::size_t start = 0;
    for (int part = 0; part < 2; ++part) {
        start = plain.find('/', start);
        if (start == std::string::npos) return u;
        ++start;
    }
    return plain.substr(start, plain.find('/', start) - start);
}

const std::string* url_for(std::string_view cursor, const std::vector<std::string>& urls) {
    for (std::size_t i = 0; i < urls.size(); ++i)
        if (cursor == std::to_string(i)) return urls[i].empty() ? nullptr : &urls[i];
    return nullptr;
}

}  // namespace

std::size_t partial_mark_start(std::string_view s) {
    for (std::size_t i = s.find(kOpen); i != std::string_view::npos; i = s.find(kOpen, i + 1)) {
        auto ends_here = [&](std::size_t j) {
            return j == s.size() || (j + 1 == s.size() && s[j] == '\n');
        };
        std::size_t j = skip_digits(s, i + kOpen.size());
        if (ends_here(j)) return i;
        if (!at(s, j, kDagger)) continue;
        j = skip_plain(s, j + kDagger.size());
        if (ends_here(j)) return i;
        if (!at(s, j, kDagger)) continue;
        if (ends_here(skip_plain(s, j + kDagger.size()))) return i;
    }
    return std::string_view::npos;
}

CitedText normalize_citations(std::string_view input, const std::vector<std::string>& cursor_urls,
                              bool hide_partial) {
    CitedText out;
    std::string text(input);
    const std::size_t partial = partial_mark_start(text);
    out.has_partial = partial != std::string::npos;
    if (hide_partial && out.has_partial) {
        const bool keep_newline =
            text.back() == '\n' && text.find(kDagger, partial) == std::string::npos;
        text.erase(partial, text.size() - partial - (keep_newline ? 1 : 0));
    }
    for (std::size_t i = 0; i < text.size();) {
        std::size_t end = 0;
        std::string_view cursor;
        const std::string* u = nullptr;
        if (match_citation(text, i, end, cursor) && (u = url_for(cursor, cursor_urls))) {
            UrlCitation c;
            c.title = citation_domain(*u);
            c.url = *u;
            const std::string replacement = cat({" ([", c.title, "](", *u, ")) "});
            c.start_byte = out.text.size();
            c.end_byte = c.start_byte + replacement.size();
            c.start_index = py::length(out.text);
            c.end_index = c.start_index + py::length(replacement);
            out.text += replacement;
            out.citations.push_back(std::move(c));
            i = end;
        } else {
            out.text += text[i++];
        }
    }
    return out;
}

CitedText CitationStream::emit(std::string_view stable) {
    CitedText out = normalize_citations(stable, cursor_urls_);
    for (UrlCitation& c : out.citations) {
        c.start_index += emitted_chars_;
        c.end_index += emitted_chars_;
        c.start_byte += emitted_bytes_;
        c.end_byte += emitted_bytes_;
    }
    emitted_chars_ += py::length(out.text);
    emitted_bytes_ += out.text.size();
    return out;
}

CitedText CitationStream::push(std::string_view delta) {
    pending_ += delta;
    std::size_t cut = partial_mark_start(pending_);
    if (cut == std::string::npos) cut = pending_.size();
    const std::string stable = pending_.substr(0, cut);
    pending_.erase(0, cut);
    CitedText out = emit(stable);
    out.has_partial = !pending_.empty();
    return out;
}

CitedText CitationStream::finish() {
    const std::string rest = std::move(pending_);
    pending_.clear();
    return emit(rest);
}

}  // namespace gossamer::tools::browser
