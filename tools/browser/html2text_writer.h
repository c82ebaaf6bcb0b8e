// The text html2text (Alir3z4/html2text) writes for simple_browser's settings: links,
// images, tables and emphasis ignored, no wrapping, unicode kept. Fed tag and text events in
// document order (what Python's HTMLParser would report for lxml's serialisation), it keeps
// html2text's state machine: pending paragraph breaks, deferred spaces, list indents,
// blockquotes, <pre> indentation, and the markdown escaping html2text still applies (the
// browser's attempt to switch it off does not reach html2text's own module). It must not
// parse HTML or know about links; html_to_text.cpp drives it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/browser/dom.h"

namespace gossamer::tools::browser {

class Html2TextWriter {
  public:
    void start_tag(const Node& element) { handle_tag(element.tag, &element, true); }
    void end_tag(std::string_view tag) { handle_tag(tag, nullptr, false); }
    // Text of a text node; `raw` for script/style content (never split at entities).
    void text(std::string_view data, bool raw = false);
    // The document's text, before the browser's own clean-up (not yet stripped).
    std::string finish();

  private:
    enum class Force { no, yes, end };
    struct List {
        std::string name;  // "ul" | "ol"
        long num = 0;
    };

    void handle_tag(std::string_view tag, const Node* element, bool start);
    void handle_data(std::string data, bool entity_char);
    void o(std::string data, bool puredata = false, Force force = Force::no);
    void out(std::string_view s);
    void list_tag(std::string_view tag, const Node* element, bool start);
    void list_item(bool start);
    void pbr() {
        if (p_p_ == 0) p_p_ = 1;
    }
    void p() { p_p_ = 2; }
    void soft_br() {
        pbr();
        br_toggle_ = "  ";
    }

    std::string out_;
    bool last_was_nl_ = false;
    int quiet_ = 0;
    int p_p_ = 0;
    bool start_ = true;
    bool space_ = false;
    std::vector<List> list_;
    int blockquote_ = 0;
    bool pre_ = false;
    bool startpre_ = false;
    std::string pre_indent_;
    std::string list_code_indent_;
    bool code_ = false;
    bool quote_ = false;
    std::string br_toggle_;
    bool last_was_list_ = false;
    std::optional<std::string> abbr_title_;
    std::optional<std::string> abbr_data_;
    std::vector<std::pair<std::string, std::string>> abbr_list_;  // insertion order
    bool stressed_ = false;
    bool preceding_stressed_ = false;
    std::string preceding_data_;
    std::string current_tag_;
};

}  // namespace gossamer::tools::browser
