// Stored responses for `previous_response_id`: each response's wire object, its conversation
// verbatim (every message after system and developer with its token ids) and the function
// calls it handed out (call_id -> recipient), in the server's sqlite store (a table beside
// the sessions), so a restarted server continues a chain exactly. Loop thread only; it must
// not render or generate.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/session_store.h"
#include "server/turn_runner.h"

namespace gossamer::server {

struct StoredResponse {
    std::string id;
    Json response;                      // the Responses API object as answered
    std::vector<Segment> conversation;  // verbatim, for the next turn
    CallNames calls;
    std::string chain;  // the chain's id (its built-in tools' workspace and kernels)
};

class ResponseStore {
  public:
    explicit ResponseStore(runtime::SessionStore& store);  // creates its table if needed
    void put(const StoredResponse& response);
    std::optional<StoredResponse> get(const std::string& id) const;
    bool remove(const std::string& id);

  private:
    runtime::SessionStore& store_;
};

}  // namespace gossamer::server
