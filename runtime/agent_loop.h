// The agent loop of one session, on the runtime's event loop: render the stored conversation
// into the context window, generate until <|return|> / <|call|>, parse the tokens as they
// stream (observers see every delta), commit the new messages, and either finish (a final
// answer, a budget, an error) or dispatch the call to its tool, commit the result and go
// again. Whatever the model writes becomes a tool error message it can react to, never a
// crash. Every step is committed to the session store before it is acted on, so run() on a
// stored session continues where a killed process stopped. It owns no model, tools or store.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harmony/message.h"
#include "harmony/renderer.h"
#include "harmony/stream_parser.h"
#include "runtime/agent_spec.h"
#include "runtime/compaction.h"
#include "runtime/context_window.h"
#include "runtime/events.h"
#include "runtime/hook_runner.h"
#include "runtime/model_client.h"
#include "runtime/session_store.h"
#include "runtime/tool_registry.h"
#include "runtime/workspace_history.h"

namespace gossamer::runtime {

enum class StopReason {
    Final,
    MaxTurns,
    MaxOutputTokens,
    WallTime,
    ContextFull,
    Cancelled,    // stopped by the program (e.g. a fleet stopping early)
    Interrupted,  // stopped by the user (SIGINT / SIGTERM)
    Error
};
const char* to_string(StopReason reason);
// The session state a stop reason leaves (session_store.h): finished, budget, cancelled,
// interrupted or failed.
const char* state_of(StopReason reason);

struct Outcome {
    StopReason reason = StopReason::Error;
    std::string final_answer;  // citations already turned into links (see annotations)
    nlohmann::ordered_json annotations = nlohmann::ordered_json::array();  // url_citation, ...
    std::string error;
    bool store_failed = false;  // the store refused a write (e.g. LeaseLost): nothing more saved
    int turns = 0;              // model generations in this session
    int output_tokens = 0;
};

struct AgentSettings {
    std::string session_id;
    engine::SamplingParams sampling;  // the seed advances by one per generation
    LimitsSpec limits;
    std::filesystem::path workspace;
    // Where the conversation's KV cache is kept between processes (empty: nowhere).
    std::filesystem::path kv_file;
    ContextOptions context;
    int identical_call_limit = 3;       // identical calls in a row that run; the next is refused
    std::shared_ptr<HookRunner> hooks;  // the spec's policy hooks; null: none
    // The final answer must be JSON valid under this schema: sampled under its token mask
    // (where the model supports constraints) and validated; an invalid answer goes back to
    // the model.
    std::optional<nlohmann::ordered_json> output_schema;
    // The W3C traceparent of a call's span (telemetry on), given to the tool; null: none.
    std::function<std::string(std::size_t call_index)> traceparent;
};

// The opening messages of a new session: system (identity, date, reasoning effort, built-in
// tools), developer (instructions, function tools) when there is any, and the user's task.
std::vector<harmony::Message> opening_messages(const AgentSpec& spec, const ToolRegistry& tools,
                                               const std::string& today);

class AgentLoop : public std::enable_shared_from_this<AgentLoop> {
  public:
    AgentLoop(boost::asio::io_context& io, ModelClient& model, ToolRegistry& tools,
              SessionStore& store, EventSink& events, AgentSettings settings);
    ~AgentLoop();

    // Continues the stored conversation until it stops; `done` runs on the event loop. The
    // caller keeps the loop alive until then (handlers hold it weakly: a loop destroyed
    // early simply stops).
    // A call that was running when an earlier process died is re-run if its tool is
    // idempotent (and said so), else reported to the model as interrupted.
    void run(std::function<void(const Outcome&)> done);
    // Stops the generation or tool call in flight; the run ends with `why` (Cancelled or
    // Interrupted). A tool call stopped by Interrupted is recorded (tool.interrupted), and a
    // later run tells the model the user interrupted it.
    void cancel(StopReason why = StopReason::Cancelled);

  private:
    struct Generation;
    struct Compacting;
    void next_generation();
    // What the model sees: the stored messages, or their compacted view (runtime/compaction.h).
    std::vector<harmony::Message> view() const;
    // A compaction turn in place of the next generation when the view passed the threshold;
    // false when none is due (or none can help).
    bool maybe_compact(const ContextPlan& plan, const std::vector<harmony::Message>& view);
    void on_compaction_done(const TokenEvent& event);
    void on_token(const TokenEvent& event);
    void on_generation_done(const TokenEvent& event);
    void act_on(std::size_t first_new, FinishReason reason);
    void dispatch(std::size_t call_index);
    // Runs the (possibly hook-rewritten) call; then post_tool hooks, then reply().
    void start_call(std::size_t call_index, tools::ToolCall call);
    void after_call(std::size_t call_index, const tools::ToolCall& call, tools::ToolOutput out,
                    double ms);
    // One `hook` event per hook that ran.
    void record_hooks(const HookChain& chain, std::optional<std::size_t> call_index,
                      const std::optional<std::string>& recipient);
    void finish_now(StopReason reason, std::string final_answer, std::string error);
    // Workspace history: at start, the recorded state is compared with the files (a crash
    // between a tool's writes and its commit, or edits between runs, become a `reconciled`
    // step; a new session's files the `baseline`); after each call, inside the call's commit,
    // what it changed becomes the next step. No-ops without a workspace.
    void reconcile_workspace();
    // Records the changes since the last recorded state as a step (inside a commit body).
    void record_workspace_step(std::optional<std::size_t> call_index, const std::string& kind);
    // Why a final answer fails the output schema (not JSON, schema problems); nullopt: valid.
    std::optional<std::string> output_problem(const std::string& answer) const;
    // Appends a user message (a refused final answer and why) and generates again.
    void send_back(const std::string& text);
    // `network`: the call's sandbox proxy decisions, recorded on its tool.finished event.
    void reply(std::size_t call_index, std::string text, bool is_error, double ms,
               std::vector<std::string> network = {});
    std::optional<std::string> call_problem(std::size_t call_index, const ToolRoute* route) const;
    // `by_user`: a tool.interrupted event (Ctrl-C) follows `started`.
    void resume_interrupted_call(std::size_t call_index, const ToolStarted& started, bool by_user);
    void finish(StopReason reason, std::string final_answer = {}, std::string error = {});
    void emit(EventBody body, bool persist);
    // One step into the store, in one transaction; the store's error when it refused it.
    std::optional<std::string> try_commit(const std::function<void()>& body);
    // try_commit; on a store failure the run ends (abandon) and this is false.
    bool commit(const std::function<void()>& body);
    void abandon(const std::string& why);
    std::vector<std::int32_t> stop_tokens() const;

    boost::asio::io_context& io_;
    ModelClient& model_;
    ToolRegistry& tools_;
    SessionStore& store_;
    EventSink& events_;
    AgentSettings settings_;
    harmony::Renderer renderer_;
    ContextWindow window_;

    std::vector<harmony::Message> messages_;
    ModelClient::Conversation conversation_ = 0;
    std::unique_ptr<Generation> generation_;
    std::unique_ptr<Compacting> compacting_;
    std::optional<Compaction> compaction_;  // the latest one (from the store on resume)
    bool compaction_failed_ = false;        // a compaction gave no summary: trim instead
    int turns_ = 0;
    int output_tokens_ = 0;
    std::uint64_t call_serial_ = 0;  // identifies the call in flight; stale completions are ignored
    bool call_in_flight_ = false;
    std::size_t call_index_ = 0;  // the message the call in flight answers
    bool in_commit_ = false;
    bool finished_ = false;
    bool finish_hooks_done_ = false;  // on_finish hooks ran for the finish now under way
    WorkspaceScanner scanner_;
    std::optional<Manifest> recorded_;  // the workspace as the store has it; null: no history
    std::optional<Manifest> scanned_;   // the scan a commit in progress is recording
    int history_step_ = -1;             // the last recorded step (-1: none yet)
    std::function<void(const Outcome&)> done_;
    boost::asio::steady_timer wall_timer_;
    boost::asio::steady_timer tool_timer_;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace gossamer::runtime
