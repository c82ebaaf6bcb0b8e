#include "runtime/http_stream.h"

#include <curl/curl.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace gossamer::runtime {

struct HttpStreamGroup::State {
    std::mutex mutex;
    std::condition_variable idle;
    int running = 0;
    std::vector<std::weak_ptr<HttpStream>> streams;
};

std::shared_ptr<HttpStreamGroup::State> HttpStreamGroup::make_state() {
    return std::make_shared<State>();
}

HttpStreamGroup::~HttpStreamGroup() {
    std::unique_lock lock(state_->mutex);
    for (auto& w : state_->streams)
        if (auto s = w.lock()) s->cancel();
    state_->idle.wait(lock, [&] { return state_->running == 0; });
}

namespace {

using Clock = std::chrono::steady_clock;

struct Transfer {
    Transfer(const HttpStreamRequest& r, const std::atomic<bool>* c, std::function<void(long)> s,
             std::function<void(std::string_view)> d)
        : request(r), cancel(c), on_status(std::move(s)), on_data(std::move(d)) {}
    const HttpStreamRequest& request;
    const std::atomic<bool>* cancel = nullptr;
    std::function<void(long)> on_status;
    std::function<void(std::string_view)> on_data;
    CURL* curl = nullptr;
    HttpStreamEnd end;
    bool status_known = false;
    bool got_data = false;
    Clock::time_point begun = Clock::now();
    Clock::time_point last_data = begun;
    std::string why_aborted;
};

long status_of(Transfer& t) {
    if (!t.status_known) {
        curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &t.end.status);
        t.status_known = true;
        if (t.on_status) t.on_status(t.end.status);
    }
    return t.end.status;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    std::string_view line(data, size * n);
    constexpr std::string_view name = "retry-after:";
    if (line.size() > name.size()) {
        bool match = true;
        for (std::size_t i = 0; i < name.size() && match; ++i)
            match = std::tolower(static_cast<unsigned char>(line[i])) == name[i];
        if (match) {
            const std::string value(line.substr(name.size()));
            char* stop = nullptr;
            const double seconds = std::strtod(value.c_str(), &stop);
            if (stop != value.c_str() && std::isfinite(seconds) && seconds >= 0)
                t.end.retry_after = std::min(seconds, 3600.0);  // HTTP dates are not honoured
        }
    }
    return size * n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    const std::size_t bytes = size * n;
    t.got_data = true;
    t.last_data = Clock::now();
    const long status = status_of(t);
    if (status >= 200 && status < 300) {
        if (t.on_data) t.on_data(std::string_view(data, bytes));
    } else if (t.end.error_body.size() < 4096) {
        t.end.error_body.append(data, std::min(bytes, 4096 - t.end.error_body.size()));
    }
    return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto& t = *static_cast<Transfer*>(user);
    if (t.cancel && t.cancel->load()) return (t.why_aborted = "cancelled", 1);
    const auto now = Clock::now();
    const auto since = [&](Clock::time_point p) {
        return std::chrono::duration<double>(now - p).count();
    };
    const auto& r = t.request;
    if (r.total_timeout > 0 && since(t.begun) > r.total_timeout)
        return (
            t.why_aborted = "no complete answer within " + std::to_string(r.total_timeout) + " s",
            1);
    if (!t.got_data && r.first_byte_timeout > 0 && since(t.begun) > r.first_byte_timeout)
        return (t.why_aborted = "no answer within " + std::to_string(r.first_byte_timeout) + " s",
                1);
    if (t.got_data && r.idle_timeout > 0 && since(t.last_data) > r.idle_timeout)
        return (t.why_aborted = "the stream stalled for " + std::to_string(r.idle_timeout) + " s",
                1);
    return 0;
}

HttpStreamEnd perform(const HttpStreamRequest& request, const std::atomic<bool>* cancel,
                      std::function<void(long)> on_status,
                      std::function<void(std::string_view)> on_data) {
    static std::once_flag init;
    std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    Transfer t(request, cancel, std::move(on_status), std::move(on_data));
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return (t.end.error = "cannot start an HTTP transfer (libcurl)", t.end);
    t.curl = curl.get();
    curl_slist* headers = nullptr;
    for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
    headers = curl_slist_append(headers, "Expect:");
    if (request.method == "POST")
        headers = curl_slist_append(headers, "Content-Type: application/json");
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers,
                                                                            curl_slist_free_all);
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");  // never a proxy from the environment
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::max(1.0, request.connect_timeout * 1000)));
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    if (request.method == "POST") {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
    }
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    const CURLcode rc = curl_easy_perform(c);
    status_of(t);
    if (rc != CURLE_OK) {
        t.end.cancelled = t.why_aborted == "cancelled";
        t.end.timed_out =
            rc == CURLE_OPERATION_TIMEDOUT || (rc == CURLE_ABORTED_BY_CALLBACK && !t.end.cancelled);
        t.end.error = rc == CURLE_ABORTED_BY_CALLBACK ? t.why_aborted : curl_easy_strerror(rc);
    }
    return t.end;
}

}  // namespace

std::shared_ptr<HttpStream> HttpStream::start(HttpStreamGroup& group,
                                              boost::asio::any_io_executor executor,
                                              HttpStreamRequest request, OnStatus on_status,
                                              OnData on_data, OnEnd on_end) {
    auto stream = std::make_shared<HttpStream>();
    auto state = group.state_;
    {
        std::lock_guard lock(state->mutex);
        ++state->running;
        std::erase_if(state->streams, [](const auto& w) { return w.expired(); });
        state->streams.push_back(stream);
    }
    struct Job {
        std::shared_ptr<HttpStream> stream;
        boost::asio::any_io_executor executor;
        HttpStreamRequest request;
        OnStatus on_status;
        OnData on_data;
        OnEnd on_end;
    };
    auto job =
        std::make_unique<Job>(Job{stream, std::move(executor), std::move(request),
                                  std::move(on_status), std::move(on_data), std::move(on_end)});
    std::thread([state, job = std::move(job)]() mutable {
        auto& j = *job;
        auto end = perform(
            j.request, &j.stream->cancelled_,
            [&](long status) {
                boost::asio::post(j.executor, [stream = j.stream, f = j.on_status, status] {
                    if (!stream->cancelled() && f) f(status);
                });
            },
            [&](std::string_view piece) {
                boost::asio::post(j.executor, [stream = j.stream, f = j.on_data,
                                               p = std::string(piece)]() mutable {
                    if (!stream->cancelled() && f) f(std::move(p));
                });
            });
        boost::asio::post(j.executor, [stream = j.stream, f = std::move(j.on_end), end]() mutable {
            if (stream->cancelled()) end.cancelled = true;
            if (f) f(end);
        });
        job.reset();  // nothing of the owner's outlives the count below
        std::lock_guard lock(state->mutex);
        --state->running;
        state->idle.notify_all();
    }).detach();
    return stream;
}

HttpStream::Answer HttpStream::fetch(const HttpStreamRequest& request, std::size_t max_bytes) {
    Answer a;
    a.end = perform(request, nullptr, {}, [&](std::string_view piece) {
        a.body.append(piece.substr(0, max_bytes - std::min(max_bytes, a.body.size())));
    });
    return a;
}

}  // namespace gossamer::runtime
