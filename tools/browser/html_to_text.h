// simple_browser's process_html with gumbo in place of lxml: the steps of page_contents.py
// in order (drop U+10000-U+1FFFF, replace 【】◼ and U+200B; title; links to 【id†text】 /
// 【id†text†domain】 with ids by first appearance; images to [Image n: alt]; drop <math>;
// sup/sub to ^{x}/_{x}; a space between tags that separate word characters; html2text;
// blank-line clean-up) and the page text starting "\nURL: {url}\n". Also the same for plain
// text. Pure: no network, no charset guessing (the bytes are already UTF-8).
#pragma once

#include <string>
#include <string_view>

#include "tools/browser/page.h"

namespace gossamer::tools::browser {

// A page from HTML. `title` wins when non-empty, then <title>, then the URL's domain.
Page html_page(std::string_view html, std::string_view url, std::string_view title = {});
// A page from plain text (no links, whitespace around it stripped); the title as for
// html_page without a <title>.
Page text_page(std::string_view text, std::string_view url, std::string_view title = {});

// Steps 1-2 alone: U+10000-U+1FFFF removed, 【】 -> 〖〗, ◼ -> ◾, U+200B removed.
std::string replace_special_chars(std::string_view text);
// html2text's output for HTML whose links are already rewritten, and the blank-line
// clean-up (for tests of the conversion rules).
std::string html_to_text(std::string_view html);

}  // namespace gossamer::tools::browser
