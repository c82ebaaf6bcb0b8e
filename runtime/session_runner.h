// Runs one stored session from start to end under the rules every command shares (`run`,
// `resume`, `chat`, `fleet`; later `serve`): checks before anything is created (outputs can
// be written, tools can start, checked in a preflight), the session's lease (taken in one
// transaction, a heartbeat while it runs, every write fenced by it, dropped at the end), the
// end stored as one explicit state with its reason, and the outputs written on every end,
// atomically. It owns no model and no event loop; many runners share one io_context and one
// model (fleet). It must not parse command lines or print anything but through its EventSink.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/agent_loop.h"
#include "runtime/agent_spec.h"
#include "runtime/events.h"
#include "runtime/gen_ai_tracer.h"
#include "runtime/model_client.h"
#include "runtime/otlp_exporter.h"
#include "runtime/session_store.h"
#include "runtime/tool_registry.h"

namespace gossamer::runtime {

struct RunnerOptions {
    double heartbeat_seconds = 2;       // how often a running session says it is alive
    double lease_timeout_seconds = 30;  // a lease without a heartbeat this long is stale
};

// <store folder>/workspaces/<session id>: the session's files (python's /mnt/data). The store
// folder of a path: store_folder().
std::filesystem::path store_folder(const std::filesystem::path& store_path);
std::filesystem::path workspace_of(const SessionStore& store, const std::string& session_id);
// <store folder>/kv/<session id>.gkv: the session's saved KV cache (engine/kv_file.h).
std::filesystem::path kv_file_of(const SessionStore& store, const std::string& session_id);

// "session ID is running in pid N on HOST since T": why a live lease refuses a run.
std::string running_elsewhere(const std::string& session_id, const Lease& lease);

// Every output path the spec names must be writable: its folder exists and may be written,
// and it is not a folder itself. Throws SetupError naming the field, the path and the reason.
void check_outputs(const AgentSpec& spec);

// `workspace.from` names an existing folder (checked by run and fleet before anything is made).
void check_workspace_seed(const AgentSpec& spec);

// The spec's tools, started, and checked once with a scratch workspace where the sessions'
// workspaces go (<store_folder>/workspaces; removed again, with the folder if it was made for
// it): a tool that cannot run is a SetupError before any session exists. `preflight` false
// skips the check (a fleet checks its first task only).
std::unique_ptr<ToolRegistry> start_tools(const AgentSpec& spec,
                                          const std::filesystem::path& store_folder,
                                          bool preflight = true);

// Creates the session (state `created`) with its opening messages, in one transaction, in
// which `also(id)` runs too (a fleet records the session on its task).
void create_session(SessionStore& store, SessionRecord& record, const AgentSpec& spec,
                    const ToolRegistry& tools,
                    const std::function<void(const std::string&)>& also = {});

// What a finished run leaves: its outcome, the outputs that could not be written (each a
// sentence), and its wall time.
struct RunResult {
    Outcome outcome;
    std::vector<std::string> output_errors;
    double wall_seconds = 0;
};

class SessionRunner : public std::enable_shared_from_this<SessionRunner> {
  public:
    SessionRunner(boost::asio::io_context& io, ModelClient& model, SessionStore& store,
                  EventSink& events, AgentSpec spec, SessionRecord record,
                  std::shared_ptr<ToolRegistry> tools, RunnerOptions options = {});
    ~SessionRunner();

    // Takes the lease (SetupError "session ID is running in pid N on HOST since T" when a
    // live process holds it), then runs the agent loop. `done` runs on the io_context once
    // the end is stored, the outputs are written and the lease is dropped.
    void start(std::function<void(const RunResult&)> done);
    // Ends the run with `why` (Interrupted for a signal, Cancelled for a program's stop).
    void stop(StopReason why);

    const SessionRecord& record() const { return record_; }
    const AgentSpec& spec() const { return spec_; }

  private:
    void beat();
    void finished(const Outcome& outcome);

    boost::asio::io_context& io_;
    ModelClient& model_;
    SessionStore& store_;
    EventSink& events_;
    AgentSpec spec_;
    SessionRecord record_;
    std::shared_ptr<ToolRegistry> tools_;
    RunnerOptions options_;
    // Telemetry (spec `telemetry:` / GOSSAMER_OTLP_ENDPOINT): the tracer watches the loop's
    // events next to events_, its spans go to the process's exporter for the endpoint.
    std::shared_ptr<OtlpExporter> exporter_;
    std::unique_ptr<GenAiTracer> tracer_;
    EventFanout traced_events_;
    std::shared_ptr<AgentLoop> loop_;
    boost::asio::steady_timer heartbeat_;
    std::function<void(const RunResult&)> done_;
    std::chrono::steady_clock::time_point started_;
    bool over_ = false;
};

// Writes the spec's outputs for an ended session: the report (every end) and the final answer
// (a final answer only), each to a temporary file renamed into place. Returns what failed.
std::vector<std::string> write_outputs(const AgentSpec& spec, const SessionRecord& record,
                                       const Outcome& outcome, double wall_seconds);

}  // namespace gossamer::runtime
