#include "tools/mcp/mcp_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cctype>
#include <functional>
#include <future>
#include <utility>

#include "tools/mcp/sse_parser.h"

namespace gossamer::tools {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxBody = 16u << 20;

bool iequals_prefix(std::string_view line, std::string_view name) {
    if (line.size() < name.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(line[i])) !=
            std::tolower(static_cast<unsigned char>(name[i])))
            return false;
    return true;
}

std::string trimmed(std::string_view text) {
    const auto b = text.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return "";
    const auto e = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(b, e - b + 1));
}

// What one HTTP exchange saw, filled by libcurl's callbacks on the worker thread.
struct Exchange {
    std::function<void(const Json&)> deliver;  // posts a message to the peer's thread
    std::function<void()> answered;            // once: the status line and headers are in
    const std::atomic<bool>* stopping = nullptr;
    CURL* curl = nullptr;
    std::string session_id;
    std::string content_type;
    std::string body;
    bool overflow = false;
    SseParser sse;
    long status() const {
        long code = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        return code;
    }
    bool streaming() const { return content_type.rfind("text/event-stream", 0) == 0; }
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& ex = *static_cast<Exchange*>(user);
    const std::string_view line(data, size * count);
    if (trimmed(line).empty() && ex.answered) std::exchange(ex.answered, nullptr)();
    if (iequals_prefix(line, "mcp-session-id:")) ex.session_id = trimmed(line.substr(15));
    if (iequals_prefix(line, "content-type:")) {
        ex.content_type = trimmed(line.substr(13));
        std::transform(ex.content_type.begin(), ex.content_type.end(), ex.content_type.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    return size * count;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto& ex = *static_cast<Exchange*>(user);
    const std::string_view bytes(data, size * count);
    const long status = ex.status();
    if (status >= 200 && status < 300 && ex.streaming()) {
        for (const SseEvent& event : ex.sse.feed(bytes)) {
            if (event.type != "message" || event.data.empty()) continue;
            try {
                ex.deliver(Json::parse(event.data));
            } catch (const Json::exception&) {  // not JSON: skipped (the peer logs nothing)
            }
        }
        return bytes.size();
    }
    if (ex.body.size() + bytes.size() > kMaxBody) {
        ex.overflow = true;
        return 0;  // aborts the transfer
    }
    ex.body.append(bytes);
    return bytes.size();
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<Exchange*>(user)->stopping->load() ? 1 : 0;
}

struct CurlList {
    curl_slist* list = nullptr;
    ~CurlList() { curl_slist_free_all(list); }
    void add(const std::string& line) { list = curl_slist_append(list, line.c_str()); }
};

}  // namespace

StreamableHttpPeer::StreamableHttpPeer(HttpServerSpec spec, NotificationHandler on_notification,
                                       RequestHandler on_request, LogHandler on_log)
    : JsonRpcPeer(std::move(on_notification), std::move(on_request), std::move(on_log)),
      spec_(std::move(spec)) {
    if (!spec_.url.starts_with("http://") && !spec_.url.starts_with("https://"))
        throw std::runtime_error("MCP server URL '" + spec_.url + "' is not http(s)://");
    static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!curl_ready) throw std::runtime_error("libcurl failed to initialise");
    start_thread();
}

StreamableHttpPeer::~StreamableHttpPeer() {
    stopping_ = true;
    const std::string session = session_id();
    if (!session.empty()) {  // end the session; a server that cannot answers 405
        CURL* curl = curl_easy_init();
        if (curl) {
            CurlList headers;
            for (const auto& line : header_lines(false)) headers.add(line);
            curl_easy_setopt(curl, CURLOPT_URL, spec_.url.c_str());
            curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE");
            curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
            curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
            curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(
                curl, CURLOPT_WRITEFUNCTION,
                +[](char*, std::size_t s, std::size_t n, void*) { return s * n; });
            curl_easy_perform(curl);
            curl_easy_cleanup(curl);
        }
    }
    std::list<Worker> workers;
    {
        std::lock_guard lock(mutex_);
        workers.swap(workers_);
    }
    for (auto& w : workers) w.thread.join();
    shut_down();
}

std::string StreamableHttpPeer::exit_description() const {
    std::lock_guard lock(mutex_);
    return gone_why_.empty() ? "running" : gone_why_;
}

std::string StreamableHttpPeer::session_id() const {
    std::lock_guard lock(mutex_);
    return session_id_;
}

void StreamableHttpPeer::adopt_session(const std::string& id) {
    if (id.empty()) return;
    std::lock_guard lock(mutex_);
    if (session_id_.empty()) session_id_ = id;
}

void StreamableHttpPeer::handshake_done(const std::string& version) {
    {
        std::lock_guard lock(mutex_);
        protocol_version_ = version;
    }
    // The GET stream is answered (or refused) before the next request goes out: a server may
    // send a request's reply on whichever stream is open, and one opened later would race with
    // the request it should not serve. Waits one round trip, at most 2 s.
    auto answered = std::make_shared<std::promise<void>>();
    auto future = answered->get_future();
    spawn([this, answered] { listen([answered] { answered->set_value(); }); });
    future.wait_for(std::min<std::chrono::milliseconds>(spec_.connect_timeout, 2s));
}

std::vector<std::string> StreamableHttpPeer::header_lines(bool post) const {
    std::vector<std::string> lines;
    if (post) lines.push_back("Content-Type: application/json");
    lines.push_back(post ? "Accept: application/json, text/event-stream"
                         : "Accept: text/event-stream");
    std::lock_guard lock(mutex_);
    if (!session_id_.empty()) lines.push_back("Mcp-Session-Id: " + session_id_);
    if (!protocol_version_.empty()) lines.push_back("MCP-Protocol-Version: " + protocol_version_);
    for (const auto& [name, value] : spec_.headers) lines.push_back(name + ": " + value);
    return lines;
}

void StreamableHttpPeer::spawn(std::function<void()> work) {
    std::lock_guard lock(mutex_);
    for (auto it = workers_.begin(); it != workers_.end();) {  // reap the finished ones
        if (it->done->load()) {
            it->thread.join();
            it = workers_.erase(it);
        } else {
            ++it;
        }
    }
    if (stopping_) return;
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers_.push_back({std::thread([work = std::move(work), done] {
                            work();
                            *done = true;
                        }),
                        done});
}

void StreamableHttpPeer::send(const Json& message) {
    std::int64_t id = 0;
    if (message.contains("method") && message.contains("id") && message["id"].is_number_integer())
        id = message["id"].get<std::int64_t>();
    spawn([this, body = message.dump(-1, ' ', false, Json::error_handler_t::replace), id] {
        exchange(body, id, "");
    });
}

void StreamableHttpPeer::exchange(std::string body, std::int64_t request_id,
                                  std::string last_event_id, int attempt,
                                  std::function<void()> answered) {
    const bool post = !body.empty();
    CURL* curl = curl_easy_init();
    if (!curl) return;
    Exchange ex;
    ex.curl = curl;
    ex.stopping = &stopping_;
    ex.answered = std::move(answered);
    ex.deliver = [this, &ex](const Json& m) {
        adopt_session(ex.session_id);  // headers are in before the body
        asio::post(io_, [this, m] { receive(m); });
    };
    CurlList headers;
    for (const auto& line : header_lines(post)) headers.add(line);
    if (!last_event_id.empty()) headers.add("Last-Event-ID: " + last_event_id);
    curl_easy_setopt(curl, CURLOPT_URL, spec_.url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
    if (post) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(spec_.connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ex);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &ex);
    const CURLcode rc = curl_easy_perform(curl);
    if (ex.answered) ex.answered();  // no answer at all
    const long status = ex.status();
    curl_easy_cleanup(curl);
    if (stopping_) return;
    adopt_session(ex.session_id);
    const std::string resume_from =
        ex.sse.last_event_id().empty() ? last_event_id : ex.sse.last_event_id();
    const long retry_ms = ex.sse.retry_ms().value_or(1000);
    asio::post(io_, [this, rc, status, request_id, post, resume_from, retry_ms, attempt,
                     streamed = ex.streaming(), body = std::move(ex.body), overflow = ex.overflow,
                     had_session = !session_id().empty()]() {
        const auto failed = [&](const std::string& why) {
            if (request_id != 0) fail(request_id, why);
            log("[http] " + why);
        };
        if (rc != CURLE_OK && !(streamed && rc == CURLE_PARTIAL_FILE))
            return failed(overflow ? "the answer exceeded 16 MiB"
                                   : std::string("HTTP request failed: ") + curl_easy_strerror(rc));
        if (status == 404 && had_session) {
            std::lock_guard lock(mutex_);
            gone_why_ = "ended the session (HTTP 404)";
        }
        if (status == 404 && had_session) return gone("the server ended the session (HTTP 404)");
        if (!post && request_id == 0 && status == 405) return;  // no stream offered: fine
        if (status < 200 || status >= 300)
            return failed("HTTP " + std::to_string(status) +
                          (body.empty() ? "" : ": " + body.substr(0, 300)));
        if (!streamed && !body.empty()) {
            try {
                receive(Json::parse(body));
            } catch (const Json::exception&) {
                return failed("the server's answer is not JSON");
            }
        }
        // A stream that ended before the reply it owes: resume it where it stopped.
        if (request_id != 0 && pending(request_id)) {
            if (!streamed || resume_from.empty())
                return failed("the server closed the stream before answering");
            if (attempt >= spec_.max_resumptions)
                return failed("the server's stream ended " + std::to_string(attempt + 1) +
                              " times before answering");
            spawn([this, request_id, resume_from, retry_ms, attempt] {
                for (long waited = 0; waited < retry_ms && !stopping_; waited += 10)
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                exchange("", request_id, resume_from, attempt + 1);
            });
        }
    });
}

void StreamableHttpPeer::listen(std::function<void()> answered) {
    // What the server sends unasked (list_changed, its own requests); stopped with us. The
    // stream may end and be resumed; after a few ends in a row without events it is left.
    exchange("", 0, "", 0, std::move(answered));
}

}  // namespace gossamer::tools
