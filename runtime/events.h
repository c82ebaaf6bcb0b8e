// Where an agent run's events go: EventSinks on the event loop (the terminal view, the
// JSON-lines writer, the server's streams, tests). The events themselves are types in
// runtime/protocol.h. Observers only watch: they must not change the session (the store and the
// agent loop own it).
#pragma once

#include <vector>

#include "runtime/protocol.h"

namespace gossamer::runtime {

class EventSink {
  public:
    virtual ~EventSink() = default;
    virtual void on_event(const Event& event) = 0;
};

// Forwards to several sinks in order.
class EventFanout final : public EventSink {
  public:
    void add(EventSink& sink) { sinks_.push_back(&sink); }
    void on_event(const Event& event) override {
        for (auto* s : sinks_) s->on_event(event);
    }

  private:
    std::vector<EventSink*> sinks_;
};

}  // namespace gossamer::runtime
