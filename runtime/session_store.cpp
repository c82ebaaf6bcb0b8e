#include "runtime/session_store.h"

#include "runtime/sqlite_statement.h"

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

namespace gossamer::runtime {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1');
CREATE TABLE IF NOT EXISTS sessions(
  id TEXT PRIMARY KEY, name TEXT NOT NULL, spec_yaml TEXT NOT NULL, spec_path TEXT NOT NULL,
  model TEXT NOT NULL, status TEXT NOT NULL, stop_reason TEXT NOT NULL DEFAULT '',
  final_answer TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  error TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS messages(
  session_id TEXT NOT NULL REFERENCES sessions(id), seq INTEGER NOT NULL,
  role TEXT NOT NULL, name TEXT, recipient TEXT, channel TEXT, content_type TEXT,
  json TEXT NOT NULL, tokens INTEGER NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY(session_id, seq));
CREATE TABLE IF NOT EXISTS leases(
  session_id TEXT PRIMARY KEY REFERENCES sessions(id), owner TEXT NOT NULL, pid INTEGER NOT NULL,
  host TEXT NOT NULL, since TEXT NOT NULL, heartbeat REAL NOT NULL, pid_start INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS fleets(
  id TEXT PRIMARY KEY, name TEXT NOT NULL, spec_yaml TEXT NOT NULL, spec_path TEXT NOT NULL,
  model TEXT NOT NULL, options TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fleet_tasks(
  fleet_id TEXT NOT NULL REFERENCES fleets(id), idx INTEGER NOT NULL, task_id TEXT NOT NULL,
  spec_yaml TEXT NOT NULL, session_id TEXT REFERENCES sessions(id),
  wall_seconds REAL NOT NULL DEFAULT 0, PRIMARY KEY(fleet_id, idx), UNIQUE(fleet_id, task_id));
CREATE TABLE IF NOT EXISTS blobs(hash TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS workspace_changes(
  session_id TEXT NOT NULL REFERENCES sessions(id), step INTEGER NOT NULL, message INTEGER,
  kind TEXT NOT NULL, path TEXT NOT NULL, before_hash TEXT, before_mode INTEGER NOT NULL,
  after_hash TEXT, after_mode INTEGER NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY(session_id, step, path));
CREATE TABLE IF NOT EXISTS events(
  session_id TEXT NOT NULL REFERENCES sessions(id), seq INTEGER NOT NULL, kind TEXT NOT NULL,
  json TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY(session_id, seq));
)sql";

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "?";
    return name;
}

// Field 22 of /proc/PID/stat (start time in clock ticks); 0 when the process is gone.
long long process_start(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) return 0;
    std::istringstream rest(stat.substr(paren + 2));
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i)
        if (i == 22) return std::atoll(field.c_str());
    return 0;
}

SessionRecord record_from(const Statement& s) {
    SessionRecord r;
    r.id = s.text(0);
    r.name = s.text(1);
    r.spec_yaml = s.text(2);
    r.spec_path = s.text(3);
    r.model = s.text(4);
    r.status = s.text(5);
    r.stop_reason = s.text(6);
    r.final_answer = s.text(7);
    r.created_at = s.text(8);
    r.updated_at = s.text(9);
    r.error = s.text(10);
    return r;
}

constexpr const char* kSessionColumns =
    "id, name, spec_yaml, spec_path, model, status, stop_reason, final_answer, created_at, "
    "updated_at, error";

std::string os_reason(int err) {
    return err ? std::strerror(err) : "unknown reason";
}

}  // namespace

fs::path SessionStore::default_path() {
    if (const char* home = std::getenv("GOSSAMER_HOME"); home && *home)
        return fs::path(home) / "sessions.db";
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        return fs::path(xdg) / "gossamer" / "sessions.db";
    const char* home = std::getenv("HOME");
    return fs::path(home && *home ? home : ".") / ".local" / "share" / "gossamer" / "sessions.db";
}

void SessionStore::check_path(const fs::path& path, StoreOpen how) {
    auto refuse = [&](const std::string& why) -> void {
        throw StorePathError("session store '" + path.string() + "': " + why);
    };
    if (path.empty()) refuse("the path is empty");
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (fs::is_directory(status)) refuse("is a directory (give a file, e.g. DIR/sessions.db)");
    if (fs::exists(status)) {
        if (::access(path.c_str(), R_OK | W_OK) != 0)
            refuse("cannot open it for reading and writing (" + os_reason(errno) + ")");
        return;
    }
    if (how.must_exist) refuse("no such file (no sessions were ever stored there)");
    fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
    if (how.create_parent) {  // the nearest folder that exists must let us create the rest
        while (!fs::exists(parent, ec) && parent.has_parent_path() &&
               parent != parent.parent_path())
            parent = parent.parent_path();
    } else if (!fs::is_directory(parent, ec)) {
        refuse("the folder " + parent.string() + " does not exist");
    }
    if (::access(parent.c_str(), W_OK | X_OK) != 0)
        refuse("cannot create it in " + parent.string() + " (" + os_reason(errno) + ")");
}

SessionStore::SessionStore(const fs::path& path, StoreOpen how) : path_(path) {
    auto refuse = [&](const std::string& why) -> void {
        throw StorePathError("session store '" + path.string() + "': " + why);
    };
    check_path(path, how);
    std::error_code ec;
    const bool existed = fs::exists(path, ec);
    if (!existed && how.create_parent && path.has_parent_path())
        fs::create_directories(path.parent_path(), ec);
    const int flags = SQLITE_OPEN_READWRITE | (existed ? 0 : SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        refuse(why);
    }
    sqlite3_busy_timeout(db_, 5000);
    try {
        // WAL + NORMAL: a committed step survives a killed process (SIGKILL); after a power
        // loss the last steps may be lost but the database stays consistent.
        exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
        exec(kSchema);
        bool has_error = false;  // schema 1 stores have no sessions.error column
        {
            Statement info(db_, "PRAGMA table_info(sessions)");
            while (info.row()) has_error = has_error || info.text(1) == "error";
        }
        if (!has_error) exec("ALTER TABLE sessions ADD COLUMN error TEXT NOT NULL DEFAULT ''");
        exec("UPDATE meta SET value = '2' WHERE key = 'schema_version'");
    } catch (const StoreError& e) {
        sqlite3_close(db_);
        db_ = nullptr;
        if (!existed) {  // nothing half made: remove what sqlite created
            for (const char* suffix : {"", "-wal", "-shm", "-journal"})
                fs::remove(path.string() + suffix, ec);
        }
        std::string why = e.what();
        if (why.rfind("session store: ", 0) == 0) why = why.substr(15);
        refuse(why + (existed ? " (is it a gossamer session store?)" : ""));
    }
}

SessionStore::~SessionStore() {
    sqlite3_close(db_);
}

void SessionStore::exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
        std::string why = error ? error : "unknown error";
        sqlite3_free(error);
        throw StoreError("session store: " + why);
    }
}

void SessionStore::transaction(const std::function<void()>& body) {
    exec("BEGIN IMMEDIATE");
    try {
        body();
    } catch (...) {
        exec("ROLLBACK");
        throw;
    }
    exec("COMMIT");
}

std::string SessionStore::create(SessionRecord& r) {
    r.id = stamped_id("");
    r.created_at = r.updated_at = utc_now();
    Statement s(db_,
                "INSERT INTO sessions(id, name, spec_yaml, spec_path, model, status, stop_reason, "
                "final_answer, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, r.id).bind(2, r.name).bind(3, r.spec_yaml).bind(4, r.spec_path).bind(5, r.model);
    s.bind(6, r.status).bind(7, r.stop_reason).bind(8, r.final_answer).bind(9, r.created_at);
    s.bind(10, r.updated_at).run();
    return r.id;
}

std::optional<SessionRecord> SessionStore::find(const std::string& id) const {
    Statement s(db_,
                (std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id = ?").c_str());
    s.bind(1, id);
    if (!s.row()) return std::nullopt;
    return record_from(s);
}

std::vector<SessionRecord> SessionStore::list() const {
    Statement s(db_, (std::string("SELECT ") + kSessionColumns +
                      " FROM sessions ORDER BY created_at DESC, id DESC")
                         .c_str());
    std::vector<SessionRecord> out;
    while (s.row()) out.push_back(record_from(s));
    return out;
}

// Fences a write for a session whose lease we hold: the statements below hold the condition
// "?20 IS NULL OR EXISTS (lease row with our owner)", so a taken-over lease makes them change
// nothing, inside the same statement (no gap between the check and the write).
namespace {
constexpr const char* kFence =
    "(?20 IS NULL OR EXISTS (SELECT 1 FROM leases WHERE session_id = ?21 AND owner = ?20))";
}  // namespace

std::optional<std::string> SessionStore::held(const std::string& id) const {
    for (const auto& [session, owner] : leases_)
        if (session == id) return owner;
    return std::nullopt;
}

void SessionStore::fenced(const std::string& id, int changes) const {
    if (changes == 0 && held(id))
        throw LeaseLost("session " + id +
                        " was taken over by another process (its lease went stale here); "
                        "this process stops writing to it");
}

void SessionStore::set_status(const std::string& id, const std::string& status,
                              const std::string& stop_reason, const std::string& final_answer,
                              const std::string& error) {
    Statement s(db_, (std::string("UPDATE sessions SET status = ?1, stop_reason = ?2, "
                                  "final_answer = ?3, updated_at = ?4, error = ?6 WHERE id = ?5 "
                                  "AND ") +
                      kFence)
                         .c_str());
    s.bind(1, status).bind(2, stop_reason).bind(3, final_answer).bind(4, utc_now()).bind(5, id);
    s.bind(6, error).bind(20, held(id)).bind(21, id).run();
    fenced(id, sqlite3_changes(db_));
}

bool Lease::live(double stale_after) const {
    if (unix_now() - heartbeat > stale_after) return false;
    if (host != host_name()) return true;    // another machine's process: trust the heartbeat
    return process_start(pid) == pid_start;  // gone, or its pid reused by another process
}

std::optional<Lease> SessionStore::lease(const std::string& id) const {
    Statement s(db_,
                "SELECT owner, pid, host, since, heartbeat, pid_start FROM leases WHERE "
                "session_id = ?");
    s.bind(1, id);
    if (!s.row()) return std::nullopt;
    Lease l;
    l.owner = s.text(0);
    l.pid = static_cast<long>(s.integer(1));
    l.host = s.text(2);
    l.since = s.text(3);
    l.heartbeat = s.real(4);
    l.pid_start = s.integer(5);
    return l;
}

std::optional<LeaseRefusal> SessionStore::take_lease(const std::string& id,
                                                     const std::string& seen_status,
                                                     double stale_after) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    char owner[40];
    std::snprintf(owner, sizeof owner, "%016llx%016llx", static_cast<unsigned long long>(random()),
                  static_cast<unsigned long long>(random()));
    std::optional<LeaseRefusal> busy;
    transaction([&] {
        const auto record = find(id);
        if (!record) throw StoreError("no session " + id);
        if (auto current = lease(id); current && current->live(stale_after)) {
            busy = LeaseRefusal{std::move(current), record->status};
            return;
        }
        if (record->status != seen_status) {
            busy = LeaseRefusal{std::nullopt, record->status};
            return;
        }
        const long pid = static_cast<long>(::getpid());
        Statement s(db_,
                    "INSERT OR REPLACE INTO leases(session_id, owner, pid, host, since, "
                    "heartbeat, pid_start) VALUES (?,?,?,?,?,?,?)");
        s.bind(1, id).bind(2, std::string(owner)).bind(3, std::int64_t{pid}).bind(4, host_name());
        s.bind(5, utc_now()).bind(6, unix_now()).bind(7, std::int64_t{process_start(pid)}).run();
        Statement u(db_, "UPDATE sessions SET status = 'running', updated_at = ? WHERE id = ?");
        u.bind(1, utc_now()).bind(2, id).run();
    });
    if (!busy) {
        std::erase_if(leases_, [&](const auto& l) { return l.first == id; });
        leases_.emplace_back(id, owner);
    }
    return busy;
}

bool SessionStore::heartbeat(const std::string& id) {
    const auto owner = held(id);
    if (!owner) return false;
    Statement s(db_, "UPDATE leases SET heartbeat = ? WHERE session_id = ? AND owner = ?");
    s.bind(1, unix_now()).bind(2, id).bind(3, *owner).run();
    return sqlite3_changes(db_) == 1;
}

void SessionStore::drop_lease(const std::string& id) {
    const auto owner = held(id);
    if (!owner) return;
    Statement s(db_, "DELETE FROM leases WHERE session_id = ? AND owner = ?");
    s.bind(1, id).bind(2, *owner).run();
    std::erase_if(leases_, [&](const auto& l) { return l.first == id; });
}

void SessionStore::fail_if_open(const std::string& id, const std::string& error) {
    Statement s(db_,
                "UPDATE sessions SET status = 'failed', stop_reason = 'error', error = ?, "
                "updated_at = ? WHERE id = ? AND status IN ('created', 'running')");
    s.bind(1, error).bind(2, utc_now()).bind(3, id).run();
}

int SessionStore::next_seq(const char* table, const std::string& id) const {
    Statement s(db_, (std::string("SELECT COALESCE(MAX(seq) + 1, 0) FROM ") + table +
                      " WHERE session_id = ?")
                         .c_str());
    s.bind(1, id);
    s.row();
    return static_cast<int>(s.integer(0));
}

int SessionStore::append_message(const std::string& id, const harmony::Message& m, int tokens) {
    const int seq = next_seq("messages", id);
    Statement s(db_, (std::string("INSERT INTO messages(session_id, seq, role, name, recipient, "
                                  "channel, content_type, json, tokens, created_at) SELECT "
                                  "?1,?2,?3,?4,?5,?6,?7,?8,?9,?10 WHERE ") +
                      kFence)
                         .c_str());
    s.bind(1, id).bind(2, std::int64_t{seq}).bind(3, std::string(harmony::to_string(m.role)));
    s.bind(4, m.name).bind(5, m.recipient).bind(6, m.channel).bind(7, m.content_type);
    s.bind(8, harmony::message_to_json(m).dump()).bind(9, std::int64_t{tokens});
    s.bind(10, utc_now()).bind(20, held(id)).bind(21, id).run();
    fenced(id, sqlite3_changes(db_));
    return seq;
}

int SessionStore::append_event(const std::string& id, const std::string& kind,
                               const nlohmann::ordered_json& data) {
    const int seq = next_seq("events", id);
    Statement s(db_, (std::string("INSERT INTO events(session_id, seq, kind, json, created_at) "
                                  "SELECT ?1,?2,?3,?4,?5 WHERE ") +
                      kFence)
                         .c_str());
    s.bind(1, id).bind(2, std::int64_t{seq}).bind(3, kind).bind(4, data.dump());
    s.bind(5, utc_now()).bind(20, held(id)).bind(21, id).run();
    fenced(id, sqlite3_changes(db_));
    return seq;
}

void SessionStore::put_blob(const std::string& hash, std::string_view bytes) {
    Statement s(db_, "INSERT OR IGNORE INTO blobs(hash, data) VALUES (?, ?)");
    s.bind(1, hash).bind_blob(2, bytes).run();
}

std::optional<std::string> SessionStore::blob(const std::string& hash) const {
    Statement s(db_, "SELECT data FROM blobs WHERE hash = ?");
    s.bind(1, hash);
    if (!s.row()) return std::nullopt;
    return s.text(0);
}

void SessionStore::append_changes(const std::string& id, const std::vector<StoredChange>& changes) {
    for (const auto& c : changes) {
        Statement s(db_, (std::string("INSERT INTO workspace_changes(session_id, step, message, "
                                      "kind, path, before_hash, before_mode, after_hash, "
                                      "after_mode, created_at) SELECT ?1,?2,?3,?4,?5,?6,?7,?8,?9,"
                                      "?10 WHERE ") +
                          kFence)
                             .c_str());
        s.bind(1, id).bind(2, std::int64_t{c.step});
        if (c.message) s.bind(3, static_cast<std::int64_t>(*c.message));
        s.bind(4, c.kind).bind(5, c.path).bind(6, c.before_hash);
        s.bind(7, std::int64_t{c.before_mode}).bind(8, c.after_hash);
        s.bind(9, std::int64_t{c.after_mode}).bind(10, utc_now());
        s.bind(20, held(id)).bind(21, id).run();
        fenced(id, sqlite3_changes(db_));
    }
}

std::vector<StoredChange> SessionStore::changes(const std::string& id) const {
    Statement s(
        db_,
        "SELECT step, message, kind, path, before_hash, before_mode, after_hash, after_mode "
        "FROM workspace_changes WHERE session_id = ? ORDER BY step, path");
    s.bind(1, id);
    std::vector<StoredChange> out;
    while (s.row()) {
        StoredChange c;
        c.step = static_cast<int>(s.integer(0));
        if (!s.is_null(1)) c.message = static_cast<std::size_t>(s.integer(1));
        c.kind = s.text(2);
        c.path = s.text(3);
        if (!s.is_null(4)) c.before_hash = s.text(4);
        c.before_mode = static_cast<std::uint32_t>(s.integer(5));
        if (!s.is_null(6)) c.after_hash = s.text(6);
        c.after_mode = static_cast<std::uint32_t>(s.integer(7));
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<StoredMessage> SessionStore::messages(const std::string& id, int after) const {
    Statement s(db_,
                "SELECT seq, json, tokens FROM messages WHERE session_id = ? AND seq > ? ORDER BY "
                "seq");
    s.bind(1, id).bind(2, std::int64_t{after});
    std::vector<StoredMessage> out;
    while (s.row())
        out.push_back({static_cast<int>(s.integer(0)),
                       harmony::message_from_json(harmony::Json::parse(s.text(1))),
                       static_cast<int>(s.integer(2))});
    return out;
}

std::vector<StoredEvent> SessionStore::events(const std::string& id, int after) const {
    Statement s(db_,
                "SELECT seq, kind, json, created_at FROM events WHERE session_id = ? AND seq > ? "
                "ORDER BY seq");
    s.bind(1, id).bind(2, std::int64_t{after});
    std::vector<StoredEvent> out;
    while (s.row())
        out.push_back({static_cast<int>(s.integer(0)), s.text(1),
                       nlohmann::ordered_json::parse(s.text(2)), s.text(3)});
    return out;
}

GenerationTotals generation_totals(const std::vector<StoredEvent>& events) {
    GenerationTotals totals;
    for (const auto& e : events)
        if (const auto body = e.typed())
            if (const auto* g = std::get_if<GenerationDone>(&*body))
                ++totals.turns, totals.output_tokens += g->output_tokens;
    return totals;
}

std::vector<EndpointUsage> usage_by_endpoint(const std::vector<StoredEvent>& events) {
    std::vector<EndpointUsage> out;
    for (const auto& e : events) {
        const auto body = e.typed();
        const auto* g = body ? std::get_if<GenerationDone>(&*body) : nullptr;
        if (!g) continue;
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const auto& u) { return u.endpoint == g->endpoint; });
        if (it == out.end()) it = out.insert(out.end(), EndpointUsage{g->endpoint});
        ++it->generations;
        it->prompt_tokens += g->prompt_tokens;
        it->cached_tokens += g->cached_tokens;
        it->output_tokens += g->output_tokens;
        it->retries += g->retries;
        it->ms += g->ms;
    }
    return out;
}

}  // namespace gossamer::runtime
