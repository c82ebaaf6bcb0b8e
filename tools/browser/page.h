// A page as the browser keeps it (simple_browser's PageContents): its URL, title, text
// (before 80-column wrapping; the view wraps it), the links of its markup by id and, for
// find-result pages only, the snippet behind each result. Data only.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace gossamer::tools::browser {

// A find result: where on the searched page it is (line_idx is an index of wrapped lines).
struct Extract {
    std::string url;
    std::string text;
    std::string title;
    std::optional<int> line_idx;
};

struct Page {
    std::string url;                          // "" for a search-result page
    std::string title;                        // shown in the header
    std::string text;                         // what is shown, lines separated by '\n'
    std::map<std::string, std::string> urls;  // link id ("0", "1", ...) -> absolute URL
    // Present only on find-result pages (find refuses to run on them).
    std::optional<std::map<std::string, Extract>> snippets;
};

}  // namespace gossamer::tools::browser
