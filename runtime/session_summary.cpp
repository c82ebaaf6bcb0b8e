#include "runtime/session_summary.h"

#include "runtime/session_runner.h"
#include "runtime/sqlite_statement.h"

namespace gossamer::runtime {

namespace {

// The page of sessions (?1..?4 filter: state, name substring, fleet, id; ?5/?6 page) with the
// sums of their `generation` and `tool.finished` events, read through the events' primary key.
constexpr const char* kSummarySql = R"sql(
WITH page AS (
  SELECT s.rowid AS rid, s.id, s.name, s.spec_path, s.model, s.status, s.stop_reason, s.error,
    s.created_at, s.updated_at, f.fleet_id, f.task_id
  FROM sessions s LEFT JOIN fleet_tasks f ON f.session_id = s.id
  WHERE (?1 = '' OR s.status = ?1) AND (?2 = '' OR instr(lower(s.name), lower(?2)) > 0)
    AND (?3 = '' OR f.fleet_id = ?3) AND (?4 = '' OR s.id = ?4)
  ORDER BY s.created_at DESC, s.rowid DESC
  LIMIT ?5 OFFSET ?6)
SELECT p.id, p.name, p.spec_path, p.model, p.status, p.stop_reason, p.error, p.created_at,
  p.updated_at,
  (julianday(CASE WHEN p.status IN ('running', 'created') THEN 'now' ELSE p.updated_at END)
    - julianday(p.created_at)) * 86400.0,
  COALESCE(g.turns, 0), COALESCE(g.input, 0), COALESCE(g.cached, 0), COALESCE(g.output, 0),
  COALESCE(g.ms, 0), COALESCE(t.calls, 0), COALESCE(t.errors, 0), COALESCE(t.ms, 0),
  COALESCE((SELECT json_extract(e.json, '$.prompt_tokens') + json_extract(e.json, '$.output_tokens')
            FROM events e WHERE e.session_id = p.id AND e.kind = 'generation'
            ORDER BY e.seq DESC LIMIT 1), 0),
  COALESCE(g.window, 0), COALESCE(p.fleet_id, ''), COALESCE(p.task_id, '')
FROM page p
LEFT JOIN (SELECT session_id, count(*) AS turns,
             sum(json_extract(json, '$.prompt_tokens')) AS input,
             sum(json_extract(json, '$.cached_tokens')) AS cached,
             sum(json_extract(json, '$.output_tokens')) AS output,
             sum(json_extract(json, '$.ms')) AS ms,
             max(json_extract(json, '$.window')) AS window
           FROM events WHERE kind = 'generation' AND session_id IN (SELECT id FROM page)
           GROUP BY session_id) g ON g.session_id = p.id
LEFT JOIN (SELECT session_id, count(*) AS calls,
             sum(json_extract(json, '$.ok') = 0) AS errors,
             sum(json_extract(json, '$.ms')) AS ms
           FROM events WHERE kind = 'tool.finished' AND session_id IN (SELECT id FROM page)
           GROUP BY session_id) t ON t.session_id = p.id
ORDER BY p.created_at DESC, p.rid DESC
)sql";

std::vector<SessionSummary> query(const SessionStore& store, const SummaryFilter& filter,
                                  const std::string& id) {
    Statement s(store.handle(), kSummarySql);
    s.bind(1, filter.state)
        .bind(2, filter.name)
        .bind(3, filter.fleet)
        .bind(4, id)
        .bind(5, std::int64_t{filter.limit})
        .bind(6, std::int64_t{filter.offset});
    std::vector<SessionSummary> out;
    while (s.row()) {
        SessionSummary m;
        auto& r = m.record;
        r.id = s.text(0), r.name = s.text(1), r.spec_path = s.text(2), r.model = s.text(3);
        r.status = s.text(4), r.stop_reason = s.text(5), r.error = s.text(6);
        r.created_at = s.text(7), r.updated_at = s.text(8);
        m.duration_s = s.real(9);
        m.turns = static_cast<int>(s.integer(10));
        m.input_tokens = s.integer(11), m.cached_tokens = s.integer(12);
        m.output_tokens = s.integer(13);
        m.model_ms = s.real(14);
        m.tool_calls = static_cast<int>(s.integer(15));
        m.tool_errors = static_cast<int>(s.integer(16));
        m.tool_ms = s.real(17);
        m.last_prompt_tokens = static_cast<int>(s.integer(18));
        m.window = static_cast<int>(s.integer(19));
        m.fleet_id = s.text(20), m.task_id = s.text(21);
        out.push_back(std::move(m));
    }
    for (auto& m : out)
        if (const auto lease = store.lease(m.record.id))
            m.live = lease->live(RunnerOptions{}.lease_timeout_seconds);
    return out;
}

}  // namespace

std::vector<SessionSummary> summarize_sessions(const SessionStore& store,
                                               const SummaryFilter& filter) {
    return query(store, filter, "");
}

std::optional<SessionSummary> summarize_session(const SessionStore& store, const std::string& id) {
    SummaryFilter all;
    all.limit = 1;
    auto found = query(store, all, id);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
}

}  // namespace gossamer::runtime
