#include "tools/browser/page_view.h"

#include <algorithm>
#include <cstdint>
#include <mutex>

#include "harmony/special_tokens.h"
#include "harmony/tokenizer.h"
#include "harmony/utf8.h"
#include "tools/browser/errors.h"
#include "tools/browser/line_wrap.h"
#include "tools/browser/py_text.h"
#include "tools/browser/str_cat.h"
#include "tools/browser/url.h"

namespace gossamer::tools::browser {
namespace {

// len(encoding.decode([id])) for every ordinary token (lossy UTF-8, in code points), and
// their maximum (simple_browser's max_chars_per_token).
struct TokenLengths {
    std::vector<std::uint16_t> chars;
    std::size_t max_chars = 1;
};

const TokenLengths& token_lengths() {
    static const TokenLengths lengths = [] {
        const auto& tok = harmony::Tokenizer::o200k_harmony();
        TokenLengths t;
        t.chars.assign(harmony::kFirstSpecial, 1);
        for (harmony::Token id = 0; id < harmony::kFirstSpecial; ++id) {
            if (!tok.valid(id)) continue;
            const std::string text = harmony::utf8::to_valid_lossy(tok.token_bytes(id));
            t.chars[id] = static_cast<std::uint16_t>(py::length(text));
            t.max_chars = std::max<std::size_t>(t.max_chars, t.chars[id]);
        }
        return t;
    }();
    return lengths;
}

std::size_t token_chars(harmony::Token id) {
    const auto& t = token_lengths();
    return id < t.chars.size() ? t.chars[id] : 1;
}

}  // namespace

std::string numbered_lines(const std::vector<std::string>& lines, std::size_t begin,
                           std::size_t end) {
    std::string out;
    for (std::size_t i = begin; i < end; ++i) {
        if (i != begin) out += '\n';
        out += cat({"L", std::to_string(i), ": ", lines[i]});
    }
    return out;
}

std::size_t end_line(const std::vector<std::string>& lines, std::size_t loc, long num_lines,
                     int view_tokens) {
    const std::size_t total = lines.size();
    std::size_t count = num_lines > 0 ? static_cast<std::size_t>(num_lines) : total;
    if (num_lines <= 0) {
        const std::string txt = numbered_lines(lines, loc, total);
        const auto budget = static_cast<std::size_t>(view_tokens);
        if (py::length(txt) > budget) {
            const std::size_t cut = py::byte_offset(txt, (budget + 1) * token_lengths().max_chars);
            const auto ids = harmony::Tokenizer::o200k_harmony().encode_ordinary(
                std::string_view(txt).substr(0, cut));
            if (ids.size() > budget) {
                std::size_t end_chars = 0;
                for (std::size_t k = 0; k < budget; ++k) end_chars += token_chars(ids[k]);
                const std::size_t end_byte = py::byte_offset(txt, end_chars);
                count =
                    static_cast<std::size_t>(std::count(
                        txt.begin(), txt.begin() + static_cast<std::ptrdiff_t>(end_byte), '\n')) +
                    1;
            }
        }
    }
    return std::min(loc + count, total);
}

std::string render_page(const Page& page, int cursor, long loc, long num_lines, int view_tokens) {
    const std::vector<std::string> lines = wrap_lines(page.text);
    const auto total = static_cast<long>(lines.size());
    if (loc >= total)
        throw UsageError(
            cat({"Invalid location parameter: `", std::to_string(loc),
                 "`. Cannot exceed page maximum of ", std::to_string(total - 1), "."}));
    const auto begin = static_cast<std::size_t>(std::max(loc, 0L));
    const std::size_t end = end_line(lines, begin, num_lines, view_tokens);
    const std::string shown_url = py::truncate(url::unquote(page.url));
    return cat({"[", std::to_string(cursor), "] ", page.title,
                shown_url.empty() ? "" : cat({" (", shown_url, ")"}), "\n**viewing lines [",
                std::to_string(begin), " - ", std::to_string(static_cast<long>(end) - 1), "] of ",
                std::to_string(total - 1), "**\n\n", numbered_lines(lines, begin, end)});
}

}  // namespace gossamer::tools::browser
