#include "runtime/gen_ai_tracer.h"

#include <chrono>

namespace gossamer::runtime {

using Json = nlohmann::ordered_json;

std::uint64_t unix_nanos() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

namespace {

constexpr const char* kProvider = "gossamer";

// A text part list as the conventions' message JSON has it.
Json text_message(const std::string& role, const std::string& text) {
    return Json{{"role", role},
                {"parts", Json::array({Json{{"type", "text"}, {"content", text}}})}};
}

std::string call_id(const std::string& session, std::size_t index) {
    return session + ":" + std::to_string(index);  // harmony calls have no ids: the message's
}

}  // namespace

GenAiTracer::GenAiTracer(TracerOptions options, std::function<void(Span)> sink)
    : options_(std::move(options)), sink_(std::move(sink)) {}

GenAiTracer::~GenAiTracer() {
    for (auto& [index, span] : calls_) {
        span.error = true, span.status_message = "the run stopped during the call";
        end(std::move(span));
    }
    calls_.clear();
    if (run_) {
        run_->error = true, run_->status_message = "the run stopped without an end";
        end(std::move(*run_));
        run_.reset();
    }
}

Span GenAiTracer::child(std::string name, int kind) const {
    Span s;
    s.trace_id = run_->trace_id;
    s.span_id = random_hex(16);
    s.parent_span_id = run_->span_id;
    s.name = std::move(name);
    s.kind = kind;
    s.start_ns = unix_nanos();
    s.attributes["gen_ai.provider.name"] = kProvider;
    s.attributes["gen_ai.conversation.id"] = run_->attributes["gen_ai.conversation.id"];
    return s;
}

void GenAiTracer::end(Span span) {
    if (span.end_ns == 0) span.end_ns = unix_nanos();
    if (sink_) sink_(std::move(span));
}

void GenAiTracer::start_run(const std::string& session) {
    Span s;
    s.trace_id = random_hex(32);
    s.span_id = random_hex(16);
    s.name = "invoke_agent " + options_.agent_name;
    s.start_ns = unix_nanos();
    auto& a = s.attributes;
    a["gen_ai.operation.name"] = "invoke_agent";
    a["gen_ai.provider.name"] = kProvider;
    a["gen_ai.agent.name"] = options_.agent_name;
    a["gen_ai.conversation.id"] = session;
    a["gen_ai.request.model"] = options_.model;
    if (options_.content) {
        if (options_.instructions)
            a["gen_ai.system_instructions"] =
                Json::array({Json{{"type", "text"}, {"content", *options_.instructions}}}).dump();
        if (!options_.task.empty())
            a["gen_ai.input.messages"] = Json::array({text_message("user", options_.task)}).dump();
    }
    run_ = std::move(s);
}

std::string GenAiTracer::traceparent(std::optional<std::size_t> call_index) const {
    if (!run_) return "";
    const Span* span = &*run_;
    if (call_index)
        if (const auto it = calls_.find(*call_index); it != calls_.end()) span = &it->second;
    return "00-" + span->trace_id + "-" + span->span_id + "-01";
}

void GenAiTracer::on_event(const Event& event) {
    if (ended_) return;
    if (!run_) start_run(event.session);  // SessionStarted, or whatever comes first
    std::visit(
        Overloaded{
            [&](const MessageDone& m) {
                if (!options_.content || m.header.role != "assistant") return;
                Json part;
                if (m.header.recipient)
                    part = Json{{"type", "tool_call"},
                                {"name", *m.header.recipient},
                                {"arguments", m.text}};
                else if (m.header.channel == std::optional<std::string>("analysis"))
                    part = Json{{"type", "reasoning"}, {"content", m.text}};
                else
                    part = Json{{"type", "text"}, {"content", m.text}};
                turn_output_.push_back(std::move(part));
            },
            [&](const GenerationDone& g) {
                Span s = child("chat " + options_.model, 3);
                s.end_ns = s.start_ns;
                const auto took = static_cast<std::uint64_t>(g.ms * 1e6);
                s.start_ns = s.end_ns > took ? s.end_ns - took : 0;
                auto& a = s.attributes;
                a["gen_ai.operation.name"] = "chat";
                a["gen_ai.request.model"] = options_.model;
                a["gen_ai.response.model"] = options_.model;
                a["gen_ai.response.finish_reasons"] = Json::array({g.finish_reason});
                a["gen_ai.usage.input_tokens"] = g.prompt_tokens;
                a["gen_ai.usage.output_tokens"] = g.output_tokens;
                a["gen_ai.usage.cache_read.input_tokens"] = g.cached_tokens;
                a["gen_ai.usage.reasoning.output_tokens"] = g.reasoning_tokens;
                a["gossamer.turn"] = g.turn;
                if (g.parse_errors) a["gossamer.parse_errors"] = g.parse_errors;
                if (!g.endpoint.empty()) a["server.address"] = g.endpoint;
                if (g.finish_reason == "error") s.error = true;
                if (options_.content) {
                    if (!turn_input_.empty()) a["gen_ai.input.messages"] = turn_input_.dump();
                    a["gen_ai.output.messages"] =
                        Json::array({Json{{"role", "assistant"},
                                          {"parts", turn_output_},
                                          {"finish_reason", g.finish_reason}}})
                            .dump();
                }
                turn_input_ = Json::array();
                turn_output_ = Json::array();
                input_tokens_ += g.prompt_tokens;  // the run's output total comes with its end
                end(std::move(s));
            },
            [&](const HookDecided& h) {
                SpanEvent ev{"gossamer.hook", unix_nanos(), Json::object()};
                ev.attributes["gossamer.hook.kind"] = h.hook;
                ev.attributes["gossamer.hook.command"] = h.command;
                ev.attributes["gossamer.hook.decision"] = h.decision;
                ev.attributes["gossamer.hook.ms"] = h.ms;
                if (options_.content && !h.reason.empty())
                    ev.attributes["gossamer.hook.reason"] = h.reason;
                if (!h.message) return run_->events.push_back(std::move(ev));
                if (auto it = calls_.find(*h.message); it != calls_.end())
                    return it->second.events.push_back(std::move(ev));
                pending_hooks_[*h.message].push_back(std::move(ev));
            },
            [&](const ToolStarted& t) {
                Span s = child("execute_tool " + t.recipient, 1);
                if (auto it = pending_hooks_.find(t.message); it != pending_hooks_.end()) {
                    s.events = std::move(it->second);
                    pending_hooks_.erase(it);
                }
                auto& a = s.attributes;
                a["gen_ai.operation.name"] = "execute_tool";
                a["gen_ai.tool.name"] = t.recipient;
                a["gen_ai.tool.call.id"] = call_id(event.session, t.message);
                a["gen_ai.tool.type"] = "function";
                if (options_.content) a["gen_ai.tool.call.arguments"] = t.arguments;
                calls_[t.message] = std::move(s);
            },
            [&](const ToolFinished& t) {
                auto it = calls_.find(t.message);
                if (it == calls_.end()) return;
                Span s = std::move(it->second);
                calls_.erase(it);
                s.attributes["gossamer.tool.outcome"] = t.ok ? "ok" : "error";
                if (!t.ok) {
                    s.error = true;
                    s.attributes["error.type"] = "tool_error";
                }
                if (options_.content) {
                    s.attributes["gen_ai.tool.call.result"] = t.result;
                    turn_input_.push_back(Json{
                        {"role", "tool"},
                        {"parts", Json::array({Json{{"type", "tool_call_response"},
                                                    {"id", s.attributes["gen_ai.tool.call.id"]},
                                                    {"response", t.result}}})}});
                }
                end(std::move(s));
            },
            [&](const ToolInterrupted& t) {
                auto it = calls_.find(t.message);
                if (it == calls_.end()) return;
                Span s = std::move(it->second);
                calls_.erase(it);
                s.error = true, s.status_message = "interrupted by " + t.by;
                s.attributes["gossamer.tool.outcome"] = "interrupted";
                s.attributes["error.type"] = "interrupted";
                end(std::move(s));
            },
            [&](const SessionFinished& f) {
                for (auto& [index, span] : calls_) {
                    span.error = true, span.status_message = "the run ended during the call";
                    end(std::move(span));
                }
                calls_.clear();
                for (auto& [index, held] : pending_hooks_)  // calls their hooks denied
                    for (auto& ev : held) run_->events.push_back(std::move(ev));
                pending_hooks_.clear();
                Span s = std::move(*run_);
                run_.reset();
                ended_ = true;
                auto& a = s.attributes;
                a["gossamer.stop_reason"] = f.reason;
                a["gossamer.turns"] = f.turns;
                a["gen_ai.usage.input_tokens"] = input_tokens_;
                a["gen_ai.usage.output_tokens"] = f.output_tokens;
                if (f.error) {
                    s.error = true, s.status_message = *f.error;
                    a["error.type"] = f.reason;
                }
                if (options_.content && f.final_answer)
                    a["gen_ai.output.messages"] =
                        Json::array({text_message("assistant", *f.final_answer)}).dump();
                end(std::move(s));
            },
            [](const auto&) {},
        },
        event.body);
}

}  // namespace gossamer::runtime
