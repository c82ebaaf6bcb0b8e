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
#include <vector>

#include "harmony/message.h"

struct sqlite3;

namespace gossamer::runtime {

struct StoreError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct SessionRecord {
    std::string id;
    std::string name;
    std::string spec_yaml;  // the agent spec as given (resume rebuilds the agent from it)
    std::string spec_path;  // where it came from (relative paths in it resolve from there)
    std::string model;
    std::string status = "running";  // running | finished | failed | cancelled
    std::string stop_reason;         // final | max_turns | ... (see agent_loop.h)
    std::string final_answer;
    std::string created_at, updated_at;  // ISO 8601 UTC
};

struct StoredMessage {
    int seq = 0;
    harmony::Message message;
    int tokens = 0;
};

struct StoredEvent {
    int seq = 0;
    std::string kind;
    nlohmann::ordered_json data;
};

class SessionStore {
  public:
    // Opens or creates the database (and its directory). Throws StoreError.
    explicit SessionStore(const std::filesystem::path& path);
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
                    const std::string& stop_reason, const std::string& final_answer = {});

    // Appends with the next seq; both in one transaction when used through transaction().
    int append_message(const std::string& id, const harmony::Message& message, int tokens);
    int append_event(const std::string& id, const std::string& kind,
                     const nlohmann::ordered_json& data);
    std::vector<StoredMessage> messages(const std::string& id) const;
    std::vector<StoredEvent> events(const std::string& id) const;

    // Runs `body` in one transaction (committed when it returns, rolled back if it throws).
    void transaction(const std::function<void()>& body);

    const std::filesystem::path& path() const { return path_; }

  private:
    void exec(const char* sql);
    int next_seq(const char* table, const std::string& id) const;

    std::filesystem::path path_;
    sqlite3* db_ = nullptr;
};

}  // namespace gossamer::runtime
