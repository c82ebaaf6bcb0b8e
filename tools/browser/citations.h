// Citations in the final answer (simple_browser normalize_citations): each
// 【{cursor}†{content}(†{extra})?】 whose cursor names a page with a URL becomes
// " ([{domain}]({url})) " plus a url_citation annotation; marks for unknown cursors or pages
// without a URL (search results) stay as written. While streaming, an unfinished mark at
// the end is held back until it closes. Pure: the caller passes the page-stack URLs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gossamer::tools::browser {

struct UrlCitation {
    std::size_t start_index = 0;  // in code points of the new text, as the reference counts
    std::size_t end_index = 0;
    std::size_t start_byte = 0;  // the same span in bytes of the UTF-8 text
    std::size_t end_byte = 0;
    std::string title;  // the URL's domain
    std::string url;
};

struct CitedText {
    std::string text;
    std::vector<UrlCitation> citations;
    bool has_partial = false;  // the input ended inside a mark
};

// `cursor_urls[c]` is the URL of the page at cursor c ("" for search results).
CitedText normalize_citations(std::string_view text, const std::vector<std::string>& cursor_urls,
                              bool hide_partial = false);

// Streaming: push() returns the text (and citations, with offsets into everything emitted
// so far) that can no longer change; finish() returns the rest, an unfinished mark as is.
class CitationStream {
  public:
    explicit CitationStream(std::vector<std::string> cursor_urls)
        : cursor_urls_(std::move(cursor_urls)) {}
    CitedText push(std::string_view delta);
    CitedText finish();

  private:
    CitedText emit(std::string_view stable);
    std::vector<std::string> cursor_urls_;
    std::string pending_;
    std::size_t emitted_chars_ = 0;
    std::size_t emitted_bytes_ = 0;
};

// Where an unfinished mark starts at the end of `text` (PARTIAL_FINAL_LINK_PATTERN), or npos.
std::size_t partial_mark_start(std::string_view text);

}  // namespace gossamer::tools::browser
