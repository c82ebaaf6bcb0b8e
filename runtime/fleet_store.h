// Fleets in the session store's database: a fleet (its spec template, model and options) and
// its tasks, each with the spec it runs (the template with the task's vars filled in) and the
// session it got. A task's session is recorded in the same transaction that creates the
// session, so a fleet killed at any point never runs a task twice. Storage only: it must not
// decide what runs next (fleet_runner.h does).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/session_store.h"

namespace gossamer::runtime {

struct FleetRecord {
    std::string id;
    std::string name;
    std::string spec_yaml;  // the template as given
    std::string spec_path;
    std::string model;               // model reference (model_factory.h)
    nlohmann::ordered_json options;  // parallel, max_failures, backend, threads, ...
    std::string created_at;
};

struct FleetTask {
    int index = 0;
    std::string task_id;
    std::string spec_yaml;                  // the task's own spec (vars filled in)
    std::optional<std::string> session_id;  // set once its session exists
    double wall_seconds = 0;                // summed over the runs of its session
};

class FleetStore {
  public:
    explicit FleetStore(SessionStore& store) : store_(store) {}

    // Creates the fleet and its tasks in one transaction; returns the new id.
    std::string create(FleetRecord& fleet, const std::vector<FleetTask>& tasks);
    std::optional<FleetRecord> find(const std::string& id) const;
    std::vector<FleetRecord> list() const;  // newest first
    std::vector<FleetTask> tasks(const std::string& fleet_id) const;
    // Inside the transaction that creates the task's session.
    void set_session(const std::string& fleet_id, int index, const std::string& session_id);
    void add_wall_time(const std::string& fleet_id, int index, double seconds);

  private:
    SessionStore& store_;
};

}  // namespace gossamer::runtime
