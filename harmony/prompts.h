// The prompt texts of prompts/*.txt, linked into the library at build time, by name
// ("browser" is prompts/browser.txt). Read-only data: no file I/O at run time, no formatting.
#pragma once

#include <string_view>
#include <vector>

namespace gossamer::harmony::prompts {

// The text of prompts/<name>.txt without its final newline (prompts/README.md).
// Throws std::out_of_range naming the prompt when there is no such name.
std::string_view text(std::string_view name);
// The file's bytes exactly as embedded, final newline included (to check the convention).
std::string_view raw(std::string_view name);
// Every prompt name, sorted.
std::vector<std::string_view> names();

}  // namespace gossamer::harmony::prompts
