#include "tools/browser/html_to_text.h"

#include <optional>

#include "harmony/utf8.h"
#include "tools/browser/dom.h"
#include "tools/browser/html2text_writer.h"
#include "tools/browser/py_text.h"
#include "tools/browser/url.h"

namespace gossamer::tools::browser {
namespace {

// ---- tree rewrites (page_contents.py: _clean_links, replace_images, _remove_math) ----

std::optional<std::string> find_title(const Node& node) {
    for (const Node& child : node.children) {
        if (child.is_element("title")) {
            if (!child.children.empty() && child.children[0].kind == Node::Kind::text)
                return child.children[0].text;
            return std::string();
        }
        if (child.kind == Node::Kind::element)
            if (auto t = find_title(child)) return t;
    }
    return std::nullopt;
}

void collect_text(const Node& node, std::string& joined, bool& first) {
    for (const Node& child : node.children) {
        if (child.kind == Node::Kind::text) {
            if (!first) joined += ' ';
            joined += child.text;
            first = false;
        } else if (child.kind == Node::Kind::element) {
            collect_text(child, joined, first);
        }
    }
}

// merge_whitespace(" ".join(a.itertext())) with † made ‡.
std::string anchor_text(const Node& a) {
    std::string joined;
    bool first = true;
    collect_text(a, joined, first);
    std::string text = py::collapse_space(joined);
    for (std::size_t i = text.find("†"); i != std::string::npos; i = text.find("†", i + 3))
        text.replace(i, 3, "‡");
    return text;
}

// The anchor text without 【@...】 image anchors is empty (the link is left alone).
bool empty_anchor(const std::string& text) {
    std::string rest;
    for (std::size_t i = 0; i < text.size();) {
        if (text.compare(i, 4, "【@") == 0) {
            const std::size_t close = text.find("】", i + 4);
            if (close != std::string::npos && close > i + 4) {
                i = close + 3;
                continue;
            }
        }
        rest += text[i++];
    }
    return rest.empty();
}

class LinkCleaner {
  public:
    explicit LinkCleaner(std::string_view page_url)
        : page_url_(page_url), page_domain_(url::domain(page_url)) {}

    void visit(Node& node) {
        for (Node& child : node.children) {
            if (child.kind != Node::Kind::element) continue;
            if (child.tag == "a" && child.attribute("href") && rewrite(child)) continue;
            visit(child);
        }
    }
    std::map<std::string, std::string> take() { return std::move(urls_); }

  private:
    // Replaces the anchor with its markup; false when it stays as it is.
    bool rewrite(Node& a) {
        const std::string href = *a.attribute("href");
        if (href.starts_with("mailto:") || href.starts_with("javascript:")) return false;
        const std::string text = anchor_text(a);
        if (empty_anchor(text)) return false;
        if (href.starts_with("#")) {
            a = Node::text_node(text);
            return true;
        }
        std::string link = url::join(page_url_, href);
        const std::string link_domain = url::domain(link);
        if (link_domain.empty()) return false;
        link = url::arxiv_to_ar5iv(link);
        auto [it, added] = ids_.try_emplace(link, std::to_string(ids_.size()));
        if (added) urls_[it->second] = link;
        std::string markup = "【" + it->second + "†" + text;
        if (link_domain != page_domain_) markup += "†" + link_domain;
        a = Node::text_node(markup + "】");
        return true;
    }

    std::string page_url_;
    std::string page_domain_;
    std::map<std::string, std::string> urls_;  // id -> url
    std::map<std::string, std::string> ids_;   // url -> id
};

void replace_images(Node& node, int& count) {
    for (Node& child : node.children) {
        if (child.kind != Node::Kind::element) continue;
        if (child.tag != "img") {
            replace_images(child, count);
            continue;
        }
        const std::string* name = child.attribute("alt");
        if (!name) name = child.attribute("title");
        std::string text = "[Image " + std::to_string(count++);
        text += name && !name->empty() ? ": " + *name + "]" : "]";
        child = Node::text_node(std::move(text));
    }
}

// lxml's remove() takes the element's tail text with it; so does this.
void remove_math(Node& node) {
    std::vector<Node> kept;
    bool drop_tail = false;
    for (Node& child : node.children) {
        if (drop_tail && child.kind == Node::Kind::text) {
            drop_tail = false;
            continue;
        }
        drop_tail = false;
        if (child.is_element("math")) {
            drop_tail = true;
            continue;
        }
        if (child.kind == Node::Kind::element) remove_math(child);
        kept.push_back(std::move(child));
    }
    node.children = std::move(kept);
}

// ---- serialisation-level steps, as events (HTML_SUP_RE, HTML_SUB_RE, HTML_TAGS_SEQ_RE) ----

struct Event {
    enum class Kind { start, end, text, other };
    Kind kind;
    const Node* element = nullptr;
    std::string text;  // text, or the tag name for `end`
    bool raw = false;  // script/style content
};

bool word_or_dash_only(const std::string& s) {
    if (s.empty()) return false;
    for (char32_t c : py::to_u32(s))
        if (!py::is_word(c) && c != U'-') return false;
    return true;
}

// <sup>x</sup> -> ^{x} and <sub>x</sub> -> _{x} when x is word characters and hyphens only.
std::optional<std::string> script_text(const Node& e) {
    if (!e.is_element("sup") && !e.is_element("sub")) return std::nullopt;
    if (e.children.size() != 1 || e.children[0].kind != Node::Kind::text) return std::nullopt;
    if (!word_or_dash_only(e.children[0].text)) return std::nullopt;
    return (e.tag == "sup" ? "^{" : "_{") + e.children[0].text + "}";
}

void push_text(std::vector<Event>& events, std::string text, bool raw) {
    if (text.empty()) return;
    if (!events.empty() && events.back().kind == Event::Kind::text) {
        events.back().text += text;
        return;
    }
    events.push_back({Event::Kind::text, nullptr, std::move(text), raw});
}

void flatten(const Node& node, std::vector<Event>& events) {
    const bool raw = node.tag == "script" || node.tag == "style";
    events.push_back({Event::Kind::start, &node, {}, false});
    for (const Node& child : node.children) {
        switch (child.kind) {
            case Node::Kind::text:
                push_text(events, child.text, raw);
                break;
            case Node::Kind::comment:
                events.push_back({Event::Kind::other, nullptr, {}, false});
                break;
            case Node::Kind::element:
                if (auto s = script_text(child))
                    push_text(events, *s, false);
                else
                    flatten(child, events);
                break;
        }
    }
    events.push_back({Event::Kind::end, nullptr, node.tag, false});
}

char32_t first_char(const std::string& s) {
    const std::u32string t = py::to_u32(s.substr(0, 4));
    return t.empty() ? 0 : t.front();
}
char32_t last_char(const std::string& s) {
    std::size_t b = s.size();
    while (b > 0 && (static_cast<unsigned char>(s[b - 1]) & 0xC0) == 0x80) --b;
    const std::u32string t = py::to_u32(s.substr(b > 0 ? b - 1 : 0));
    return t.empty() ? 0 : t.back();
}

// (?<=\w)((<[^>]*>)+)(?=\w) -> " \1": tags between two word characters get a space before.
void space_between_tags(std::vector<Event>& events) {
    std::size_t prev_text = std::string::npos;
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (events[i].kind != Event::Kind::text) continue;
        if (prev_text != std::string::npos && prev_text + 1 < i &&
            py::is_word(last_char(events[prev_text].text)) &&
            py::is_word(first_char(events[i].text)))
            events[prev_text].text += ' ';
        prev_text = i;
    }
}

// ---- text clean-up (EMPTY_LINE_RE, EXTRA_NEWLINE_RE) ----

// re.sub(r"^\s+$", "", text, flags=re.MULTILINE)
std::u32string drop_blank_lines(const std::u32string& t) {
    std::u32string out;
    const std::size_t n = t.size();
    for (std::size_t i = 0; i < n;) {
        if ((i == 0 || t[i - 1] == U'\n') && py::is_space(t[i])) {
            std::size_t j = i;
            while (j < n && py::is_space(t[j])) ++j;
            std::size_t k = j;
            while (k > i && !(k == n || t[k] == U'\n')) --k;
            if (k > i) {
                i = k;
                continue;
            }
        }
        out.push_back(t[i++]);
    }
    return out;
}

// re.sub(r"\n(\s*\n)+", "\n\n", text)
std::u32string collapse_blank_runs(const std::u32string& t) {
    std::u32string out;
    for (std::size_t i = 0; i < t.size();) {
        if (t[i] == U'\n') {
            std::size_t last_nl = std::u32string::npos;
            for (std::size_t j = i + 1; j < t.size() && py::is_space(t[j]); ++j)
                if (t[j] == U'\n') last_nl = j;
            if (last_nl != std::u32string::npos) {
                out += U"\n\n";
                i = last_nl + 1;
                continue;
            }
        }
        out.push_back(t[i++]);
    }
    return out;
}

std::string tree_to_text(const Node& root) {
    std::vector<Event> events;
    flatten(root, events);
    space_between_tags(events);
    Html2TextWriter writer;
    for (const Event& e : events) {
        switch (e.kind) {
            case Event::Kind::start:
                writer.start_tag(*e.element);
                break;
            case Event::Kind::end:
                writer.end_tag(e.text);
                break;
            case Event::Kind::text:
                writer.text(e.text, e.raw);
                break;
            case Event::Kind::other:
                break;
        }
    }
    const std::string text = py::strip(writer.finish());
    // WHITESPACE_ANCHOR_RE only moves 【@...】 anchors, which this browser never writes.
    return py::to_utf8(collapse_blank_runs(drop_blank_lines(py::to_u32(text))));
}

std::string choose_title(std::string_view given, const std::optional<std::string>& from_html,
                         std::string_view page_url) {
    if (!given.empty()) return std::string(given);
    if (from_html) return *from_html;
    return page_url.empty() ? std::string() : url::domain(page_url);
}

}  // namespace

std::string replace_special_chars(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    const std::u32string t = py::to_u32(text);
    for (char32_t c : t) {
        if (c >= 0x10000 && c <= 0x1FFFF) continue;
        if (c == 0x200B) continue;
        if (c == U'【')
            c = U'〖';
        else if (c == U'】')
            c = U'〗';
        else if (c == U'◼')
            c = U'◾';
        harmony::utf8::append(out, c);
    }
    return out;
}

std::string html_to_text(std::string_view html) {
    Node root = parse_html(html);
    return tree_to_text(root);
}

Page html_page(std::string_view html, std::string_view page_url, std::string_view title) {
    Node root = parse_html(replace_special_chars(html));
    Page page;
    page.url = std::string(page_url);
    page.title = choose_title(title, find_title(root), page_url);
    LinkCleaner links(page_url);
    links.visit(root);
    page.urls = links.take();
    int images = 0;
    replace_images(root, images);
    merge_text(root);
    remove_math(root);
    page.text = "\nURL: " + page.url + "\n" + tree_to_text(root);
    return page;
}

Page text_page(std::string_view text, std::string_view page_url, std::string_view title) {
    std::string body = replace_special_chars(text);
    for (std::size_t i = body.find("\r\n"); i != std::string::npos; i = body.find("\r\n", i))
        body.erase(i, 1);
    body = py::strip(body);  // as html_to_text's result is stripped
    Page page;
    page.url = std::string(page_url);
    page.title = choose_title(title, std::nullopt, page_url);
    page.text = "\nURL: " + page.url + "\n" + body;
    return page;
}

}  // namespace gossamer::tools::browser
