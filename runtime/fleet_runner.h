// Runs the tasks of a fleet (fleet_store.h) as sessions on one event loop and one model: up
// to `parallel` sessions at once, each with its own tools and its own session runner (so every
// lifecycle rule of session_runner.h holds per task), all sharing the model's batched forward
// passes. Exactly once: a task's session is created in the same transaction that records it
// on the task, a task whose session ended (finished, failed, budget) is never run again, and a
// task whose session did not end is resumed. One task's failure (its tools, its model calls,
// its store writes) ends that task only. It must not parse command lines or print.
#pragma once

#include <boost/asio/io_context.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/events.h"
#include "runtime/fleet_store.h"
#include "runtime/model_client.h"
#include "runtime/session_runner.h"

namespace gossamer::runtime {

struct FleetOptions {
    int parallel = 8;
    int max_failures = 0;  // 0: never stop early
    RunnerOptions runner;
};

// One task as it stands (after its run, or as found in the store).
struct TaskOutcome {
    int index = 0;
    std::string task_id;
    std::string session_id;  // empty: never started
    std::string state;       // a session state, or "pending"
    std::string reason;
    std::string error;
    std::string final_answer;
    int turns = 0;
    int output_tokens = 0;
    double wall_seconds = 0;
    bool ended() const { return state == "finished" || state == "failed" || state == "budget"; }
};

// The state of every task of `fleet` from the store (sessions' states, turns and tokens).
std::vector<TaskOutcome> fleet_outcomes(SessionStore& store, const std::string& fleet_id);

class FleetObserver {
  public:
    virtual ~FleetObserver() = default;
    virtual void on_task_started(const TaskOutcome& task) = 0;
    virtual void on_task_done(const TaskOutcome& task) = 0;
};

class FleetRunner {
  public:
    // `events` sees every session's events (tagged with its session id).
    FleetRunner(boost::asio::io_context& io, ModelClient& model, SessionStore& store,
                FleetRecord fleet, FleetOptions options, EventSink& events,
                FleetObserver& observer);
    ~FleetRunner();

    // Starts every task that has not ended, `parallel` at a time; `done` runs on the loop
    // when none is left running (all ended, or stopped).
    void start(std::function<void()> done);
    // Starts no more tasks and stops the running ones with `why`.
    void stop(StopReason why);
    int failures() const { return failures_; }

  private:
    struct Running;
    void fill();
    void launch(const FleetTask& task);
    void ended(int index, const TaskOutcome& outcome);

    boost::asio::io_context& io_;
    ModelClient& model_;
    SessionStore& store_;
    FleetStore fleets_;
    FleetRecord fleet_;
    FleetOptions options_;
    EventSink& events_;
    FleetObserver& observer_;
    std::deque<FleetTask> pending_;
    std::vector<std::shared_ptr<SessionRunner>> running_;
    std::function<void()> done_;
    int failures_ = 0;
    int posted_ = 0;  // task endings posted, not yet handled
    bool stopping_ = false;
    bool finished_ = false;
};

}  // namespace gossamer::runtime
