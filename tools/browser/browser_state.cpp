#include "tools/browser/browser_state.h"

#include "tools/browser/errors.h"
#include "tools/browser/str_cat.h"

namespace gossamer::tools::browser {

void BrowserState::add_page(PagePtr page) {
    by_url_[page->url] = page;
    stack_.push_back(std::move(page));
}

PagePtr BrowserState::page(long cursor) const {
    const long current = current_cursor();
    if (current < 0) throw UsageError("No pages to access!");
    if (cursor == -1 || cursor == current) return stack_.back();
    const long size = current + 1;
    const long index = cursor < 0 ? cursor + size : cursor;
    if (index < 0 || index >= size)
        throw UsageError(cat({"Cursor `", std::to_string(cursor),
                              "` is out of range. Available cursor indices: [0 - ",
                              std::to_string(current), "]."}));
    return stack_[static_cast<std::size_t>(index)];
}

PagePtr BrowserState::cached(const std::string& url) const {
    const auto it = by_url_.find(url);
    return it == by_url_.end() ? nullptr : it->second;
}

void BrowserState::pop() {
    if (!stack_.empty()) stack_.pop_back();
}

std::vector<std::string> BrowserState::cursor_urls() const {
    std::vector<std::string> urls;
    urls.reserve(stack_.size());
    for (const PagePtr& p : stack_) urls.push_back(p->url);
    return urls;
}

}  // namespace gossamer::tools::browser
