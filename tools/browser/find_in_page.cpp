#include "tools/browser/find_in_page.h"

#include "tools/browser/line_wrap.h"
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

// [^†】]* from i; returns the end.
std::size_t skip_plain(std::string_view s, std::size_t i) {
    while (i < s.size() && !at(s, i, kDagger) && !at(s, i, kClose)) ++i;
    return i;
}

std::size_t skip_digits(std::string_view s, std::size_t i) {
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i;
}

// LINK_PATTERN 【\d+†(?P<content>[^†】]+)(?:†[^†】]+)?】 at i: the match end and content.
bool match_link(std::string_view s, std::size_t i, std::size_t& end, std::string_view& content) {
    if (!at(s, i, kOpen)) return false;
    std::size_t j = skip_digits(s, i + kOpen.size());
    if (j == i + kOpen.size() || !at(s, j, kDagger)) return false;
    const std::size_t c = j + kDagger.size();
    j = skip_plain(s, c);
    if (j == c) return false;
    content = s.substr(c, j - c);
    if (at(s, j, kDagger)) {
        const std::size_t d = j + kDagger.size();
        j = skip_plain(s, d);
        if (j == d) return false;
    }
    if (!at(s, j, kClose)) return false;
    end = j + kClose.size();
    return true;
}

// PARTIAL_FINAL_LINK_PATTERN 【\d*(?:†(?P<content>[^†】]*)(?:†[^†】]*)?)?$ from i: where
// the match ends ($ also matches before a final '\n') and its content group.
bool match_partial_final(std::string_view s, std::size_t i, std::size_t& end,
                         std::string_view& content) {
    if (!at(s, i, kOpen)) return false;
    auto ends_here = [&](std::size_t j) {
        end = j;
        return j == s.size() || (j + 1 == s.size() && s[j] == '\n');
    };
    std::size_t j = skip_digits(s, i + kOpen.size());
    content = {};
    if (ends_here(j)) return true;
    if (!at(s, j, kDagger)) return false;
    const std::size_t c = j + kDagger.size();
    j = skip_plain(s, c);
    content = s.substr(c, j - c);
    if (ends_here(j)) return true;
    if (!at(s, j, kDagger)) return false;
    return ends_here(skip_plain(s, j + kDagger.size()));
}

}  // namespace

std::string strip_links(std::string_view text) {
    std::string s(text);
    // PARTIAL_INITIAL_LINK_PATTERN ^[^【】]*】: a mark cut off at the start.
    const std::size_t close = s.find(kClose);
    if (close != std::string::npos && s.substr(0, close).find(kOpen) == std::string::npos)
        s.erase(0, close + kClose.size());
    for (std::size_t i = s.find(kOpen); i != std::string::npos; i = s.find(kOpen, i + 1)) {
        std::string_view content;
        std::size_t end = 0;
        if (match_partial_final(s, i, end, content)) {
            s = cat({std::string_view(s).substr(0, i), content, std::string_view(s).substr(end)});
            break;
        }
    }
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t end = 0;
        std::string_view content;
        if (match_link(s, i, end, content)) {
            out += content;
            i = end;
        } else {
            out += s[i++];
        }
    }
    return out;
}

Page find_in_page(std::string_view pattern, const Page& page, int max_results, int show_lines) {
    const std::vector<std::string> wrapped = wrap_lines(page.text);
    std::string joined;
    for (std::size_t i = 0; i < wrapped.size(); ++i) {
        if (i) joined += '\n';
        joined += wrapped[i];
    }
    const std::string plain = strip_links(joined);
    std::vector<std::string> lines;
    for (std::size_t b = 0;;) {
        const std::size_t nl = plain.find('\n', b);
        lines.push_back(plain.substr(b, nl == std::string::npos ? std::string::npos : nl - b));
        if (nl == std::string::npos) break;
        b = nl + 1;
    }
    Page result;
    result.url = cat({page.url, "/find?pattern=", url::quote(pattern)});
    result.title = cat({"Find results for text: `", pattern, "` in `", page.title, "`"});
    result.snippets.emplace();
    const auto step = static_cast<std::size_t>(show_lines);
    std::size_t line_idx = 0;
    int match_idx = 0;
    while (line_idx < lines.size()) {
        if (py::lower(lines[line_idx]).find(pattern) == std::string::npos) {
            ++line_idx;
            continue;
        }
        std::string snippet;
        for (std::size_t k = line_idx; k < std::min(lines.size(), line_idx + step); ++k) {
            if (k != line_idx) snippet += '\n';
            snippet += lines[k];
        }
        const std::string id = std::to_string(match_idx);
        if (!result.text.empty()) result.text += "\n\n";
        result.text += cat({"# 【", id, "†match at L", std::to_string(line_idx), "】\n", snippet});
        result.urls[id] = page.url;
        (*result.snippets)[id] =
            Extract{page.url, snippet, cat({"#", id}), static_cast<int>(line_idx)};
        if (match_idx + 1 == max_results) break;
        ++match_idx;
        line_idx += step;
    }
    if (result.urls.empty()) result.text = cat({"No `find` results for pattern: `", pattern, "`"});
    return result;
}

}  // namespace gossamer::tools::browser
