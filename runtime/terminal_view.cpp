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
    auto newline = [&] {
        if (!at_line_start_) std::fputc('\n', out_), at_line_start_ = true;
    };
    auto note = [&](std::string_view kind, const EventJson& fields) {
        newline();
        style(kDim);
        std::fprintf(out_, "[%.*s] %s\n", static_cast<int>(kind.size()), kind.data(),
                     fields.dump().c_str());
        style(kReset);
    };
    std::visit(
        Overloaded{
            [&](const SessionStarted&) {
                style(kDim);
                std::fprintf(out_, "session %s\n", e.session.c_str());
                style(kReset);
            },
            [&](const MessageStarted& m) {
                newline();
                channel_ = m.header.channel.value_or("");
                if (m.header.recipient) {
                    style(kCyan);
                    std::fprintf(out_, "→ %s ", m.header.recipient->c_str());
                } else if (channel_ == "analysis") {
                    style(kDim);
                } else if (channel_ == "final") {
                    style(kBold);
                }
            },
            [&](const MessageDelta& d) {
                std::fputs(d.text.c_str(), out_);
                if (!d.text.empty()) at_line_start_ = d.text.back() == '\n';
            },
            [&](const MessageDone&) {
                style(kReset);
                newline();
            },
            [&](const ToolStarted& t) {
                if (tty_)
                    std::fprintf(out_, "%s  running %s ...%s\n", kDim, t.recipient.c_str(), kReset);
            },
            [&](const ToolFinished& t) {
                newline();
                style(t.ok ? kDim : kRed);
                std::fprintf(out_, "  ← %s (%.0f ms): %s\n", t.recipient.c_str(), t.ms,
                             one_line(t.result, 160).c_str());
                style(kReset);
            },
            [&](const ContextTrimmed& t) { note(e.kind(), fields_of(t)); },
            [&](const Warning& w) { note(e.kind(), fields_of(w)); },
            [&](const HookDecided& h) {
                if (h.decision == "allow") return;  // the quiet case: only in --json
                newline();
                style(h.decision == "deny" ? kRed : kDim);
                std::fprintf(out_, "  [hook %s %s %s: %s]\n", h.hook.c_str(), h.command.c_str(),
                             h.decision.c_str(), one_line(h.reason, 160).c_str());
                style(kReset);
            },
            [&](const SessionFinished& f) {
                newline();
                style(kDim);
                std::fprintf(out_, "[%s after %d turns, %d output tokens]%s%s\n", f.reason.c_str(),
                             f.turns, f.output_tokens, f.error ? " " : "",
                             f.error.value_or("").c_str());
                style(kReset);
            },
            [](const auto&) {},  // generation, usage, tool.interrupted: only in --json
        },
        e.body);
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
