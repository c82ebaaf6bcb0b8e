#include "tools/mcp/sse_parser.h"

#include <charconv>

namespace gossamer::tools {

std::vector<SseEvent> SseParser::feed(std::string_view bytes) {
    std::vector<SseEvent> out;
    if (!started_ && !bytes.empty()) {
        started_ = true;
        if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
    }
    for (char c : bytes) {
        if (skip_lf_) {
            skip_lf_ = false;
            if (c == '\n') continue;
        }
        if (c == '\n' || c == '\r') {
            skip_lf_ = c == '\r';
            if (!oversized_) line(pending_, out);
            oversized_ = false;
            pending_.clear();
            continue;
        }
        if (pending_.size() >= max_line) {
            oversized_ = true;  // this line is dropped, and with it its event
            has_data_ = false;
            event_ = SseEvent{};
            pending_.clear();
            continue;
        }
        if (!oversized_) pending_.push_back(c);
    }
    return out;
}

void SseParser::line(std::string_view text, std::vector<SseEvent>& out) {
    if (text.empty()) {  // dispatch
        if (has_data_) {
            event_.id = last_id_;
            out.push_back(std::move(event_));
        }
        event_ = SseEvent{};
        has_data_ = false;
        return;
    }
    if (text.front() == ':') return;  // a comment (keep-alive)
    const std::size_t colon = text.find(':');
    const std::string_view field = text.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : text.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
    if (field == "data") {
        if (event_.data.size() + value.size() + 1 > max_event) {
            event_ = SseEvent{};
            has_data_ = false;
            return;
        }
        if (has_data_) event_.data.push_back('\n');
        event_.data.append(value);
        has_data_ = true;
    } else if (field == "event") {
        event_.type = value.empty() ? "message" : std::string(value);
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) last_id_ = std::string(value);
    } else if (field == "retry") {
        long ms = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
        if (ec == std::errc() && end == value.data() + value.size() && ms >= 0 &&
            value.find_first_not_of("0123456789") == std::string_view::npos)
            retry_ = ms;
    }
}

}  // namespace gossamer::tools
