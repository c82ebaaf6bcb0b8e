// What an agent run reports while it works: one Event per step (docs/CLI.md lists the kinds
// and fields), delivered to observers on the event loop: the terminal view, the JSON-lines
// writer, tests. Observers only watch: they must not change the session (the store and the
// agent loop own it).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gossamer::runtime {

// Kinds: session.started, message.started {role, channel, recipient}, message.delta {text},
// message.done {role, channel, recipient, content_type, text}, tool.started {call,
// recipient, arguments}, tool.finished {recipient, ok, ms, result}, usage {prompt_tokens,
// output_tokens, ...}, context.trimmed {what}, warning {what}, session.finished {reason,
// final?}.
struct Event {
    std::string kind;
    std::string session;
    nlohmann::ordered_json data = nlohmann::ordered_json::object();
    // {"event": kind, "session": id, ...data}: one line of `--json` output.
    nlohmann::ordered_json to_json() const;
};

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
