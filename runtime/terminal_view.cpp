#include "runtime/terminal_view.h"

namespace gossamer::runtime {

namespace {
constexpr const char* kDim = "\033[2m";
constexpr const char* kBold = "\033[1m";
constexpr const char* kCyan = "\033[36m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kReset = "\033[0m";

std::string one_line(std::string text, std::size_t max) {
    for (char& c : text)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (text.size() > max) text = text.substr(0, max) + "...";
    return text;
}
}  // namespace

void TerminalView::style(const char* ansi) {
    if (tty_) std::fputs(ansi, out_);
}

void TerminalView::on_event(const Event& e) {
    const auto& d = e.data;
    auto newline = [&] {
        if (!at_line_start_) std::fputc('\n', out_), at_line_start_ = true;
    };
    if (e.kind == "session.started") {
        style(kDim);
        std::fprintf(out_, "session %s\n", e.session.c_str());
        style(kReset);
    } else if (e.kind == "message.started") {
        newline();
        channel_ = d.value("channel", nlohmann::ordered_json()).is_string()
                       ? d["channel"].get<std::string>()
                       : "";
        const bool call = d["recipient"].is_string();
        if (call) {
            style(kCyan);
            std::fprintf(out_, "→ %s ", d["recipient"].get<std::string>().c_str());
        } else if (channel_ == "analysis") {
            style(kDim);
        } else if (channel_ == "final") {
            style(kBold);
        }
    } else if (e.kind == "message.delta") {
        const std::string text = d.value("text", "");
        std::fputs(text.c_str(), out_);
        if (!text.empty()) at_line_start_ = text.back() == '\n';
    } else if (e.kind == "message.done") {
        style(kReset);
        newline();
    } else if (e.kind == "tool.finished") {
        newline();
        style(d.value("ok", false) ? kDim : kRed);
        std::fprintf(out_, "  ← %s (%.0f ms): %s\n", d.value("recipient", "").c_str(),
                     d.value("ms", 0.0), one_line(d.value("result", ""), 160).c_str());
        style(kReset);
    } else if (e.kind == "tool.started" && tty_) {
        std::fprintf(out_, "%s  running %s ...%s\n", kDim, d.value("recipient", "").c_str(),
                     kReset);
    } else if (e.kind == "context.trimmed" || e.kind == "warning") {
        newline();
        style(kDim);
        std::fprintf(out_, "[%s] %s\n", e.kind.c_str(), d.dump().c_str());
        style(kReset);
    } else if (e.kind == "session.finished") {
        newline();
        style(kDim);
        std::fprintf(out_, "[%s after %d turns, %d output tokens]%s%s\n",
                     d.value("reason", "").c_str(), d.value("turns", 0),
                     d.value("output_tokens", 0), d.contains("error") ? " " : "",
                     d.value("error", "").c_str());
        style(kReset);
    }
    std::fflush(out_);
}

void JsonLinesView::on_event(const Event& event) {
    const std::string line =
        event.to_json().dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
        "\n";
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);
}

}  // namespace gossamer::runtime
