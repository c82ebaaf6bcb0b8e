// The browsing display the model reads (simple_browser show_page / _make_response):
//   [{cursor}] {title} ({unquoted url, at most 1024 characters})
//   **viewing lines [{loc} - {end-1}] of {total-1}**
//   <blank line>
//   L{loc}: {line} ...
// over the page's 80-column lines, the window cut at about `view_tokens` o200k tokens when
// no line count is asked for (get_end_loc, token character lengths as tiktoken decodes
// them one by one). The " ({url})" part is left out for a page without a URL (search
// results). Pure; the cursor stack is browser_state.h's.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tools/browser/page.h"

namespace gossamer::tools::browser {

inline constexpr int kViewTokens = 1024;

// "L{offset+i}: {line}" joined by '\n' for lines[begin, end).
std::string numbered_lines(const std::vector<std::string>& lines, std::size_t begin,
                           std::size_t end);

// get_end_loc: one past the last line shown from `loc`; num_lines <= 0 fits ~view_tokens.
std::size_t end_line(const std::vector<std::string>& lines, std::size_t loc, long num_lines,
                     int view_tokens = kViewTokens);

// The display for `page` at `cursor`, lines from `loc`. Throws UsageError("Invalid location
// parameter: `{loc}`. Cannot exceed page maximum of {N}.") when loc is past the end.
std::string render_page(const Page& page, int cursor, long loc, long num_lines,
                        int view_tokens = kViewTokens);

}  // namespace gossamer::tools::browser
