#include "runtime/agent_loop.h"

#include <boost/asio/post.hpp>

#include "harmony/special_tokens.h"
#include "harmony/tokenizer.h"
#include "runtime/json_constraint.h"
#include "tools/schema_check.h"

namespace gossamer::runtime {

using harmony::Message;
using harmony::Role;
using Json = nlohmann::ordered_json;
namespace tok = harmony::tok;

const char* to_string(StopReason reason) {
    switch (reason) {
        case StopReason::Final:
            return "final";
        case StopReason::MaxTurns:
            return "max_turns";
        case StopReason::MaxOutputTokens:
            return "max_output_tokens";
        case StopReason::WallTime:
            return "wall_time";
        case StopReason::ContextFull:
            return "context_full";
        case StopReason::Cancelled:
            return "cancelled";
        case StopReason::Interrupted:
            return "interrupted";
        case StopReason::Error:
            return "error";
    }
    return "error";
}

const char* state_of(StopReason reason) {
    switch (reason) {
        case StopReason::Final:
            return "finished";
        case StopReason::Cancelled:
            return "cancelled";
        case StopReason::Interrupted:
            return "interrupted";
        case StopReason::Error:
            return "failed";
        default:
            return "budget";
    }
}

// The generation in flight: its parser and what observers have been told.
// A compaction turn in flight: the model writing the summary (runtime/compaction.h).
struct AgentLoop::Compacting {
    harmony::StreamParser parser{Role::assistant};
    int tokens = 0;
    int tokens_before = 0;
    std::size_t keep_from = 0;
    std::size_t messages = 0;
};

struct AgentLoop::Generation {
    harmony::StreamParser parser{Role::assistant};
    std::size_t announced = 0;  // messages whose message.started was emitted
    std::size_t completed = 0;  // messages whose message.done was emitted
    int tokens = 0;
    int reasoning_tokens = 0;  // sampled inside analysis messages
    int prompt_tokens = 0;
    std::chrono::steady_clock::time_point begun = std::chrono::steady_clock::now();
};

namespace {

double elapsed_ms(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
        .count();
}

MessageHeader header_of(const Message& m) {
    return {std::string(harmony::to_string(m.role)), m.channel, m.recipient};
}

}  // namespace

std::vector<Message> opening_messages(const AgentSpec& spec, const ToolRegistry& tools,
                                      const std::string& today) {
    std::vector<Message> out;
    harmony::SystemContent system;
    if (spec.system.identity) system.model_identity = *spec.system.identity;
    system.reasoning_effort = spec.model.reasoning_effort;
    system.conversation_start_date = spec.system.date.value_or(today);
    system.knowledge_cutoff = spec.system.knowledge_cutoff;
    system.tools = tools.system_tools();
    Message sys;
    sys.role = Role::system;
    sys.content.push_back(system);
    out.push_back(std::move(sys));

    harmony::DeveloperContent developer;
    developer.instructions = spec.instructions;
    // A tool's own instructions follow the spec's, as gpt-oss's reference chat.py joins them
    // ("(developer message + \n) + apply_patch.md").
    tools.for_each([&](tools::Tool& t) {
        if (auto extra = t.developer_instructions())
            developer.instructions =
                (developer.instructions ? *developer.instructions + "\n" : "") + *extra;
    });
    developer.tools = tools.developer_tools();
    if (developer.instructions || developer.tools) {
        Message dev;
        dev.role = Role::developer;
        dev.content.push_back(developer);
        out.push_back(std::move(dev));
    }
    out.push_back(Message::text(Role::user, spec.task));
    return out;
}

AgentLoop::AgentLoop(boost::asio::io_context& io, ModelClient& model, ToolRegistry& tools,
                     SessionStore& store, EventSink& events, AgentSettings settings)
    : io_(io),
      model_(model),
      tools_(tools),
      store_(store),
      events_(events),
      settings_(std::move(settings)),
      renderer_(harmony::Tokenizer::o200k_harmony()),
      window_(renderer_, settings_.context),
      wall_timer_(io),
      tool_timer_(io) {}

AgentLoop::~AgentLoop() {
    if (conversation_) model_.close(conversation_);
}

std::vector<std::int32_t> AgentLoop::stop_tokens() const {
    return {static_cast<std::int32_t>(tok::kReturn), static_cast<std::int32_t>(tok::kCall),
            static_cast<std::int32_t>(tok::kEndOfText)};
}

void AgentLoop::emit(EventBody body, bool persist) {
    if (persist) {
        const auto kind = std::string(kind_of(body));
        const Json data = fields_of(body);
        if (!in_commit_) {
            if (!commit([&] { store_.append_event(settings_.session_id, kind, data); })) return;
        } else {
            store_.append_event(settings_.session_id, kind, data);  // the enclosing step's
        }
    }
    events_.on_event(Event{settings_.session_id, std::move(body)});
}

std::optional<std::string> AgentLoop::try_commit(const std::function<void()>& body) {
    const bool outer = in_commit_;
    in_commit_ = true;  // emit() inside `body` writes into this transaction
    std::optional<std::string> error;
    try {
        store_.transaction(body);
    } catch (const StoreError& e) {
        error = e.what();
    }
    in_commit_ = outer;
    return error;
}

bool AgentLoop::commit(const std::function<void()>& body) {
    if (finished_) return false;
    if (auto error = try_commit(body)) {
        abandon(*error);
        return false;
    }
    return true;
}

void AgentLoop::abandon(const std::string& why) {
    if (finished_) return;
    finished_ = true;
    wall_timer_.cancel();
    tool_timer_.cancel();
    if (generation_ || compacting_) model_.cancel(conversation_);
    if (call_in_flight_) tools_.cancel_all();
    Outcome outcome{StopReason::Error, {}, Json::array(), why, true, turns_, output_tokens_};
    events_.on_event(
        Event{settings_.session_id, SessionFinished{to_string(StopReason::Error), turns_,
                                                    output_tokens_, std::nullopt, Json(), why}});
    if (done_) boost::asio::post(io_, [done = std::move(done_), outcome] { done(outcome); });
}

void AgentLoop::run(std::function<void(const Outcome&)> done) {
    done_ = std::move(done);
    started_ = std::chrono::steady_clock::now();
    conversation_ = model_.open();
    if (!settings_.kv_file.empty()) model_.keep_on_disk(conversation_, settings_.kv_file);
    for (auto& m : store_.messages(settings_.session_id)) messages_.push_back(std::move(m.message));
    const auto stored_events = store_.events(settings_.session_id);
    const auto totals = generation_totals(stored_events);
    for (const auto& stored : stored_events)  // the latest compaction shapes the view
        if (const auto e = stored.typed())
            if (const auto* c = std::get_if<ContextCompacted>(&*e))
                compaction_ = Compaction{c->messages, c->keep_from, c->summary};
    turns_ = totals.turns;
    output_tokens_ = totals.output_tokens;
    emit(SessionStarted{messages_.size(), turns_}, false);

    std::weak_ptr<AgentLoop> weak = weak_from_this();
    wall_timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(settings_.limits.wall_time_seconds)));
    wall_timer_.async_wait([weak](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!self) return;
        if (ec || self->finished_) return;
        if (self->generation_ || self->compacting_) self->model_.cancel(self->conversation_);
        if (self->call_in_flight_) self->tools_.cancel_all();
        self->finish(StopReason::WallTime);
    });

    boost::asio::post(io_, [weak] {
        auto self = weak.lock();
        if (!self) return;
        if (self->messages_.empty())
            return self->finish(StopReason::Error, {}, "the session has no messages");
        self->reconcile_workspace();
        if (self->finished_) return;
        const Message& last = self->messages_.back();
        if (harmony::is_tool_call(last)) {
            const auto index = self->messages_.size() - 1;
            std::optional<ToolStarted> started;  // the last start of this call
            bool by_user = false;                // and a Ctrl-C recorded after it
            for (const auto& stored : self->store_.events(self->settings_.session_id)) {
                const auto e = stored.typed();
                if (!e) continue;
                if (const auto* i = std::get_if<ToolInterrupted>(&*e); i && i->message == index) {
                    by_user = started.has_value();
                } else if (const auto* t = std::get_if<ToolStarted>(&*e);
                           t && t->message == index) {
                    started = *t;
                    by_user = false;
                }
            }
            if (started) return self->resume_interrupted_call(index, *started, by_user);
            return self->dispatch(index);
        }
        if (last.role == Role::assistant && last.channel == "final")
            return self->finish(StopReason::Final, last.text_content());
        self->next_generation();
    });
}

void AgentLoop::resume_interrupted_call(std::size_t call_index, const ToolStarted& started,
                                        bool by_user) {
    const auto route = tools_.route(*messages_[call_index].recipient);
    if (by_user) {
        emit(Warning{"a tool call was interrupted by the user; the model is told",
                     started.recipient},
             true);
        return reply(call_index,
                     "Error: the user interrupted this call (Ctrl-C or a stop signal) before it "
                     "completed; it did not finish and its effects are unknown. Check the state "
                     "before calling it again.",
                     true, 0);
    }
    const bool rerun = route && route->tool->idempotent();
    emit(Warning{rerun ? "re-running a tool call interrupted by a crash (the tool is idempotent)"
                       : "a tool call was interrupted by a crash; the model is told",
                 started.recipient},
         true);
    if (rerun) return dispatch(call_index);
    reply(call_index,
          "Error: this call was interrupted (the agent process stopped while it ran) and was not "
          "completed; its effects are unknown. Check the state before calling it again.",
          true, 0);
}

void AgentLoop::cancel(StopReason why) {
    std::weak_ptr<AgentLoop> weak = weak_from_this();
    boost::asio::post(io_, [weak, why] {
        auto self = weak.lock();
        if (!self) return;
        if (self->finished_) return;
        if (self->generation_ || self->compacting_) self->model_.cancel(self->conversation_);
        if (self->call_in_flight_) {
            self->tools_.cancel_all();
            self->call_in_flight_ = false;
            if (why == StopReason::Interrupted)
                self->emit(ToolInterrupted{self->call_index_,
                                           *self->messages_[self->call_index_].recipient, "user"},
                           true);
        }
        self->finish(why);
    });
}

void AgentLoop::next_generation() {
    if (finished_) return;
    if (turns_ >= settings_.limits.max_turns) return finish(StopReason::MaxTurns);
    const int budget = settings_.limits.max_output_tokens - output_tokens_;
    if (budget <= 0) return finish(StopReason::MaxOutputTokens);
    const auto shown = view();
    auto plan = window_.plan(shown);
    if (!plan)
        return finish(StopReason::ContextFull, {},
                      "the conversation no longer fits the context window");
    if (maybe_compact(*plan, shown)) return;
    if (!plan->trimmed.empty()) emit(ContextTrimmed{plan->trimmed}, true);
    if (finished_) return;

    ModelRequest request;
    request.prompt.assign(plan->prompt.begin(), plan->prompt.end());
    request.max_tokens = std::min(budget, plan->max_new_tokens);
    request.sampling = settings_.sampling;
    request.sampling.seed = settings_.sampling.seed + static_cast<std::uint64_t>(turns_);
    request.stop = stop_tokens();
    if (settings_.output_schema && model_.supports_constraints()) {
        JsonTargets targets;
        targets.final_answer = settings_.output_schema;
        targets.final_channel_only = true;
        auto constraint = std::make_shared<JsonConstraint>(renderer_.tokenizer(), targets);
        // The prompt ends with the opening of the model's message (<|start|>assistant).
        for (auto t : renderer_.render_conversation_for_completion({}, Role::assistant))
            constraint->accept(static_cast<std::int32_t>(t));
        request.constraint = std::move(constraint);
    }
    generation_ = std::make_unique<Generation>();
    generation_->prompt_tokens = static_cast<int>(request.prompt.size());
    std::weak_ptr<AgentLoop> weak = weak_from_this();
    model_.generate(conversation_, std::move(request), [weak](const TokenEvent& e) {
        if (auto self = weak.lock()) self->on_token(e);
    });
}

std::vector<Message> AgentLoop::view() const {
    return compaction_ ? compacted_view(messages_, *compaction_) : messages_;
}

bool AgentLoop::maybe_compact(const ContextPlan& plan, const std::vector<Message>& shown) {
    const auto& c = settings_.context;
    if (c.compact_at <= 0 || compaction_failed_) return false;
    const int reserve = std::min(c.reserve, c.window / 4);
    if (static_cast<double>(plan.prompt.size()) + reserve <= c.compact_at * c.window) return false;
    // Nothing new since the last compaction: another would not shrink anything.
    if (compaction_ && messages_.size() <= compaction_->messages) return false;
    const auto keep_from = compaction_keep_from(
        messages_, [&](std::size_t i) { return window_.tokens_of(messages_, i); },
        static_cast<int>(c.keep_recent * c.window));
    const std::size_t covered_from =
        compaction_ ? compaction_->keep_from : compaction_head(messages_);
    if (keep_from <= covered_from) return false;  // nothing would leave the view

    auto asking = shown;
    asking.push_back(compaction_request());
    auto ask = window_.plan(asking);
    const int budget = settings_.limits.max_output_tokens - output_tokens_;
    if (!ask || ask->max_new_tokens < 64 || budget < 64) return false;
    ModelRequest request;
    request.prompt.assign(ask->prompt.begin(), ask->prompt.end());
    request.max_tokens = std::min({c.summary_tokens, ask->max_new_tokens, budget});
    request.sampling = settings_.sampling;
    request.sampling.seed = settings_.sampling.seed + static_cast<std::uint64_t>(turns_) + 7919;
    request.stop = stop_tokens();
    compacting_ = std::make_unique<Compacting>();
    compacting_->tokens_before = static_cast<int>(plan.prompt.size());
    compacting_->keep_from = keep_from;
    compacting_->messages = messages_.size();
    std::weak_ptr<AgentLoop> weak = weak_from_this();
    model_.generate(conversation_, std::move(request), [weak](const TokenEvent& e) {
        auto self = weak.lock();
        if (!self || self->finished_ || !self->compacting_) return;
        if (e.has_token) {
            ++self->compacting_->tokens;
            self->compacting_->parser.process(static_cast<harmony::Token>(e.sample.token));
        }
        if (e.done) self->on_compaction_done(e);
    });
    return true;
}

void AgentLoop::on_compaction_done(const TokenEvent& e) {
    auto k = std::move(compacting_);
    if (e.reason == FinishReason::Cancelled) return;
    if (e.reason == FinishReason::Error) return finish(StopReason::Error, {}, e.error);
    if (e.reason != FinishReason::Stop) k->parser.process_eos();
    output_tokens_ += k->tokens;
    std::vector<Message> produced;
    for (const auto& p : k->parser.messages()) produced.push_back(p.message);
    const std::string summary = compaction_summary(produced);
    if (summary.empty()) {
        compaction_failed_ = true;
        emit(Warning{"the compaction turn wrote no summary; trimming the context instead",
                     std::nullopt},
             true);
        emit(UsageUpdate{turns_, output_tokens_}, false);
        return next_generation();
    }
    Compaction next{k->messages, k->keep_from, summary};
    const auto after = window_.plan(compacted_view(messages_, next));
    const bool saved = commit([&] {
        compaction_ = next;
        emit(ContextCompacted{next.messages, next.keep_from, k->tokens_before,
                              after ? static_cast<int>(after->prompt.size()) : 0, k->tokens,
                              summary},
             true);
    });
    if (!saved) return;
    emit(UsageUpdate{turns_, output_tokens_}, false);
    next_generation();
}

void AgentLoop::on_token(const TokenEvent& e) {
    if (finished_ || !generation_) return;
    Generation& g = *generation_;
    if (e.has_token) {
        ++g.tokens;
        g.parser.process(static_cast<harmony::Token>(e.sample.token));
        if (g.parser.state() == harmony::StreamParser::State::content &&
            g.parser.current_channel() == std::optional<std::string>("analysis"))
            ++g.reasoning_tokens;
        const auto& parsed = g.parser.messages();
        for (; g.completed < parsed.size(); ++g.completed) {
            const Message& m = parsed[g.completed].message;
            if (g.announced <= g.completed)
                emit(MessageStarted{header_of(m)}, false), ++g.announced;
            emit(MessageDone{header_of(m), m.content_type, m.text_content()}, false);
        }
        if (g.parser.state() == harmony::StreamParser::State::content &&
            g.announced == parsed.size()) {
            emit(MessageStarted{{"assistant", g.parser.current_channel(),
                                 g.parser.current_recipient()}},
                 false);
            ++g.announced;
        }
        if (const auto& delta = g.parser.last_content_delta(); delta && !delta->empty())
            emit(MessageDelta{*delta}, false);
    }
    if (e.done) on_generation_done(e);
}

void AgentLoop::on_generation_done(const TokenEvent& e) {
    auto g = std::move(generation_);
    if (e.reason == FinishReason::Cancelled) return;  // cancel() or the wall timer finishes
    if (e.reason == FinishReason::Error) return finish(StopReason::Error, {}, e.error);
    if (e.reason != FinishReason::Stop) g->parser.process_eos();

    const std::size_t first_new = messages_.size();
    const auto& parsed = g->parser.messages();
    for (std::size_t i = g->completed; i < parsed.size(); ++i) {
        const Message& m = parsed[i].message;
        emit(MessageDone{header_of(m), m.content_type, m.text_content()}, false);
    }
    ++turns_;
    output_tokens_ += g->tokens;
    // The new messages and the usage are one step: committed together, before acting.
    const bool saved = commit([&] {
        for (const auto& p : parsed) {
            messages_.push_back(p.message);
            store_.append_message(settings_.session_id, p.message,
                                  window_.tokens_of(messages_, messages_.size() - 1));
        }
        emit(GenerationDone{turns_, g->prompt_tokens, g->tokens, engine::to_string(e.reason),
                            g->parser.errors().size(), elapsed_ms(g->begun), e.stats.served_by,
                            e.stats.retries, e.stats.reused_tokens, first_new,
                            messages_.size() - first_new, settings_.context.window,
                            g->reasoning_tokens, e.stats.restored_tokens, e.stats.kv_bytes_written,
                            e.stats.drafted_tokens, e.stats.accepted_tokens},
             true);
        for (const auto& warning : e.stats.kv_warnings) emit(Warning{warning, std::nullopt}, true);
    });
    if (!saved) return;
    emit(UsageUpdate{turns_, output_tokens_}, false);
    act_on(first_new, e.reason);
}

void AgentLoop::act_on(std::size_t first_new, FinishReason reason) {
    for (std::size_t i = first_new; i < messages_.size(); ++i) {
        if (!harmony::is_tool_call(messages_[i])) continue;
        if (i + 1 < messages_.size())
            return reply(
                i,
                "Error: the call was followed by more output, so it was not run. End a tool "
                "call with <|call|> and wait for its result.",
                true, 0);
        return dispatch(i);
    }
    if (messages_.size() > first_new) {
        // A final answer; or, stopped by <|return|>, an answer written on another channel.
        const Message& last = messages_.back();
        const bool answer =
            last.channel == "final" || (reason == FinishReason::Stop && last.channel != "analysis");
        if (last.role == Role::assistant && answer)
            return finish(StopReason::Final, last.text_content());
    }
    if (reason == FinishReason::Context) return finish(StopReason::ContextFull);
    if (reason == FinishReason::Length && output_tokens_ >= settings_.limits.max_output_tokens)
        return finish(StopReason::MaxOutputTokens);
    next_generation();  // e.g. only analysis so far: let the model go on
}

std::optional<std::string> AgentLoop::call_problem(std::size_t index,
                                                   const ToolRoute* route) const {
    const Message& m = messages_[index];
    const std::string& recipient = *m.recipient;
    if (!route) {
        std::string known;
        for (const auto& r : tools_.recipients()) known += (known.empty() ? "" : ", ") + r;
        return "Error: there is no tool '" + recipient +
               "'. Available: " + (known.empty() ? "none" : known) + ".";
    }
    // A function called on the analysis channel is run like any other (gpt-oss-120b writes
    // ~47% of its calls there; refusing them loses the calls). Its result goes back on the
    // channel of the call.
    if (route->is_function) {
        // A function whose parameters are one string (apply_patch) takes its text as written
        // (or a JSON form of it, which the tool unwraps): no JSON or schema check, but the
        // loop guard below still applies.
        const auto* schema = route->description && route->description->parameters
                                 ? &*route->description->parameters
                                 : nullptr;
        const bool raw_string =
            schema && schema->is_object() && schema->value("type", "") == "string";
        if (!raw_string) {
            Json args;
            try {
                args = Json::parse(m.text_content().empty() ? "{}" : m.text_content());
            } catch (const Json::exception& e) {
                return std::string("Error: the arguments are not valid JSON (") + e.what() +
                       "). The call was not run.";
            }
            if (schema) {
                const auto problems = tools::check_against_schema(args, *schema);
                if (!problems.empty()) {
                    std::string text =
                        "Error: the arguments do not match the schema of " + recipient + ":";
                    for (const auto& p : problems) text += "\n- " + p;
                    return text + "\nThe call was not run.";
                }
            }
        }
    }
    // Loop guard: the same call (recipient and arguments) several times in a row.
    int identical = 0;
    for (std::size_t i = index + 1; i-- > 0;) {
        const Message& c = messages_[i];
        if (c.role == Role::tool || !harmony::is_tool_call(c)) continue;
        if (*c.recipient != recipient || c.text_content() != m.text_content()) break;
        ++identical;
    }
    if (identical > settings_.identical_call_limit)
        return "Error: this exact call was made " + std::to_string(identical) +
               " times in a row; it was not run again. Use the earlier results or try something "
               "different.";
    return std::nullopt;
}

void AgentLoop::dispatch(std::size_t index) {
    if (finished_) return;
    const Message& m = messages_[index];
    const auto route = tools_.route(*m.recipient);
    if (auto problem = call_problem(index, route ? &*route : nullptr))
        return reply(index, *problem, true, 0);

    tools::ToolCall call;
    call.recipient = *m.recipient;
    call.function = route->function;
    call.arguments = m.text_content();
    call.channel = m.channel.value_or("commentary");
    call.content_type = m.content_type;
    if (!settings_.hooks || !settings_.hooks->any(HookKind::pre_tool, call.recipient))
        return start_call(index, std::move(call));
    nlohmann::json input{{"session", settings_.session_id},
                         {"tool", call.recipient},
                         {"arguments", call.arguments},
                         {"call", index}};
    std::weak_ptr<AgentLoop> weak = weak_from_this();
    const auto begun = std::chrono::steady_clock::now();
    const std::string recipient = call.recipient;  // `call` moves into the handler below
    settings_.hooks->run(io_, HookKind::pre_tool, recipient, std::move(input), settings_.workspace,
                         [weak, index, begun, call = std::move(call)](HookChain chain) mutable {
                             auto self = weak.lock();
                             if (!self || self->finished_) return;
                             self->record_hooks(chain, index, call.recipient);
                             if (self->finished_) return;
                             if (!chain.allow)
                                 return self->reply(index,
                                                    "Error: a policy hook denied this call: " +
                                                        chain.reason + "\nThe call was not run.",
                                                    true, elapsed_ms(begun));
                             if (chain.arguments) call.arguments = *chain.arguments;
                             self->start_call(index, std::move(call));
                         });
}

void AgentLoop::start_call(std::size_t index, tools::ToolCall call) {
    if (finished_) return;
    const auto route = tools_.route(call.recipient);
    if (!route) return reply(index, "Error: there is no tool '" + call.recipient + "'.", true, 0);
    emit(ToolStarted{index, call.recipient, call.arguments}, true);
    if (finished_) return;  // the store refused the step

    const auto serial = ++call_serial_;
    call_in_flight_ = true;
    call_index_ = index;
    const auto begun = std::chrono::steady_clock::now();
    std::weak_ptr<AgentLoop> weak = weak_from_this();
    const double timeout = settings_.limits.tool_timeout_seconds;
    tool_timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(timeout)));
    tool_timer_.async_wait(
        [weak, serial, index, begun, timeout](const boost::system::error_code& ec) {
            auto self = weak.lock();
            if (!self) return;
            if (ec || self->finished_ || serial != self->call_serial_ || !self->call_in_flight_)
                return;
            self->call_in_flight_ = false;
            self->tools_.cancel_all();
            char text[128];
            std::snprintf(text, sizeof text,
                          "Error: the tool did not answer within %g s and was stopped.", timeout);
            self->reply(index, text, true, elapsed_ms(begun));
        });
    tools::ToolContext context{io_.get_executor(), settings_.session_id, settings_.workspace,
                               std::chrono::milliseconds(static_cast<long long>(timeout * 1000))};
    if (settings_.traceparent) context.traceparent = settings_.traceparent(index);
    route->tool->invoke(call, context, [weak, serial, index, begun, call](tools::ToolOutput out) {
        auto self = weak.lock();
        if (!self) return;
        if (self->finished_ || serial != self->call_serial_ || !self->call_in_flight_) return;
        self->call_in_flight_ = false;
        self->tool_timer_.cancel();
        self->after_call(index, call, std::move(out), elapsed_ms(begun));
    });
}

void AgentLoop::after_call(std::size_t index, const tools::ToolCall& call, tools::ToolOutput out,
                           double ms) {
    if (!settings_.hooks || !settings_.hooks->any(HookKind::post_tool, call.recipient))
        return reply(index, std::move(out.text), out.is_error, ms, std::move(out.network));
    nlohmann::json input{{"session", settings_.session_id},
                         {"tool", call.recipient},
                         {"arguments", call.arguments},
                         {"call", index},
                         {"output", out.text},
                         {"is_error", out.is_error}};
    std::weak_ptr<AgentLoop> weak = weak_from_this();
    const auto begun = std::chrono::steady_clock::now();
    settings_.hooks->run(
        io_, HookKind::post_tool, call.recipient, std::move(input), settings_.workspace,
        [weak, index, ms, begun, recipient = call.recipient,
         out = std::move(out)](HookChain chain) mutable {
            auto self = weak.lock();
            if (!self || self->finished_) return;
            self->record_hooks(chain, index, recipient);
            if (self->finished_) return;
            if (!chain.allow) {
                out.text = "Error: a policy hook withheld this call's result: " + chain.reason;
                out.is_error = true;
            } else if (chain.output) {
                out.text = *chain.output;
            }
            self->reply(index, std::move(out.text), out.is_error, ms + elapsed_ms(begun),
                        std::move(out.network));
        });
}

void AgentLoop::record_hooks(const HookChain& chain, std::optional<std::size_t> index,
                             const std::optional<std::string>& recipient) {
    for (const auto& r : chain.records) {
        std::string decision = r.decision.allow ? "allow" : "deny";
        if (r.decision.allow && r.decision.arguments) decision = "rewrite";
        if (r.decision.allow && r.decision.output) decision = "replace";
        emit(HookDecided{std::string(hook_kind_name(r.kind)), r.command, index, recipient, decision,
                         r.decision.reason, r.ms},
             true);
        if (finished_) return;
    }
}

void AgentLoop::reply(std::size_t index, std::string text, bool is_error, double ms,
                      std::vector<std::string> network) {
    if (finished_) return;
    const std::string recipient = *messages_[index].recipient;  // copied: push_back reallocates
    const Message result = harmony::tool_result(recipient, std::move(text),
                                                messages_[index].channel.value_or("commentary"));
    const bool saved = commit([&] {
        messages_.push_back(result);
        store_.append_message(settings_.session_id, result,
                              window_.tokens_of(messages_, messages_.size() - 1));
        emit(ToolFinished{index, recipient, !is_error, ms,
                          keep_head_and_tail(result.text_content(), 200), std::move(network)},
             true);
        record_workspace_step(index, "tool");
    });
    if (!saved) return;
    if (scanned_) recorded_ = std::move(scanned_), scanned_.reset();
    next_generation();
}

// on_finish hooks (their `match` is tried on the reason: "final", "max_turns", ...) run before
// the run ends, except after a cancel or an interrupt. A deny of a final answer sends the
// reason back to the model as a user message and the run goes on (bounded by the budgets).
void AgentLoop::reconcile_workspace() {
    std::error_code ec;
    if (settings_.workspace.empty() || !std::filesystem::is_directory(settings_.workspace, ec))
        return;
    const auto changes = store_.changes(settings_.session_id);
    recorded_ = state_at(changes);
    history_step_ = changes.empty() ? -1 : changes.back().step;
    bool any_call = false;
    std::optional<std::size_t> last_call;
    for (std::size_t i = 0; i < messages_.size(); ++i)
        if (harmony::is_tool_call(messages_[i])) any_call = true, last_call = i;
    const std::string kind = changes.empty() && !any_call ? "baseline" : "reconciled";
    const bool saved = commit([&] { record_workspace_step(last_call, kind); });
    if (!saved) return;
    if (scanned_) {
        if (kind == "reconciled")
            emit(Warning{"workspace files changed outside a recorded step (a crash between a "
                         "tool's writes and its commit, or an edit between runs); recorded as "
                         "step " +
                             std::to_string(history_step_),
                         std::nullopt},
                 true);
        recorded_ = std::move(scanned_), scanned_.reset();
    }
}

void AgentLoop::record_workspace_step(std::optional<std::size_t> call_index,
                                      const std::string& kind) {
    scanned_.reset();
    if (!recorded_) return;
    auto now = scanner_.scan(settings_.workspace, [&](const std::string& hash, std::string_view b) {
        store_.put_blob(hash, b);
    });
    auto changes = diff_manifests(*recorded_, now);
    if (changes.empty()) return;
    const int step = kind == "baseline" ? 0 : std::max(history_step_, 0) + 1;
    for (auto& c : changes) {
        c.step = step;
        c.message = call_index;
        c.kind = kind;
    }
    store_.append_changes(settings_.session_id, changes);
    auto files = change_lines(changes);
    if (files.size() > 50) {
        const auto more = files.size() - 50;
        files.resize(50);
        files.push_back("... and " + std::to_string(more) + " more");
    }
    emit(WorkspaceChanged{step, call_index, kind, std::move(files)}, true);
    history_step_ = step;
    scanned_ = std::move(now);
}

void AgentLoop::finish(StopReason reason, std::string final_answer, std::string error) {
    if (finished_) return;
    if (reason == StopReason::Final && settings_.output_schema)
        if (auto problem = output_problem(final_answer))
            return send_back(
                "Your final answer must be one JSON value valid under the output "
                "schema, with nothing around it. " +
                *problem + "\nAnswer again.");
    const std::string why = to_string(reason);
    if (finish_hooks_done_ || !settings_.hooks || reason == StopReason::Cancelled ||
        reason == StopReason::Interrupted || !settings_.hooks->any(HookKind::on_finish, why))
        return finish_now(reason, std::move(final_answer), std::move(error));
    finish_hooks_done_ = true;
    nlohmann::json input{{"session", settings_.session_id},
                         {"reason", why},
                         {"final_answer", final_answer},
                         {"turns", turns_},
                         {"output_tokens", output_tokens_}};
    if (!error.empty()) input["error"] = error;
    std::weak_ptr<AgentLoop> weak = weak_from_this();
    settings_.hooks->run(
        io_, HookKind::on_finish, why, std::move(input), settings_.workspace,
        [weak, reason, final_answer, error](HookChain chain) mutable {
            auto self = weak.lock();
            if (!self || self->finished_) return;
            self->record_hooks(chain, std::nullopt, std::nullopt);
            if (self->finished_) return;
            if (chain.allow || reason != StopReason::Final)
                return self->finish_now(reason, std::move(final_answer), std::move(error));
            self->send_back("Your answer was not accepted: " + chain.reason +
                            "\nContinue the task and answer again when it is done.");
        });
}

std::optional<std::string> AgentLoop::output_problem(const std::string& answer) const {
    const auto value = Json::parse(answer, nullptr, false);
    if (value.is_discarded()) return std::string("It is not valid JSON.");
    const auto problems = tools::check_against_schema(value, *settings_.output_schema);
    if (problems.empty()) return std::nullopt;
    std::string text = "It does not match the schema:";
    for (const auto& p : problems) text += "\n- " + p;
    return text;
}

void AgentLoop::send_back(const std::string& text) {
    const Message note = Message::text(Role::user, text);
    const bool saved = commit([&] {
        messages_.push_back(note);
        store_.append_message(settings_.session_id, note,
                              window_.tokens_of(messages_, messages_.size() - 1));
        emit(MessageDone{header_of(note), std::nullopt, note.text_content()}, false);
    });
    if (!saved) return;
    finish_hooks_done_ = false;
    next_generation();
}

void AgentLoop::finish_now(StopReason reason, std::string final_answer, std::string error) {
    if (finished_) return;
    finished_ = true;
    if (settings_.hooks) settings_.hooks->cancel();
    wall_timer_.cancel();
    tool_timer_.cancel();
    Outcome outcome{reason, std::move(final_answer), Json::array(), std::move(error), false,
                    turns_, output_tokens_};
    if (reason == StopReason::Final)
        if (auto annotated = tools_.annotate_final(outcome.final_answer)) {
            outcome.final_answer = std::move(annotated->text);
            outcome.annotations = std::move(annotated->annotations);
        }
    const std::string status = state_of(reason);
    SessionFinished data{to_string(reason), turns_, output_tokens_, {}, Json(), {}};
    if (!outcome.final_answer.empty()) data.final_answer = outcome.final_answer;
    data.annotations = outcome.annotations;
    if (!outcome.error.empty()) data.error = outcome.error;
    if (auto refused = try_commit([&] {
            store_.set_status(settings_.session_id, status, to_string(reason), outcome.final_answer,
                              outcome.error);
            emit(data, true);
        })) {
        outcome.reason = StopReason::Error;
        outcome.error = *refused;
        outcome.store_failed = true;
    }
    if (done_) boost::asio::post(io_, [done = std::move(done_), outcome] { done(outcome); });
}

}  // namespace gossamer::runtime
