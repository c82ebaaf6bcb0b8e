#include "runtime/terminal_view.h"

namespace gossamer::runtime {

namespace {
constexpr const char* kDim = "\033[2m";
constexpr const char* kBold = "\033[1m";
constexpr const char* kCyan = "\033[36m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kReset = "\033[0m";
constexpr const char* kClearLine = "\r\033[K";

std::string one_line(std::string text, std::size_t max) {
    for (char& c : text)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (text.size() > max) {
        std::size_t cut = max;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
        text = text.substr(0, cut) + "...";
    }
    return text;
}

std::string with_commas(long n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}
}  // namespace

void TerminalView::style(const char* ansi) {
    if (tty_) std::fputs(ansi, out_);
}

void TerminalView::clear_status() {
    if (!status_shown_) return;
    std::fputs(kClearLine, out_);
    status_shown_ = false;
}

std::string TerminalView::status() const {
    if (!started_) return "";
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - *started_).count();
    double rate = tokens_per_s_;  // of the last turn; while one is sampled, its own so far
    const double turn_s = std::chrono::duration<double>(now - turn_started_).count();
    if (deltas_ > 0 && turn_s > 0.05) rate = deltas_ / turn_s;
    char text[256];
    std::snprintf(text, sizeof text, "turn %d · %.1f tok/s · ctx %s%s · %.1f s", turn_ + 1, rate,
                  with_commas(context_).c_str(),
                  window_ > 0
                      ? (" / " + with_commas(window_) + " (" +
                         std::to_string(static_cast<int>(100.0 * context_ / window_)) + "%)")
                            .c_str()
                      : "",
                  elapsed);
    std::string line = text;
    if (!tool_.empty()) line += " · running " + tool_;
    return line;
}

void TerminalView::draw_status() {
    // Not inside a message being shown: its text (and style) own the line until it ends.
    if (!tty_ || verbosity_ == Verbosity::quiet || !at_line_start_ || !started_ || streaming_)
        return;
    clear_status();
    std::fputs(kDim, out_);
    std::fputs(status().c_str(), out_);
    std::fputs(kReset, out_);
    status_shown_ = true;
    last_draw_ = Clock::now();
}

void TerminalView::tick() {
    if (!tty_ || !status_shown_) return;
    draw_status();
    std::fflush(out_);
}

void TerminalView::newline() {
    if (!at_line_start_) std::fputc('\n', out_), at_line_start_ = true;
}

void TerminalView::write(std::string_view text) {
    if (text.empty()) return;
    std::fwrite(text.data(), 1, text.size(), out_);
    at_line_start_ = text.back() == '\n';
}

void TerminalView::on_event(const Event& e) {
    const bool quiet = verbosity_ == Verbosity::quiet;
    // Every write starts on a line of its own, without the status line.
    auto begin = [&] {
        clear_status();
        newline();
    };
    auto note = [&](std::string_view kind, const EventJson& fields) {
        if (quiet) return;
        begin();
        style(kDim);
        std::fprintf(out_, "[%.*s] %s\n", static_cast<int>(kind.size()), kind.data(),
                     fields.dump().c_str());
        style(kReset);
    };
    std::visit(
        Overloaded{
            [&](const SessionStarted&) {
                started_ = Clock::now();
                turn_started_ = *started_;
                if (quiet) return;
                begin();
                style(kDim);
                std::fprintf(out_, "session %s\n", e.session.c_str());
                style(kReset);
            },
            [&](const MessageStarted& m) {
                channel_ = m.header.channel.value_or("");
                if (deltas_ == 0) turn_started_ = Clock::now();
                const bool reasoning = channel_ == "analysis" && !m.header.recipient;
                const bool final = channel_ == "final" && !m.header.recipient;
                streaming_ = quiet ? false : !reasoning || verbosity_ == Verbosity::verbose;
                if (!streaming_) return;
                begin();
                if (m.header.recipient) {
                    style(kCyan);
                    write(tty_ ? "→ " + *m.header.recipient + " "
                               : "call " + *m.header.recipient + ": ");
                } else if (reasoning) {
                    style(kDim);
                    if (!tty_) write("reasoning:\n");
                } else if (final) {
                    style(kBold);
                    if (!tty_) write("final answer:\n");
                }
            },
            [&](const MessageDelta& d) {
                ++deltas_;
                if (streaming_) {
                    clear_status();
                    write(d.text);
                }
            },
            [&](const MessageDone& m) {
                const bool reasoning = m.header.channel == std::optional<std::string>("analysis") &&
                                       !m.header.recipient;
                // (Quiet streams nothing: its answer comes with session.finished, citations
                // resolved there.)
                if (streaming_) {
                    style(kReset);
                    clear_status();
                    newline();
                } else if (!quiet && reasoning && !m.text.empty()) {  // normal: one line of it
                    begin();
                    style(kDim);
                    write((tty_ ? "· " : "reasoning: ") + one_line(m.text, 120) + " (" +
                          std::to_string(m.text.size()) + " chars; --verbose shows it all)\n");
                    style(kReset);
                }
                streaming_ = false;
                channel_.clear();
            },
            [&](const GenerationDone& g) {
                turn_ = g.turn;
                if (g.ms > 0) tokens_per_s_ = g.output_tokens / (g.ms / 1000);
                context_ = g.prompt_tokens + g.output_tokens;
                if (g.window > 0) window_ = g.window;
                deltas_ = 0;
            },
            [&](const ToolStarted& t) { tool_ = t.recipient; },
            [&](const ToolFinished& t) {
                tool_.clear();
                if (quiet) return;
                begin();
                style(t.ok ? kDim : kRed);
                std::fprintf(out_, "%s%s (%.0f ms): %s\n", tty_ ? "  ← " : "result ",
                             t.recipient.c_str(), t.ms, one_line(t.result, 160).c_str());
                style(kReset);
            },
            [&](const ToolInterrupted&) { tool_.clear(); },
            [&](const ContextTrimmed& t) { note(e.kind(), fields_of(t)); },
            [&](const ContextCompacted& c) {
                note(e.kind(), EventJson{{"tokens_before", c.tokens_before},
                                         {"tokens_after", c.tokens_after},
                                         {"kept_from_message", c.keep_from}});
            },
            [&](const Warning& w) { note(e.kind(), fields_of(w)); },
            [&](const HookDecided& h) {
                if (quiet || h.decision == "allow") return;  // the quiet case: only in --json
                begin();
                style(h.decision == "deny" ? kRed : kDim);
                std::fprintf(out_, "  [hook %s %s %s: %s]\n", h.hook.c_str(), h.command.c_str(),
                             h.decision.c_str(), one_line(h.reason, 160).c_str());
                style(kReset);
            },
            [&](const SessionFinished& f) {
                if (quiet) {
                    if (f.final_answer) {
                        write(*f.final_answer);
                        newline();
                    } else {  // no answer: why, on stderr (stdout stays empty)
                        std::fprintf(stderr, "gossamer: %s after %d turns%s%s\n", f.reason.c_str(),
                                     f.turns, f.error ? ": " : "", f.error.value_or("").c_str());
                    }
                    return;
                }
                begin();
                style(kDim);
                std::fprintf(out_, "[%s after %d turns, %d output tokens]%s%s\n", f.reason.c_str(),
                             f.turns, f.output_tokens, f.error ? " " : "",
                             f.error.value_or("").c_str());
                style(kReset);
                started_.reset();  // no status line after the end
            },
            [](const auto&) {},  // usage: only in --json
        },
        e.body);
    // Redrawn on every change of what it shows; for text, at most ten times a second.
    if (!std::holds_alternative<MessageDelta>(e.body) || !status_shown_ ||
        Clock::now() - last_draw_ > std::chrono::milliseconds(100))
        draw_status();
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
