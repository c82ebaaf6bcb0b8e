// The browser's 80-column lines: simple_browser's wrap_lines, i.e. text.split("\n") and
// Python's textwrap.wrap(line, width=80, replace_whitespace=False, drop_whitespace=False)
// per line, with empty lines kept. Reproduced exactly (tab expansion, textwrap's chunking
// with its hyphenation rules, long-word breaking), because line numbers the model cites
// depend on it. Pure; it must not know about pages or links.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gossamer::tools::browser {

inline constexpr std::size_t kWrapWidth = 80;

// textwrap.wrap of one line (no '\n' inside) with the browser's settings.
std::vector<std::string> wrap_line(std::string_view line, std::size_t width = kWrapWidth);
// wrap_lines: every line of `text` wrapped; an empty line stays one empty line.
std::vector<std::string> wrap_lines(std::string_view text, std::size_t width = kWrapWidth);

}  // namespace gossamer::tools::browser
