#include "tools/browser/dom.h"

#include <gumbo.h>

#include <cctype>
#include <memory>

namespace gossamer::tools::browser {
namespace {

std::string tag_name(const GumboElement& element) {
    if (element.tag != GUMBO_TAG_UNKNOWN) return gumbo_normalized_tagname(element.tag);
    GumboStringPiece original = element.original_tag;
    gumbo_tag_from_original_text(&original);
    std::string name(original.data, original.length);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
}

Node convert(const GumboNode& g);

void convert_children(const GumboVector& children, Node& into) {
    for (unsigned i = 0; i < children.length; ++i) {
        const auto* child = static_cast<const GumboNode*>(children.data[i]);
        Node n = convert(*child);
        if (n.kind == Node::Kind::text && !into.children.empty() &&
            into.children.back().kind == Node::Kind::text) {
            into.children.back().text += n.text;
        } else {
            into.children.push_back(std::move(n));
        }
    }
}

Node convert(const GumboNode& g) {
    Node n;
    switch (g.type) {
        case GUMBO_NODE_ELEMENT:
        case GUMBO_NODE_TEMPLATE: {
            n.kind = Node::Kind::element;
            n.tag = tag_name(g.v.element);
            const GumboVector& attrs = g.v.element.attributes;
            for (unsigned i = 0; i < attrs.length; ++i) {
                const auto* a = static_cast<const GumboAttribute*>(attrs.data[i]);
                n.attributes.emplace_back(a->name, a->value);
            }
            convert_children(g.v.element.children, n);
            break;
        }
        case GUMBO_NODE_COMMENT:
            n.kind = Node::Kind::comment;
            n.text = g.v.text.text;
            break;
        case GUMBO_NODE_TEXT:
        case GUMBO_NODE_CDATA:
        case GUMBO_NODE_WHITESPACE:
            n.text = g.v.text.text;
            break;
        case GUMBO_NODE_DOCUMENT:
            break;
    }
    return n;
}

}  // namespace

const std::string* Node::attribute(std::string_view name) const {
    for (const auto& [key, value] : attributes)
        if (key == name) return &value;
    return nullptr;
}

Node parse_html(std::string_view html) {
    std::unique_ptr<GumboOutput, void (*)(GumboOutput*)> out(
        gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size()),
        [](GumboOutput* o) { gumbo_destroy_output(&kGumboDefaultOptions, o); });
    return convert(*out->root);
}

void merge_text(Node& node) {
    std::vector<Node> merged;
    merged.reserve(node.children.size());
    for (Node& child : node.children) {
        if (child.kind == Node::Kind::text && !merged.empty() &&
            merged.back().kind == Node::Kind::text) {
            merged.back().text += child.text;
            continue;
        }
        if (child.kind == Node::Kind::element) merge_text(child);
        merged.push_back(std::move(child));
    }
    node.children = std::move(merged);
}

}  // namespace gossamer::tools::browser
