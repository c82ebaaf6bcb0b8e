// browser.find (simple_browser run_find_in_page): a case-insensitive substring search over
// the page's 80-column lines with link markup stripped; each match shows 4 lines and the
// scan jumps 4 lines on; at most 50 matches. The result is itself a page (URL
// "{url}/find?pattern={quoted}", title "Find results for text: `{p}` in `{title}`") whose
// links 【k†match at L{n}】 lead back to the match. Pure.
#pragma once

#include <string>
#include <string_view>

#include "tools/browser/page.h"

namespace gossamer::tools::browser {

// strip_links: 【id†text(†domain)】 -> text, and a cut-off mark at either end of the text.
std::string strip_links(std::string_view text);

// `pattern` must already be lower-cased (str(pattern).lower()).
Page find_in_page(std::string_view pattern, const Page& page, int max_results = 50,
                  int show_lines = 4);

}  // namespace gossamer::tools::browser
