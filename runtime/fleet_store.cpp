#include "runtime/fleet_store.h"

#include "runtime/sqlite_statement.h"

namespace gossamer::runtime {

namespace {

FleetRecord fleet_from(const Statement& s) {
    FleetRecord f;
    f.id = s.text(0);
    f.name = s.text(1);
    f.spec_yaml = s.text(2);
    f.spec_path = s.text(3);
    f.model = s.text(4);
    f.options = nlohmann::ordered_json::parse(s.text(5));
    f.created_at = s.text(6);
    return f;
}

constexpr const char* kFleetColumns =
    "SELECT id, name, spec_yaml, spec_path, model, options, created_at FROM fleets";

}  // namespace

std::string FleetStore::create(FleetRecord& fleet, const std::vector<FleetTask>& tasks) {
    fleet.id = stamped_id("fleet-");
    fleet.created_at = utc_now();
    store_.transaction([&] {
        Statement f(store_.handle(),
                    "INSERT INTO fleets(id, name, spec_yaml, spec_path, model, options, "
                    "created_at) VALUES (?,?,?,?,?,?,?)");
        f.bind(1, fleet.id).bind(2, fleet.name).bind(3, fleet.spec_yaml).bind(4, fleet.spec_path);
        f.bind(5, fleet.model).bind(6, fleet.options.dump()).bind(7, fleet.created_at).run();
        for (const auto& t : tasks) {
            Statement s(store_.handle(),
                        "INSERT INTO fleet_tasks(fleet_id, idx, task_id, spec_yaml) VALUES "
                        "(?,?,?,?)");
            s.bind(1, fleet.id).bind(2, std::int64_t{t.index}).bind(3, t.task_id);
            s.bind(4, t.spec_yaml).run();
        }
    });
    return fleet.id;
}

std::optional<FleetRecord> FleetStore::find(const std::string& id) const {
    Statement s(store_.handle(), (std::string(kFleetColumns) + " WHERE id = ?").c_str());
    s.bind(1, id);
    if (!s.row()) return std::nullopt;
    return fleet_from(s);
}

std::vector<FleetRecord> FleetStore::list() const {
    Statement s(store_.handle(),
                (std::string(kFleetColumns) + " ORDER BY created_at DESC, id DESC").c_str());
    std::vector<FleetRecord> out;
    while (s.row()) out.push_back(fleet_from(s));
    return out;
}

std::vector<FleetTask> FleetStore::tasks(const std::string& fleet_id) const {
    Statement s(store_.handle(),
                "SELECT idx, task_id, spec_yaml, session_id, wall_seconds FROM fleet_tasks WHERE "
                "fleet_id = ? ORDER BY idx");
    s.bind(1, fleet_id);
    std::vector<FleetTask> out;
    while (s.row()) {
        FleetTask t;
        t.index = static_cast<int>(s.integer(0));
        t.task_id = s.text(1);
        t.spec_yaml = s.text(2);
        if (!s.is_null(3)) t.session_id = s.text(3);
        t.wall_seconds = s.real(4);
        out.push_back(std::move(t));
    }
    return out;
}

void FleetStore::set_session(const std::string& fleet_id, int index,
                             const std::string& session_id) {
    Statement s(store_.handle(),
                "UPDATE fleet_tasks SET session_id = ? WHERE fleet_id = ? AND idx = ? AND "
                "session_id IS NULL");
    s.bind(1, session_id).bind(2, fleet_id).bind(3, std::int64_t{index}).run();
    if (sqlite3_changes(store_.handle()) != 1)
        throw StoreError("fleet " + fleet_id + ": task " + std::to_string(index) +
                         " already has a session");
}

void FleetStore::add_wall_time(const std::string& fleet_id, int index, double seconds) {
    Statement s(store_.handle(),
                "UPDATE fleet_tasks SET wall_seconds = wall_seconds + ? WHERE fleet_id = ? AND "
                "idx = ?");
    s.bind(1, seconds).bind(2, fleet_id).bind(3, std::int64_t{index}).run();
}

}  // namespace gossamer::runtime
