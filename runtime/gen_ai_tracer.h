// OpenTelemetry GenAI spans of one agent run, made from its events (an EventSink): an
// `invoke_agent` span for the run, a `chat` span per model turn (tokens in / cached / out /
// reasoning, finish reason, model time) and an `execute_tool` span per call (tool name, call
// id, outcome), all in one trace, named and attributed after the GenAI semantic conventions
// (docs/TELEMETRY.md). Message text, tool arguments and results only when `content` is on.
// It builds spans and hands each finished one to a sink (otlp_exporter.h); it must not do
// I/O or block, and it never changes the session.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/events.h"
#include "runtime/random_hex.h"

namespace gossamer::runtime {

// Something that happened during a span (a policy hook's decision).
struct SpanEvent {
    std::string name;
    std::uint64_t time_ns = 0;
    nlohmann::ordered_json attributes = nlohmann::ordered_json::object();
};

struct Span {
    std::string trace_id;        // 32 lowercase hex digits
    std::string span_id;         // 16 lowercase hex digits
    std::string parent_span_id;  // "" for the root
    std::string name;
    int kind = 1;                            // OTLP SpanKind: 1 internal, 3 client
    std::uint64_t start_ns = 0, end_ns = 0;  // unix nanoseconds
    // key -> string | integer | double | bool | array of strings
    nlohmann::ordered_json attributes = nlohmann::ordered_json::object();
    bool error = false;
    std::string status_message;
    std::vector<SpanEvent> events;
};

struct TracerOptions {
    std::string agent_name;
    std::string model;  // gen_ai.request.model
    bool content = false;
    // With content on: the instructions and the task, on the invoke_agent span.
    std::optional<std::string> instructions;
    std::string task;
};

class GenAiTracer final : public EventSink {
  public:
    GenAiTracer(TracerOptions options, std::function<void(Span)> sink);
    // Ends what is still open (a run stopped without session.finished) as an error.
    ~GenAiTracer() override;
    void on_event(const Event& event) override;
    // W3C traceparent of the call's execute_tool span while it is open, else of the run's
    // span ("" before the run started).
    std::string traceparent(std::optional<std::size_t> call_index = std::nullopt) const;

  private:
    Span child(std::string name, int kind) const;
    void end(Span span);
    void start_run(const std::string& session);

    TracerOptions options_;
    std::function<void(Span)> sink_;
    std::optional<Span> run_;
    std::map<std::size_t, Span> calls_;  // open execute_tool spans by call index
    // pre_tool hooks decide before their call's span opens: held until it does (or, for a
    // call they denied, put on the run's span).
    std::map<std::size_t, std::vector<SpanEvent>> pending_hooks_;
    nlohmann::ordered_json turn_output_ = nlohmann::ordered_json::array();  // content: parts
    nlohmann::ordered_json turn_input_ = nlohmann::ordered_json::array();   // content: results
    long input_tokens_ = 0;  // summed over the run's turns
    bool ended_ = false;
};

std::uint64_t unix_nanos();

}  // namespace gossamer::runtime
