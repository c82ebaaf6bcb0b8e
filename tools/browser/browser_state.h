// The browser's memory for one session (simple_browser SimpleBrowserState): the cursor stack
// (every search, open, scroll and find pushes one page; the cursor is its index) and the
// pages seen, by URL, for `open` of a link to a page already fetched. Unlike the reference,
// each cursor keeps its own page, so an older search page is not replaced by a newer one
// (the reference keys every search page by the URL ""). Not thread-safe: one call at a time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tools/browser/page.h"

namespace gossamer::tools::browser {

using PagePtr = std::shared_ptr<const Page>;

class BrowserState {
  public:
    // The newest cursor, -1 before the first page.
    int current_cursor() const { return static_cast<int>(stack_.size()) - 1; }
    void add_page(PagePtr page);
    // The page at `cursor` (-1: the newest; other negatives count from the end, as Python
    // indexing does). Throws UsageError "No pages to access!" or "Cursor `c` is out of
    // range. Available cursor indices: [0 - n]."
    PagePtr page(long cursor = -1) const;
    // A page fetched before under this URL, or nullptr.
    PagePtr cached(const std::string& url) const;
    // Drops the newest cursor (its display failed).
    void pop();
    // The URL of every cursor's page, for citations.
    std::vector<std::string> cursor_urls() const;

  private:
    std::vector<PagePtr> stack_;
    std::map<std::string, PagePtr> by_url_;
};

}  // namespace gossamer::tools::browser
