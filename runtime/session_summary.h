// What a list of sessions shows at a glance (the trace viewer's sessions and fleet pages):
// each session's record with its numbers added up from its stored events (turns, tokens,
// model and tool time, calls) and the fleet task it ran, in one query over the store.
// Reads the store only: it must not change it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/session_store.h"

namespace gossamer::runtime {

struct SessionSummary {
    SessionRecord record;   // spec_yaml and final_answer left empty (see find/messages)
    double duration_s = 0;  // created -> last update (now, while it runs)
    int turns = 0;
    long input_tokens = 0;   // prompt tokens, summed over turns
    long cached_tokens = 0;  // of those, not recomputed
    long output_tokens = 0;
    double model_ms = 0;  // summed generation time
    int tool_calls = 0;
    int tool_errors = 0;
    double tool_ms = 0;
    int last_prompt_tokens = 0;     // the newest turn's prompt + output (context in use)
    int window = 0;                 // context positions (0: not recorded)
    std::string fleet_id, task_id;  // the fleet task that ran it ("" when none)
    bool live = false;              // a live process holds its lease
};

struct SummaryFilter {
    std::string state;  // one of kSessionStates, or "" for all
    std::string name;   // substring of the name ("" for all)
    std::string fleet;  // fleet id ("" for all)
    int limit = 200;
    int offset = 0;
};

// Newest first.
std::vector<SessionSummary> summarize_sessions(const SessionStore& store,
                                               const SummaryFilter& filter = {});
std::optional<SessionSummary> summarize_session(const SessionStore& store, const std::string& id);

}  // namespace gossamer::runtime
