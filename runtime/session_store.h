// Sessions on disk: one sqlite3 database (WAL) holding each session's spec, its harmony
// messages (re-renderable exactly) and its events (tool calls started/finished, usage,
// errors). The agent loop commits each step here before acting on it, which is what lets
// `gossamer resume` continue after SIGKILL at any point. Storage only: it must not decide
// what a session does next.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "harmony/message.h"

struct sqlite3;

#include "runtime/protocol.h"

namespace gossamer::runtime {

struct StoreError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// The path given for a store cannot be one (missing, a directory, not sqlite, read-only, ...):
// the user's mistake, named with the path and the reason. Nothing was created.
struct StorePathError : StoreError {
    using StoreError::StoreError;
};
// A write for a session whose lease this store held was refused: another process took the
// session over (its lease had gone stale). Nothing of the write was committed.
struct LeaseLost : StoreError {
    using StoreError::StoreError;
};

// Who runs a session now: one row per running session (docs/CLI.md, "Session states").
struct Lease {
    std::string owner;  // random id of the holder (one per process and session)
    long pid = 0;
    std::string host;
    std::string since;        // ISO 8601 UTC
    double heartbeat = 0;     // unix seconds of the last heartbeat
    long long pid_start = 0;  // the holder's start time (/proc/PID/stat), against pid reuse
    // Live: a heartbeat within `stale_after` seconds and, on this host, the process exists.
    bool live(double stale_after) const;
};

// Why take_lease refused: a live holder, or the session moved on since the caller read it
// (another process ran it in between: its status is no longer the one the caller saw).
struct LeaseRefusal {
    std::optional<Lease> holder;  // set: a live holder; empty: the status changed
    std::string status;           // the session's status when refused
};

// Session states: created (opened, never run) -> running (a lease is held) -> finished |
// failed | interrupted | budget | cancelled. A session left `running` by a killed process
// holds a stale lease; resume takes it over.
inline constexpr const char* kSessionStates[] = {"created",     "running", "finished", "failed",
                                                 "interrupted", "budget",  "cancelled"};

struct SessionRecord {
    std::string id;
    std::string name;
    std::string spec_yaml;  // the agent spec as given (resume rebuilds the agent from it)
    std::string spec_path;  // where it came from (relative paths in it resolve from there)
    std::string model;
    std::string status = "created";  // one of kSessionStates
    std::string stop_reason;         // final | max_turns | ... (see agent_loop.h)
    std::string error;               // why it failed (failed sessions)
    std::string final_answer;
    std::string created_at, updated_at;  // ISO 8601 UTC
};

struct StoredMessage {
    int seq = 0;
    harmony::Message message;
    int tokens = 0;
};

// One file's change in one step of a session's workspace history (workspace_history.h):
// no hash on a side means the file did not exist there; modes are st_mode values.
struct StoredChange {
    int step = 0;
    std::optional<std::size_t> message;  // the tool call's index
    std::string kind;                    // baseline | tool | reconciled | revert
    std::string path;
    std::optional<std::string> before_hash;
    std::uint32_t before_mode = 0;
    std::optional<std::string> after_hash;
    std::uint32_t after_mode = 0;
};

struct StoredEvent {
    int seq = 0;
    std::string kind;
    nlohmann::ordered_json data;
    std::string created_at;  // ISO 8601 UTC, seconds
    // The typed event (runtime/protocol.h); nullopt for a kind this version does not know.
    std::optional<EventBody> typed() const { return from_stored(kind, data); }
};

// Turns and output tokens a session's stored `generation` events add up to.
struct GenerationTotals {
    int turns = 0;
    int output_tokens = 0;
};
GenerationTotals generation_totals(const std::vector<StoredEvent>& events);

// The same events per endpoint that served them ("" for the local engine), in first-use order.
struct EndpointUsage {
    std::string endpoint;
    int generations = 0;
    long prompt_tokens = 0;
    long cached_tokens = 0;
    long output_tokens = 0;
    int retries = 0;
    double ms = 0;
};
std::vector<EndpointUsage> usage_by_endpoint(const std::vector<StoredEvent>& events);

struct StoreOpen {
    bool must_exist = false;    // resume, sessions ...: never create a store
    bool create_parent = true;  // false: the folder must exist (a user-given --store)
};

class SessionStore {
  public:
    // Opens (or creates) the database. A path that cannot be a store is a StorePathError
    // and leaves nothing behind; other failures are StoreError.
    explicit SessionStore(const std::filesystem::path& path, StoreOpen how = {});
    // The checks of the constructor that need no file: throws StorePathError, creates nothing.
    static void check_path(const std::filesystem::path& path, StoreOpen how = {});
    ~SessionStore();
    SessionStore(const SessionStore&) = delete;
    SessionStore& operator=(const SessionStore&) = delete;

    // $GOSSAMER_HOME/sessions.db, else $XDG_DATA_HOME/gossamer/sessions.db, else
    // ~/.local/share/gossamer/sessions.db.
    static std::filesystem::path default_path();

    // Creates a session with a new unique id (returned, also written into record.id).
    std::string create(SessionRecord& record);
    std::optional<SessionRecord> find(const std::string& id) const;
    std::vector<SessionRecord> list() const;  // newest first
    void set_status(const std::string& id, const std::string& status,
                    const std::string& stop_reason, const std::string& final_answer = {},
                    const std::string& error = {});

    // Leases (one holder per session). take_lease: in one transaction, refuses (a live holder,
    // or a status other than `seen_status`, the one the caller decided on: a resume that read
    // `running` does not run a session another resume finished meanwhile) or takes the lease
    // over and sets the status to running. While this store holds a session's lease, every
    // write for it is fenced: committed only if the lease is still ours, else LeaseLost.
    std::optional<LeaseRefusal> take_lease(const std::string& id, const std::string& seen_status,
                                           double stale_after);
    bool heartbeat(const std::string& id);   // false: the lease is no longer ours
    void drop_lease(const std::string& id);  // after the final status is written
    std::optional<Lease> lease(const std::string& id) const;
    // Marks a session failed with `error` when it is still created/running (start-up failure).
    void fail_if_open(const std::string& id, const std::string& error);

    // Appends with the next seq; both in one transaction when used through transaction().
    int append_message(const std::string& id, const harmony::Message& message, int tokens);
    int append_event(const std::string& id, const std::string& kind,
                     const nlohmann::ordered_json& data);
    // In seq order; `after`: only those with a larger seq (a viewer following a session).
    std::vector<StoredMessage> messages(const std::string& id, int after = -1) const;
    std::vector<StoredEvent> events(const std::string& id, int after = -1) const;

    // Workspace history: content-addressed blobs (shared by all sessions) and change sets.
    void put_blob(const std::string& hash, std::string_view bytes);
    std::optional<std::string> blob(const std::string& hash) const;
    // Appends one step's changes (all with `changes[i].step`); fenced by the lease like events.
    void append_changes(const std::string& id, const std::vector<StoredChange>& changes);
    std::vector<StoredChange> changes(const std::string& id) const;  // by step, then path

    // Runs `body` in one transaction (committed when it returns, rolled back if it throws).
    void transaction(const std::function<void()>& body);

    const std::filesystem::path& path() const { return path_; }
    // The connection, for the other stores of the same database (fleet_store.h).
    sqlite3* handle() const { return db_; }

  private:
    void exec(const char* sql);
    int next_seq(const char* table, const std::string& id) const;
    std::optional<std::string> held(const std::string& id) const;  // our owner id
    void fenced(const std::string& id, int changes) const;         // throws LeaseLost

    std::filesystem::path path_;
    sqlite3* db_ = nullptr;
    std::vector<std::pair<std::string, std::string>> leases_;  // session -> owner we hold
};

}  // namespace gossamer::runtime
