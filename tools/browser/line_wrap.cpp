#include "tools/browser/line_wrap.h"

#include <algorithm>

#include "tools/browser/py_text.h"

namespace gossamer::tools::browser {
namespace {

using Text = std::u32string;

// textwrap's regex classes: word_punct = [\w!"'&.,?], letter = [^\d\W].
bool word_punct(char32_t c) {
    return py::is_word(c) || c == U'!' || c == U'"' || c == U'\'' || c == U'&' || c == U'.' ||
           c == U',' || c == U'?';
}
bool letter(char32_t c) {
    return py::is_word(c) && !py::is_digit(c);
}

// str.expandtabs(8): columns restart after '\n' and '\r'.
Text expand_tabs(const Text& t) {
    Text out;
    std::size_t column = 0;
    for (char32_t c : t) {
        if (c == U'\t') {
            const std::size_t n = 8 - column % 8;
            out.append(n, U' ');
            column += n;
        } else {
            out.push_back(c);
            column = (c == U'\n' || c == U'\r') ? 0 : column + 1;
        }
    }
    return out;
}

bool at(const Text& t, std::ptrdiff_t i, bool (*pred)(char32_t)) {
    return i >= 0 && static_cast<std::size_t>(i) < t.size() && pred(t[static_cast<std::size_t>(i)]);
}
bool is_hyphen(char32_t c) {
    return c == U'-';
}

// At q: two or more hyphens followed by a word character ((?=-{2,}\w)).
bool dashes_then_word(const Text& t, std::size_t q) {
    std::size_t e = q;
    while (e < t.size() && t[e] == U'-') ++e;
    return e - q >= 2 && e < t.size() && py::is_word(t[e]);
}

// The hyphenated-word ending: -(?:(?<=lt{2}-)|(?<=lt-lt-))(?=lt-?lt), hyphen at q.
bool hyphen_break(const Text& t, std::size_t q) {
    if (t[q] != U'-') return false;
    const auto i = static_cast<std::ptrdiff_t>(q);
    const bool behind = (at(t, i - 2, letter) && at(t, i - 1, letter)) ||
                        (at(t, i - 3, letter) && at(t, i - 2, is_hyphen) && at(t, i - 1, letter));
    if (!behind || !at(t, i + 1, letter)) return false;
    return (at(t, i + 2, is_hyphen) && at(t, i + 3, letter)) || at(t, i + 2, letter);
}

// End of the chunk starting at p (textwrap.TextWrapper.wordsep_re, alternatives in order).
std::size_t chunk_end(const Text& t, std::size_t p) {
    if (py::is_ascii_space(t[p])) {
        std::size_t q = p;
        while (q < t.size() && py::is_ascii_space(t[q])) ++q;
        return q;
    }
    if (p > 0 && word_punct(t[p - 1]) && dashes_then_word(t, p)) {
        std::size_t q = p;
        while (t[q] == U'-') ++q;
        return q;
    }
    for (std::size_t q = p + 1;; ++q) {  // non-whitespace, as few as possible
        if (q < t.size() && hyphen_break(t, q)) return q + 1;
        if (q == t.size() || py::is_ascii_space(t[q])) return q;
        if (word_punct(t[q - 1]) && dashes_then_word(t, q)) return q;
    }
}

std::vector<Text> split_chunks(const Text& t) {
    std::vector<Text> chunks;
    for (std::size_t p = 0; p < t.size();) {
        const std::size_t e = chunk_end(t, p);
        chunks.push_back(t.substr(p, e - p));
        p = e;
    }
    return chunks;
}

// TextWrapper._handle_long_word with break_long_words and break_on_hyphens.
void break_long_word(Text& chunk, Text& line, std::size_t line_len, std::size_t width) {
    const std::size_t space_left = width < 1 ? 1 : width - line_len;
    std::size_t end = space_left;
    if (chunk.size() > space_left) {
        const std::size_t hyphen = space_left == 0 ? Text::npos : chunk.rfind(U'-', space_left - 1);
        if (hyphen != Text::npos && hyphen > 0 &&
            std::any_of(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(hyphen),
                        [](char32_t c) { return c != U'-'; }))
            end = hyphen + 1;
    }
    line += chunk.substr(0, end);
    chunk.erase(0, std::min(end, chunk.size()));
}

}  // namespace

std::vector<std::string> wrap_line(std::string_view line, std::size_t width) {
    std::vector<Text> chunks = split_chunks(expand_tabs(py::to_u32(line)));
    std::vector<std::string> lines;
    std::size_t next = 0;
    while (next < chunks.size()) {
        Text current;
        while (next < chunks.size() && current.size() + chunks[next].size() <= width)
            current += chunks[next++];
        if (next < chunks.size() && chunks[next].size() > width) {
            break_long_word(chunks[next], current, current.size(), width);
            if (chunks[next].empty()) ++next;
        }
        if (!current.empty()) lines.push_back(py::to_utf8(current));
    }
    return lines;
}

std::vector<std::string> wrap_lines(std::string_view text, std::size_t width) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t nl = text.find('\n', start);
        const std::string_view line =
            text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        if (line.empty()) {
            out.emplace_back();
        } else {
            auto wrapped = wrap_line(line, width);
            out.insert(out.end(), std::make_move_iterator(wrapped.begin()),
                       std::make_move_iterator(wrapped.end()));
        }
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    return out;
}

}  // namespace gossamer::tools::browser
