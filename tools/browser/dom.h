// A small mutable HTML tree built from gumbo's parse (gumbo's own tree is read-only): the
// browser rewrites links, images and <math> in place before turning the tree into text,
// as simple_browser does on its lxml tree. Adjacent text is kept merged, like lxml's
// text/tail. Parsing only; it must not decide what the text looks like (html_to_text.h).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gossamer::tools::browser {

struct Node {
    enum class Kind { element, text, comment };
    Kind kind = Kind::text;
    std::string tag;  // lower-case element name
    std::vector<std::pair<std::string, std::string>> attributes;
    std::string text;  // text or comment content (entities decoded, UTF-8)
    std::vector<Node> children;

    static Node text_node(std::string text) {
        Node n;
        n.text = std::move(text);
        return n;
    }
    bool is_element(std::string_view name) const { return kind == Kind::element && tag == name; }
    // The attribute's value, or nullptr when the element has none of that name.
    const std::string* attribute(std::string_view name) const;
};

// The whole document as its <html> element (gumbo adds html, head and body as browsers do).
Node parse_html(std::string_view html);

// Merges neighbouring text children, recursively (lxml never has two texts side by side).
void merge_text(Node& node);

}  // namespace gossamer::tools::browser
