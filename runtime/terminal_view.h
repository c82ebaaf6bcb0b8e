// Shows an agent run to a person: reasoning dimmed, tool calls with a short result, the
// final answer in full, and a status line when the run stops. Colours and the "running"
// line only on a terminal. An observer: it must not change the session.
#pragma once

#include <cstdio>
#include <string>

#include "runtime/events.h"

namespace gossamer::runtime {

class TerminalView final : public EventSink {
  public:
    // `out` receives the view; `tty` turns on colours.
    TerminalView(std::FILE* out, bool tty) : out_(out), tty_(tty) {}
    void on_event(const Event& event) override;

  private:
    void style(const char* ansi);
    std::FILE* out_;
    bool tty_;
    std::string channel_;  // of the message being streamed
    bool at_line_start_ = true;
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
