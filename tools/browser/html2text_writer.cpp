#include "tools/browser/html2text_writer.h"

#include <cstdlib>

#include "tools/browser/py_text.h"

namespace gossamer::tools::browser {
namespace {

int heading_level(std::string_view tag) {
    if (tag.size() == 2 && tag[0] == 'h' && tag[1] > '0' && tag[1] <= '9') return tag[1] - '0';
    return 0;
}

bool one_of(std::string_view tag, std::initializer_list<std::string_view> names) {
    for (std::string_view n : names)
        if (tag == n) return true;
    return false;
}

// html2text's list_numbering_start: int(start) - 1, or 0.
long numbering_start(const Node* element) {
    const std::string* start = element ? element->attribute("start") : nullptr;
    if (!start) return 0;
    const std::string s = py::strip(*start);
    char* end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0') return 0;
    return v - 1;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    for (std::size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size()))
        s.replace(i, from.size(), to);
    return s;
}

std::string lstrip_chars(const std::string& s, std::string_view chars) {
    const std::size_t b = s.find_first_not_of(chars);
    return b == std::string::npos ? std::string() : s.substr(b);
}

// Positions where a ^(\s*)X pattern of escape_md_section matches: the first non-space after
// each line start, when `matches` accepts it. Returns the positions to put a backslash at.
template <typename Match>
std::vector<std::size_t> line_start_marks(const std::u32string& t, Match matches) {
    std::vector<std::size_t> marks;
    std::size_t last = std::u32string::npos;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (i != 0 && t[i - 1] != U'\n') continue;
        std::size_t j = i;
        while (j < t.size() && py::is_space(t[j])) ++j;
        if (j == last) continue;
        last = j;
        if (const std::size_t at = matches(t, j); at != std::u32string::npos) marks.push_back(at);
    }
    return marks;
}

std::u32string insert_backslashes(const std::u32string& t, const std::vector<std::size_t>& at) {
    std::u32string out;
    std::size_t k = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (k < at.size() && at[k] == i) {
            out.push_back(U'\\');
            ++k;
        }
        out.push_back(t[i]);
    }
    return out;
}

bool space_at(const std::u32string& t, std::size_t i) {
    return i < t.size() && py::is_space(t[i]);
}

// html2text.utils.escape_md_section(text, snob=False).
std::string escape_md_section(std::string_view data) {
    std::u32string t = py::to_u32(data);
    static constexpr std::u32string_view kSlashChars = U"\\`*_{}[]()#+-.!";
    std::u32string doubled;
    for (std::size_t i = 0; i < t.size(); ++i) {
        doubled.push_back(t[i]);
        if (t[i] == U'\\' && i + 1 < t.size() && kSlashChars.find(t[i + 1]) != std::u32string::npos)
            doubled.push_back(U'\\');
    }
    t = std::move(doubled);
    t = insert_backslashes(t, line_start_marks(t, [](const std::u32string& s, std::size_t j) {
                               std::size_t k = j;
                               while (k < s.size() && py::is_digit(s[k])) ++k;
                               if (k == j || k >= s.size() || s[k] != U'.' || !space_at(s, k + 1))
                                   return std::u32string::npos;
                               return k;
                           }));
    t = insert_backslashes(
        t, line_start_marks(t, [](const std::u32string& s, std::size_t j) {
            return j < s.size() && s[j] == U'+' && space_at(s, j + 1) ? j : std::u32string::npos;
        }));
    t = insert_backslashes(
        t, line_start_marks(t, [](const std::u32string& s, std::size_t j) {
            const bool next = space_at(s, j + 1) || (j + 1 < s.size() && s[j + 1] == U'-');
            return j < s.size() && s[j] == U'-' && next ? j : std::u32string::npos;
        }));
    return py::to_utf8(t);
}

// re.match(r"[^][(){}\s.!?]", first character of data).
bool starts_like_word(std::string_view data) {
    const std::u32string t = py::to_u32(data.substr(0, 4));
    if (t.empty()) return false;
    static constexpr std::u32string_view kNot = U"][(){}.!?";
    return kNot.find(t[0]) == std::u32string::npos && !py::is_space(t[0]);
}

}  // namespace

void Html2TextWriter::text(std::string_view data, bool raw) {
    if (raw) {
        handle_data(std::string(data), false);
        return;
    }
    // lxml serialises &, < and > in text as entities; HTMLParser reports each of them as
    // its own piece of data (entity_char=True), which matters for the escaping rules.
    std::size_t start = 0;
    for (std::size_t i = 0; i < data.size(); ++i) {
        const char c = data[i];
        if (c != '&' && c != '<' && c != '>') continue;
        if (i > start) handle_data(std::string(data.substr(start, i - start)), false);
        handle_data(std::string(1, c), true);
        start = i + 1;
    }
    if (start < data.size()) handle_data(std::string(data.substr(start)), false);
}

void Html2TextWriter::handle_data(std::string data, bool entity_char) {
    if (data.empty()) return;
    if (stressed_) {
        data = py::strip(data);
        stressed_ = false;
        preceding_stressed_ = true;
    } else if (preceding_stressed_) {
        if (starts_like_word(data) && !heading_level(current_tag_) &&
            !one_of(current_tag_, {"a", "code", "pre"}))
            data = " " + data;
        preceding_stressed_ = false;
    }
    if (!code_ && !pre_ && !entity_char) data = escape_md_section(data);
    preceding_data_ = data;
    o(std::move(data), true);
}

void Html2TextWriter::out(std::string_view s) {
    out_ += s;
    if (!s.empty()) last_was_nl_ = s.back() == '\n';
}

void Html2TextWriter::o(std::string data, bool puredata, Force force) {
    if (abbr_data_) *abbr_data_ += data;
    if (quiet_) return;
    if (puredata && !pre_) {
        data = py::collapse_space(data);
        if (!data.empty() && data[0] == ' ') {
            space_ = true;
            data.erase(0, 1);
        }
    }
    if (data.empty() && force == Force::no) return;
    if (startpre_ && !data.starts_with("\n") && !data.starts_with("\r\n")) data = "\n" + data;
    std::string bq(static_cast<std::size_t>(blockquote_ > 0 ? blockquote_ : 0), '>');
    if (!(force != Force::no && !data.empty() && data[0] == '>') && blockquote_) bq += " ";
    if (pre_) {
        if (!list_.empty()) bq += list_code_indent_;
        bq += "    ";
        data = replace_all(std::move(data), "\n", "\n" + bq);
        pre_indent_ = bq;
    }
    if (startpre_) {
        startpre_ = false;
        if (!list_.empty()) data = lstrip_chars(data, "\n" + pre_indent_);
    }
    if (start_) {
        space_ = false;
        p_p_ = 0;
        start_ = false;
    }
    if (force == Force::end) {
        p_p_ = 0;
        out("\n");
        space_ = false;
    }
    if (p_p_) {
        std::string breaks;
        for (int k = 0; k < p_p_; ++k) breaks += br_toggle_ + "\n" + bq;
        out(breaks);
        space_ = false;
        br_toggle_.clear();
    }
    if (space_) {
        if (!last_was_nl_) out(" ");
        space_ = false;
    }
    if (force == Force::end)
        for (const auto& [abbr, definition] : abbr_list_)
            out("  *[" + abbr + "]: " + definition + "\n");
    p_p_ = 0;
    out(data);
}

void Html2TextWriter::handle_tag(std::string_view tag, const Node* element, bool start) {
    current_tag_ = std::string(tag);
    if (const int n = heading_level(tag)) {
        p();
        if (!start) return;  // html2text returns early on a closing heading tag
        o(std::string(static_cast<std::size_t>(n), '#') + " ");
    }
    if (one_of(tag, {"p", "div"})) p();
    if (tag == "br" && start) o(blockquote_ > 0 ? "  \n> " : "  \n");
    if (tag == "hr" && start) {
        p();
        o("* * *");
        p();
    }
    if (one_of(tag, {"head", "style", "script"})) quiet_ += start ? 1 : -1;
    if (tag == "body") quiet_ = 0;
    if (tag == "blockquote") {
        if (start) {
            p();
            o("> ", false, Force::yes);
            start_ = true;
            ++blockquote_;
        } else {
            --blockquote_;
            p();
        }
    }
    if (one_of(tag, {"del", "strike", "s"})) {
        std::string strike = "~~";
        if (start && !preceding_data_.empty() && preceding_data_.back() == '~') {
            strike = " ~~";
            preceding_data_ += " ";
        }
        o(strike);
        if (start) stressed_ = true;
    }
    if (one_of(tag, {"kbd", "code", "tt"}) && !pre_) {
        o("`");
        code_ = !code_;
    }
    if (tag == "abbr") {
        if (start) {
            abbr_title_.reset();
            abbr_data_ = "";
            if (const std::string* title = element ? element->attribute("title") : nullptr)
                abbr_title_ = *title;
        } else {
            if (abbr_title_ && abbr_data_) {
                bool found = false;
                for (auto& [abbr, definition] : abbr_list_)
                    if (abbr == *abbr_data_) found = true, definition = *abbr_title_;
                if (!found) abbr_list_.emplace_back(*abbr_data_, *abbr_title_);
            }
            abbr_title_.reset();
            abbr_data_.reset();
        }
    }
    if (tag == "q") {
        o("\"");
        quote_ = !quote_;
    }
    if (tag == "dl" && start) p();
    if (tag == "dt" && !start) pbr();
    if (tag == "dd") {
        if (start)
            o("    ");
        else
            pbr();
    }
    list_tag(tag, element, start);
    if (tag == "li") list_item(start);
    if (tag == "tr" && !start) soft_br();  // ignore_tables keeps one line per row
    if (tag == "pre") {
        if (start) {
            startpre_ = true;
            pre_ = true;
            pre_indent_.clear();
        } else {
            pre_ = false;
        }
        p();
    }
}

void Html2TextWriter::list_tag(std::string_view tag, const Node* element, bool start) {
    if (tag != "ol" && tag != "ul") {
        last_was_list_ = false;
        return;
    }
    if (list_.empty() && !last_was_list_) p();
    if (start) {
        list_.push_back({std::string(tag), numbering_start(element)});
    } else if (!list_.empty()) {
        list_.pop_back();
        if (list_.empty()) o("\n");
    }
    last_was_list_ = true;
}

void Html2TextWriter::list_item(bool start) {
    list_code_indent_.clear();
    pbr();
    if (!start) return;
    List loose{"ul", 0};
    List& li = list_.empty() ? loose : list_.back();
    std::string parent;
    for (const List& l : list_) {
        list_code_indent_ += parent == "ol" ? "   " : "  ";
        parent = l.name;
    }
    o(list_code_indent_);
    if (li.name == "ul") {
        list_code_indent_ += "  ";
        o("* ");
    } else if (li.name == "ol") {
        ++li.num;
        list_code_indent_ += "   ";
        o(std::to_string(li.num) + ". ");
    }
    start_ = true;
}

std::string Html2TextWriter::finish() {
    pbr();
    o("", false, Force::end);
    return std::move(out_);
}

}  // namespace gossamer::tools::browser
