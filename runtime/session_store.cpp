#include "runtime/session_store.h"

#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <random>

namespace gossamer::runtime {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1');
CREATE TABLE IF NOT EXISTS sessions(
  id TEXT PRIMARY KEY, name TEXT NOT NULL, spec_yaml TEXT NOT NULL, spec_path TEXT NOT NULL,
  model TEXT NOT NULL, status TEXT NOT NULL, stop_reason TEXT NOT NULL DEFAULT '',
  final_answer TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages(
  session_id TEXT NOT NULL REFERENCES sessions(id), seq INTEGER NOT NULL,
  role TEXT NOT NULL, name TEXT, recipient TEXT, channel TEXT, content_type TEXT,
  json TEXT NOT NULL, tokens INTEGER NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY(session_id, seq));
CREATE TABLE IF NOT EXISTS events(
  session_id TEXT NOT NULL REFERENCES sessions(id), seq INTEGER NOT NULL, kind TEXT NOT NULL,
  json TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY(session_id, seq));
)sql";

std::string now_utc() {
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

// A prepared statement that finalizes itself; bind by 1-based index.
class Statement {
  public:
    Statement(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
            throw StoreError(std::string("session store: ") + sqlite3_errmsg(db));
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int i, const std::string& text) {
        sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind(int i, const std::optional<std::string>& text) {
        if (text) return bind(i, *text);
        sqlite3_bind_null(stmt_, i);
        return *this;
    }
    Statement& bind(int i, std::int64_t value) {
        sqlite3_bind_int64(stmt_, i, value);
        return *this;
    }
    bool row() {  // true while a row is available
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw StoreError(std::string("session store: ") + sqlite3_errmsg(db_));
    }
    void run() {
        while (row()) {
        }
    }
    std::string text(int column) const {
        const auto* p = sqlite3_column_text(stmt_, column);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
                 : std::string();
    }
    std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }

  private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

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
    return r;
}

constexpr const char* kSessionColumns =
    "id, name, spec_yaml, spec_path, model, status, stop_reason, final_answer, created_at, "
    "updated_at";

}  // namespace

fs::path SessionStore::default_path() {
    if (const char* home = std::getenv("GOSSAMER_HOME"); home && *home)
        return fs::path(home) / "sessions.db";
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        return fs::path(xdg) / "gossamer" / "sessions.db";
    const char* home = std::getenv("HOME");
    return fs::path(home && *home ? home : ".") / ".local" / "share" / "gossamer" / "sessions.db";
}

SessionStore::SessionStore(const fs::path& path) : path_(path) {
    std::error_code ec;
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
        std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError("cannot open session store " + path.string() + ": " + why);
    }
    sqlite3_busy_timeout(db_, 5000);
    try {
        // WAL + NORMAL: a committed step survives a killed process (SIGKILL); after a power
        // loss the last steps may be lost but the database stays consistent.
        exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
        exec(kSchema);
    } catch (const StoreError& e) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw StoreError(path.string() + ": " + e.what());
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
    static std::mt19937_64 random{std::random_device{}()};
    char id[32];
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(id, sizeof id, "%Y%m%d-%H%M%S-", &tm);
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, "%06llx",
                  static_cast<unsigned long long>(random() & 0xffffff));
    r.id = std::string(id) + suffix;
    r.created_at = r.updated_at = now_utc();
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

void SessionStore::set_status(const std::string& id, const std::string& status,
                              const std::string& stop_reason, const std::string& final_answer) {
    Statement s(db_,
                "UPDATE sessions SET status = ?, stop_reason = ?, final_answer = ?, updated_at = ? "
                "WHERE id = ?");
    s.bind(1, status)
        .bind(2, stop_reason)
        .bind(3, final_answer)
        .bind(4, now_utc())
        .bind(5, id)
        .run();
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
    Statement s(db_,
                "INSERT INTO messages(session_id, seq, role, name, recipient, channel, "
                "content_type, json, tokens, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)");
    s.bind(1, id).bind(2, std::int64_t{seq}).bind(3, std::string(harmony::to_string(m.role)));
    s.bind(4, m.name).bind(5, m.recipient).bind(6, m.channel).bind(7, m.content_type);
    s.bind(8, harmony::message_to_json(m).dump()).bind(9, std::int64_t{tokens});
    s.bind(10, now_utc()).run();
    return seq;
}

int SessionStore::append_event(const std::string& id, const std::string& kind,
                               const nlohmann::ordered_json& data) {
    const int seq = next_seq("events", id);
    Statement s(db_,
                "INSERT INTO events(session_id, seq, kind, json, created_at) VALUES (?,?,?,?,?)");
    s.bind(1, id)
        .bind(2, std::int64_t{seq})
        .bind(3, kind)
        .bind(4, data.dump())
        .bind(5, now_utc())
        .run();
    return seq;
}

std::vector<StoredMessage> SessionStore::messages(const std::string& id) const {
    Statement s(db_, "SELECT seq, json, tokens FROM messages WHERE session_id = ? ORDER BY seq");
    s.bind(1, id);
    std::vector<StoredMessage> out;
    while (s.row())
        out.push_back({static_cast<int>(s.integer(0)),
                       harmony::message_from_json(harmony::Json::parse(s.text(1))),
                       static_cast<int>(s.integer(2))});
    return out;
}

std::vector<StoredEvent> SessionStore::events(const std::string& id) const {
    Statement s(db_, "SELECT seq, kind, json FROM events WHERE session_id = ? ORDER BY seq");
    s.bind(1, id);
    std::vector<StoredEvent> out;
    while (s.row())
        out.push_back(
            {static_cast<int>(s.integer(0)), s.text(1), nlohmann::ordered_json::parse(s.text(2))});
    return out;
}

}  // namespace gossamer::runtime
