// Shows an agent run to a person. On a terminal: colours, reasoning dimmed (a one-line
// summary, or streamed in full when verbose), tool calls with a short result, the final
// answer in full, and a live status line at the bottom (turn, tokens/s, context fill,
// elapsed, the tool running) redrawn in place. Piped: no escapes, and every block labelled
// (`reasoning:`, `call:`, `result:`, `final answer:`) so a reader can tell them apart. Quiet:
// the final answer only. An observer: it must not change the session.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "runtime/events.h"

namespace gossamer::runtime {

enum class Verbosity { quiet, normal, verbose };

class TerminalView final : public EventSink {
  public:
    // `out` receives the view; `tty` turns on colours and the status line.
    TerminalView(std::FILE* out, bool tty, Verbosity verbosity = Verbosity::normal)
        : out_(out), tty_(tty), verbosity_(verbosity) {}
    void on_event(const Event& event) override;
    // Redraws the status line (elapsed time moves on between events); call a few times a
    // second on a terminal.
    void tick();
    // The status line's text now ("" before the run started).
    std::string status() const;

  private:
    using Clock = std::chrono::steady_clock;
    void style(const char* ansi);
    void clear_status();
    void draw_status();
    void newline();
    void write(std::string_view text);  // content: moves at_line_start_

    std::FILE* out_;
    bool tty_;
    Verbosity verbosity_;
    std::string channel_;     // of the message being streamed
    bool streaming_ = false;  // the current message's text is shown as it comes
    bool at_line_start_ = true;
    bool status_shown_ = false;
    // For the status line.
    std::optional<Clock::time_point> started_;
    Clock::time_point turn_started_{};
    int turn_ = 0;
    int deltas_ = 0;           // text pieces of this turn (about one per token)
    double tokens_per_s_ = 0;  // of the last finished turn
    int context_ = 0, window_ = 0;
    std::string tool_;  // running now
    Clock::time_point last_draw_{};
};

// One JSON object per line (`--json`), flushed per event so a reader sees each as it happens.
class JsonLinesView final : public EventSink {
  public:
    explicit JsonLinesView(std::FILE* out) : out_(out) {}
    void on_event(const Event& event) override;

  private:
    std::FILE* out_;
};

}  // namespace gossamer::runtime
