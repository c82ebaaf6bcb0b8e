#include "server/response_store.h"

#include <sqlite3.h>

#include "runtime/sqlite_statement.h"

namespace gossamer::server {

using runtime::Statement;

ResponseStore::ResponseStore(runtime::SessionStore& store) : store_(store) {
    char* error = nullptr;
    if (sqlite3_exec(store_.handle(),
                     "CREATE TABLE IF NOT EXISTS responses (id TEXT PRIMARY KEY, created_at TEXT "
                     "NOT NULL, response TEXT NOT NULL, conversation TEXT NOT NULL, calls TEXT "
                     "NOT NULL, chain TEXT NOT NULL)",
                     nullptr, nullptr, &error) != SQLITE_OK) {
        const std::string what = error ? error : "unknown error";
        sqlite3_free(error);
        throw runtime::StoreError("response store: " + what);
    }
}

void ResponseStore::put(const StoredResponse& r) {
    Json conversation = Json::array();
    for (const auto& s : r.conversation)
        conversation.push_back(
            {{"message", harmony::message_to_json(s.message)}, {"tokens", s.tokens}});
    Json calls = Json::array();
    for (const auto& [id, name] : r.calls) calls.push_back({id, name});
    store_.transaction([&] {
        Statement s(store_.handle(),
                    "INSERT OR REPLACE INTO responses(id, created_at, response, conversation, "
                    "calls, chain) VALUES (?,?,?,?,?,?)");
        s.bind(1, r.id).bind(2, runtime::utc_now()).bind(3, r.response.dump());
        s.bind(4, conversation.dump(-1, ' ', false, Json::error_handler_t::replace));
        s.bind(5, calls.dump()).bind(6, r.chain).run();
    });
}

std::optional<StoredResponse> ResponseStore::get(const std::string& id) const {
    Statement s(store_.handle(),
                "SELECT response, conversation, calls, chain FROM responses WHERE id = ?");
    s.bind(1, id);
    if (!s.row()) return std::nullopt;
    StoredResponse r;
    r.id = id;
    r.response = Json::parse(s.text(0));
    for (const auto& seg : Json::parse(s.text(1)))
        r.conversation.push_back({harmony::message_from_json(seg.at("message")),
                                  seg.at("tokens").get<std::vector<std::int32_t>>()});
    for (const auto& c : Json::parse(s.text(2)))
        r.calls.emplace_back(c.at(0).get<std::string>(), c.at(1).get<std::string>());
    r.chain = s.text(3);
    return r;
}

bool ResponseStore::remove(const std::string& id) {
    Statement s(store_.handle(), "DELETE FROM responses WHERE id = ?");
    s.bind(1, id).run();
    return sqlite3_changes(store_.handle()) > 0;
}

}  // namespace gossamer::server
