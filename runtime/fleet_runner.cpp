#include "runtime/fleet_runner.h"

#include <boost/asio/post.hpp>

#include "runtime/setup_error.h"

namespace gossamer::runtime {
namespace fs = std::filesystem;

namespace {

TaskOutcome outcome_of(SessionStore& store, const FleetTask& task) {
    TaskOutcome o;
    o.index = task.index;
    o.task_id = task.task_id;
    o.wall_seconds = task.wall_seconds;
    o.state = "pending";
    if (!task.session_id) return o;
    o.session_id = *task.session_id;
    const auto record = store.find(o.session_id);
    if (!record) return o;
    o.state = record->status;
    o.reason = record->stop_reason;
    o.error = record->error;
    o.final_answer = record->final_answer;
    const auto totals = generation_totals(store.events(o.session_id));
    o.turns = totals.turns;
    o.output_tokens = totals.output_tokens;
    return o;
}

}  // namespace

std::vector<TaskOutcome> fleet_outcomes(SessionStore& store, const std::string& fleet_id) {
    std::vector<TaskOutcome> out;
    for (const auto& t : FleetStore(store).tasks(fleet_id)) out.push_back(outcome_of(store, t));
    return out;
}

FleetRunner::FleetRunner(boost::asio::io_context& io, ModelClient& model, SessionStore& store,
                         FleetRecord fleet, FleetOptions options, EventSink& events,
                         FleetObserver& observer)
    : io_(io),
      model_(model),
      store_(store),
      fleets_(store),
      fleet_(std::move(fleet)),
      options_(options),
      events_(events),
      observer_(observer) {}

FleetRunner::~FleetRunner() {
    running_.clear();
}

void FleetRunner::start(std::function<void()> done) {
    done_ = std::move(done);
    for (const auto& t : fleets_.tasks(fleet_.id))
        if (!outcome_of(store_, t).ended()) pending_.push_back(t);
    fill();
}

void FleetRunner::stop(StopReason why) {
    stopping_ = true;
    pending_.clear();
    for (auto& r : running_) r->stop(why);
    fill();
}

void FleetRunner::fill() {
    while (!stopping_ && !pending_.empty() &&
           static_cast<int>(running_.size()) < std::max(1, options_.parallel)) {
        const FleetTask task = pending_.front();
        pending_.pop_front();
        launch(task);
    }
    if (running_.empty() && posted_ == 0 && (pending_.empty() || stopping_) && !finished_) {
        finished_ = true;
        if (done_) boost::asio::post(io_, [done = std::move(done_)] { done(); });
    }
}

void FleetRunner::launch(const FleetTask& task) {
    const fs::path spec_path(fleet_.spec_path);
    TaskOutcome started;
    started.index = task.index;
    started.task_id = task.task_id;
    started.state = "running";
    std::optional<SessionRecord> record;
    try {
        const AgentSpec spec =
            parse_agent_spec(task.spec_yaml, fleet_.spec_path + " (task " + task.task_id + ")",
                             spec_path.parent_path());
        if (task.session_id) record = store_.find(*task.session_id);
        std::shared_ptr<ToolRegistry> tools;
        try {
            tools = start_tools(spec, store_folder(store_.path()), false);
        } catch (const std::exception& e) {
            if (!record) {  // recorded as a failed session so that it is not tried again
                SessionRecord failed;
                failed.name = spec.name;
                failed.spec_yaml = task.spec_yaml;
                failed.spec_path = fleet_.spec_path;
                failed.model = fleet_.model;
                store_.transaction([&] {
                    store_.create(failed);
                    fleets_.set_session(fleet_.id, task.index, failed.id);
                });
                record = failed;
            }
            throw;
        }
        if (!record) {
            SessionRecord fresh;
            fresh.name = spec.name;
            fresh.spec_yaml = task.spec_yaml;
            fresh.spec_path = fleet_.spec_path;
            fresh.model = fleet_.model;
            create_session(store_, fresh, spec, *tools, [&](const std::string& id) {
                fleets_.set_session(fleet_.id, task.index, id);
            });
            record = fresh;
        }
        started.session_id = record->id;
        auto runner = std::make_shared<SessionRunner>(io_, model_, store_, events_, spec, *record,
                                                      tools, options_.runner);
        running_.push_back(runner);
        observer_.on_task_started(started);
        const int index = task.index;
        std::weak_ptr<SessionRunner> weak = runner;
        try {
            runner->start([this, index, weak, task](const RunResult& r) {
                if (auto self = weak.lock()) {
                    std::erase(running_, self);
                    fleets_.add_wall_time(fleet_.id, index, r.wall_seconds);
                    FleetTask now = task;
                    now.wall_seconds += r.wall_seconds;
                    if (!now.session_id) now.session_id = self->record().id;
                    TaskOutcome o = outcome_of(store_, now);
                    for (const auto& e : r.output_errors)
                        o.error += (o.error.empty() ? "" : "; ") + e;
                    ended(index, o);
                }
            });
        } catch (const SetupError& busy) {  // another process runs this session: not ours
            std::erase(running_, runner);
            TaskOutcome o = started;
            o.state = "skipped";
            o.error = busy.what();
            ++posted_;
            boost::asio::post(io_, [this, o] { --posted_, ended(o.index, o); });
        }
    } catch (const std::exception& e) {
        if (record) store_.fail_if_open(record->id, e.what());
        FleetTask now = task;
        if (record) now.session_id = record->id;
        TaskOutcome o = outcome_of(store_, now);
        if (o.error.empty()) o.error = e.what();
        if (o.state == "pending" || o.state == "running") o.state = "failed";
        ++posted_;
        boost::asio::post(io_, [this, o] { --posted_, ended(o.index, o); });
    }
}

void FleetRunner::ended(int /*index*/, const TaskOutcome& outcome) {
    if (outcome.state != "finished" && outcome.state != "skipped" && !stopping_) ++failures_;
    observer_.on_task_done(outcome);
    if (options_.max_failures > 0 && failures_ >= options_.max_failures && !stopping_)
        return stop(StopReason::Cancelled);
    fill();
}

}  // namespace gossamer::runtime
