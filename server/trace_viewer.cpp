#include "server/trace_viewer.h"

#include "server/viewer_request.h"

#include <boost/asio/steady_timer.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>

#include "harmony/message.h"
#include "runtime/fleet_store.h"
#include "runtime/session_summary.h"
#include "runtime/workspace_diff.h"

extern "C" {
extern const char gossamer_ui_index_begin[], gossamer_ui_index_end[];
extern const char gossamer_ui_app_begin[], gossamer_ui_app_end[];
extern const char gossamer_ui_style_begin[], gossamer_ui_style_end[];
}

namespace gossamer::server {

namespace rt = gossamer::runtime;
using Json = nlohmann::ordered_json;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Everything the viewer answers carries these: its own scripts and styles only (no inline
// script, so text that reached the page as markup could not run), never framed, not cached.
Headers safe_headers() {
    return {{"Content-Security-Policy",
             "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
             "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
            {"X-Content-Type-Options", "nosniff"},
            {"X-Frame-Options", "DENY"},
            {"Referrer-Policy", "no-referrer"},
            {"Cache-Control", "no-store"}};
}

void send(Reply& reply, int status, const char* type, std::string body, Headers extra = {}) {
    auto headers = safe_headers();
    for (auto& h : extra) headers.push_back(std::move(h));
    reply.send(status, type, std::move(body), std::move(headers));
}

void send_json(Reply& reply, int status, const Json& body) {
    send(reply, status, "application/json",
         body.dump(-1, ' ', false, Json::error_handler_t::replace));
}

void send_error(Reply& reply, int status, const std::string& message) {
    send_json(reply, status, Json{{"error", {{"message", message}}}});
}

std::string asset(const char* begin, const char* end) {
    return std::string(begin, static_cast<std::size_t>(end - begin));
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
    return diff == 0;
}

constexpr const char* kKeyCookie = "gossamer_ui_key";

Json summary_json(const rt::SessionSummary& s) {
    const auto& r = s.record;
    return Json{{"id", r.id},
                {"name", r.name},
                {"state", r.status},
                {"reason", r.stop_reason},
                {"error", r.error},
                {"model", r.model},
                {"spec_path", r.spec_path},
                {"created_at", r.created_at},
                {"updated_at", r.updated_at},
                {"duration_s", s.duration_s},
                {"turns", s.turns},
                {"input_tokens", s.input_tokens},
                {"cached_tokens", s.cached_tokens},
                {"output_tokens", s.output_tokens},
                {"model_ms", s.model_ms},
                {"tool_calls", s.tool_calls},
                {"tool_errors", s.tool_errors},
                {"tool_ms", s.tool_ms},
                {"context_tokens", s.last_prompt_tokens},
                {"window", s.window},
                {"fleet", s.fleet_id.empty() ? Json(nullptr) : Json(s.fleet_id)},
                {"task", s.task_id.empty() ? Json(nullptr) : Json(s.task_id)},
                {"live", s.live}};
}

Json message_json(const rt::StoredMessage& m) {
    const auto& msg = m.message;
    Json j{{"seq", m.seq},
           {"role", std::string(harmony::to_string(msg.role))},
           {"name", msg.name ? Json(*msg.name) : Json(nullptr)},
           {"channel", msg.channel ? Json(*msg.channel) : Json(nullptr)},
           {"recipient", msg.recipient ? Json(*msg.recipient) : Json(nullptr)},
           {"content_type", msg.content_type ? Json(*msg.content_type) : Json(nullptr)},
           {"text", msg.text_content()},
           {"tokens", m.tokens}};
    bool all_text = true;
    for (const auto& part : msg.content)
        all_text = all_text && std::holds_alternative<harmony::TextContent>(part);
    // System and developer content (instructions, tools, reasoning effort) as stored.
    if (!all_text) j["content"] = harmony::message_to_json(msg)["content"];
    return j;
}

Json event_json(const rt::StoredEvent& e) {
    return Json{{"seq", e.seq}, {"kind", e.kind}, {"at", e.created_at}, {"data", e.data}};
}

bool open_state(const std::string& state) {
    return state == "created" || state == "running";
}

}  // namespace

// One page following one session: each tick sends the rows stored since the last, and the
// session's numbers when they changed; it ends once the session has ended and all is sent.
struct TraceViewer::Live : std::enable_shared_from_this<Live> {
    Live(boost::asio::io_context& io, rt::SessionStore& s, ViewerOptions o, std::string session,
         std::shared_ptr<Reply> r)
        : timer(io), store(s), options(std::move(o)), id(std::move(session)), reply(std::move(r)) {}

    void tick() {
        if (reply->gone() || stopped) return;
        bool sent = false;
        try {
            for (const auto& e : store.events(id, event_after)) {
                reply->event("event",
                             event_json(e).dump(-1, ' ', false, Json::error_handler_t::replace));
                event_after = e.seq, sent = true;
            }
            for (const auto& m : store.messages(id, message_after)) {
                reply->event("message",
                             message_json(m).dump(-1, ' ', false, Json::error_handler_t::replace));
                message_after = m.seq, sent = true;
            }
            const auto summary = rt::summarize_session(store, id);
            if (!summary) return end();
            const auto shown = summary->record.status + summary->record.updated_at +
                               std::to_string(summary->turns) + std::to_string(summary->tool_calls);
            if (shown != last_shown) {
                reply->event("session", summary_json(*summary).dump(
                                            -1, ' ', false, Json::error_handler_t::replace));
                last_shown = shown, sent = true;
            }
            if (!open_state(summary->record.status) && !sent) return end();
        } catch (const std::exception& e) {  // a store busy or gone: say so, try again
            reply->event("problem", Json{{"message", e.what()}}.dump());
        }
        const auto now = std::chrono::steady_clock::now();
        if (sent) last_sent = now;
        if (now - last_sent >= options.keepalive) reply->event("ping", "{}"), last_sent = now;
        timer.expires_after(options.poll);
        timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) self->tick();
        });
    }
    void end() {
        stopped = true;
        timer.cancel();
        reply->event("end", "{}");
        reply->end_events();
    }

    boost::asio::steady_timer timer;
    rt::SessionStore& store;
    ViewerOptions options;
    std::string id;
    std::shared_ptr<Reply> reply;
    int event_after = -1, message_after = -1;
    std::string last_shown;
    std::chrono::steady_clock::time_point last_sent = std::chrono::steady_clock::now();
    bool stopped = false;
};

TraceViewer::TraceViewer(boost::asio::io_context& io, rt::SessionStore& store,
                         ViewerOptions options)
    : io_(io), store_(store), options_(std::move(options)) {}

TraceViewer::~TraceViewer() {
    stop();
}

void TraceViewer::stop() {
    for (auto& weak : live_)
        if (auto live = weak.lock(); live && !live->stopped) live->end();
    live_.clear();
}

bool TraceViewer::handle(const HttpRequest& request, std::shared_ptr<Reply> reply) {
    if (request.path != "/ui" && !request.path.starts_with("/ui/")) return false;
    try {
        route(request, reply);
    } catch (const std::exception& e) {
        send_error(*reply, 500, std::string("internal error: ") + e.what());
    }
    return true;
}

void TraceViewer::route(const HttpRequest& request, const std::shared_ptr<Reply>& reply) {
    const std::string& path = request.path;
    if (options_.api_key.empty()) {
        if (!request.from_loopback || !loopback_host(request.header("host")))
            return send_error(*reply, 403,
                              "the viewer answers this machine only (open it at "
                              "http://127.0.0.1:PORT/ui/); set an API key to open it to others");
    } else {
        const auto key = query_param(request.query, "key");
        if ((path == "/ui" || path == "/ui/") && !key.empty()) {
            if (!equal_in_constant_time(key, options_.api_key))
                return send_error(*reply, 401, "wrong key");
            return send(*reply, 303, "text/plain", "",
                        {{"Location", "/ui/"},
                         {"Set-Cookie", std::string(kKeyCookie) + "=" + options_.api_key +
                                            "; Path=/ui; HttpOnly; SameSite=Strict"}});
        }
        const auto bearer = request.header("authorization");
        const bool ok = equal_in_constant_time(cookie_value(request.header("cookie"), kKeyCookie),
                                               options_.api_key) ||
                        equal_in_constant_time(bearer, "Bearer " + options_.api_key);
        if (!ok)
            return send(*reply, 401, "text/plain; charset=utf-8",
                        "This viewer needs the server's API key: open /ui/?key=YOUR_KEY once "
                        "(it is kept in a cookie for /ui).\n",
                        {{"WWW-Authenticate", "Bearer"}});
    }
    if (request.method != "GET") return send_error(*reply, 405, "the viewer only reads (GET)");

    if (path == "/ui") return send(*reply, 308, "text/plain", "", {{"Location", "/ui/"}});
    if (path == "/ui/")
        return send(*reply, 200, "text/html; charset=utf-8",
                    asset(gossamer_ui_index_begin, gossamer_ui_index_end));
    if (path == "/ui/app.js")
        return send(*reply, 200, "text/javascript; charset=utf-8",
                    asset(gossamer_ui_app_begin, gossamer_ui_app_end));
    if (path == "/ui/style.css")
        return send(*reply, 200, "text/css; charset=utf-8",
                    asset(gossamer_ui_style_begin, gossamer_ui_style_end));

    constexpr std::string_view kSessions = "/ui/api/sessions";
    constexpr std::string_view kFleets = "/ui/api/fleets";
    if (path == kSessions) {
        rt::SummaryFilter filter;
        filter.state = query_param(request.query, "state");
        filter.name = query_param(request.query, "name");
        filter.fleet = query_param(request.query, "fleet");
        const auto limit = int_param(request.query, "limit", 200, 10000);
        const auto offset = int_param(request.query, "offset", 0, 1L << 30);
        if (!limit || !offset) return send_error(*reply, 400, "limit and offset are numbers");
        filter.limit = static_cast<int>(*limit), filter.offset = static_cast<int>(*offset);
        if (!filter.state.empty() &&
            std::find(std::begin(rt::kSessionStates), std::end(rt::kSessionStates), filter.state) ==
                std::end(rt::kSessionStates))
            return send_error(*reply, 400, "no state '" + filter.state + "'");
        Json list = Json::array();
        for (const auto& s : rt::summarize_sessions(store_, filter))
            list.push_back(summary_json(s));
        return send_json(*reply, 200, Json{{"sessions", list}});
    }
    if (path.starts_with(std::string(kSessions) + "/")) {
        std::string rest = path.substr(kSessions.size() + 1);
        std::string tail;
        if (const auto slash = rest.find('/'); slash != std::string::npos)
            tail = rest.substr(slash + 1), rest.resize(slash);
        const auto summary = rt::summarize_session(store_, rest);
        if (!summary) return send_error(*reply, 404, "no session '" + rest + "'");
        if (tail.empty()) {
            Json session = summary_json(*summary);
            const auto record = store_.find(rest);
            session["final_answer"] = record ? record->final_answer : "";
            Json messages = Json::array(), events = Json::array();
            for (const auto& m : store_.messages(rest)) messages.push_back(message_json(m));
            for (const auto& e : store_.events(rest)) events.push_back(event_json(e));
            return send_json(
                *reply, 200,
                Json{{"session", session}, {"messages", messages}, {"events", events}});
        }
        if (tail == "diff") {
            const auto changes = store_.changes(rest);
            std::optional<int> step;
            if (!query_param(request.query, "step").empty()) {
                const auto n = int_param(request.query, "step", 0, 1L << 30);
                const int last = changes.empty() ? -1 : changes.back().step;
                if (!n || *n > last) return send_error(*reply, 404, "no such step");
                step = static_cast<int>(*n);
            }
            return send(*reply, 200, "text/plain; charset=utf-8",
                        rt::workspace_diff(store_, changes, step));
        }
        if (tail == "live") return follow(rest, request, reply);
        return send_error(*reply, 404, "no route for " + path);
    }
    if (path == kFleets || path.starts_with(std::string(kFleets) + "/")) {
        rt::FleetStore fleets(store_);
        const auto fleet_json = [&](const rt::FleetRecord& f, bool with_sessions) {
            rt::SummaryFilter filter;
            filter.fleet = f.id, filter.limit = 100000;
            const auto tasks = fleets.tasks(f.id);
            const auto sessions = rt::summarize_sessions(store_, filter);
            Json counts = Json::object();
            for (const auto* state : rt::kSessionStates) counts[state] = 0;
            for (const auto& s : sessions)
                counts[s.record.status] = counts[s.record.status].get<int>() + 1;
            Json j{{"id", f.id},
                   {"name", f.name},
                   {"model", f.model},
                   {"created_at", f.created_at},
                   {"options", f.options},
                   {"tasks", tasks.size()},
                   {"started", sessions.size()},
                   {"states", counts}};
            if (with_sessions) {
                std::map<std::string, const rt::SessionSummary*> by_id;
                for (const auto& s : sessions) by_id[s.record.id] = &s;
                Json rows = Json::array();
                for (const auto& t : tasks) {
                    Json row{{"index", t.index},
                             {"task", t.task_id},
                             {"wall_seconds", t.wall_seconds},
                             {"session", nullptr}};
                    if (const auto it = t.session_id ? by_id.find(*t.session_id) : by_id.end();
                        it != by_id.end())
                        row["session"] = summary_json(*it->second);
                    rows.push_back(std::move(row));
                }
                j["task_list"] = std::move(rows);
            }
            return j;
        };
        if (path == kFleets) {
            Json list = Json::array();
            for (const auto& f : fleets.list()) list.push_back(fleet_json(f, false));
            return send_json(*reply, 200, Json{{"fleets", list}});
        }
        const auto id = path.substr(kFleets.size() + 1);
        const auto fleet = fleets.find(id);
        if (!fleet) return send_error(*reply, 404, "no fleet '" + id + "'");
        return send_json(*reply, 200, fleet_json(*fleet, true));
    }
    send_error(*reply, 404, "no route for " + path);
}

void TraceViewer::follow(const std::string& id, const HttpRequest& request,
                         std::shared_ptr<Reply> reply) {
    // The page has shown `events` events and `messages` messages (seqs 0..n-1 of each).
    const auto events = int_param(request.query, "events", 0, 1L << 30);
    const auto messages = int_param(request.query, "messages", 0, 1L << 30);
    if (!events || !messages)
        return send_error(*reply, 400, "events and messages are the counts already shown");
    std::erase_if(live_, [](const std::weak_ptr<Live>& w) { return w.expired(); });
    auto live = std::make_shared<Live>(io_, store_, options_, id, reply);
    live->event_after = static_cast<int>(*events) - 1;
    live->message_after = static_cast<int>(*messages) - 1;
    reply->start_events();
    live_.push_back(live);
    live->tick();
}

}  // namespace gossamer::server
