#include "runtime/otlp_exporter.h"

#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "runtime/setup_error.h"
#include "tools/browser/url.h"

namespace gossamer::runtime {

using Json = nlohmann::ordered_json;

namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

// "k=v,k2=v2" (the OTEL_EXPORTER_OTLP_HEADERS form) as "k: v" lines; malformed pairs are
// skipped (a header that cannot be sent must not stop a run).
std::vector<std::string> parse_headers(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const auto pair = text.substr(0, comma);
        const auto eq = pair.find('=');
        if (eq != std::string_view::npos) {
            const auto name = trim(tools::browser::url::unquote(pair.substr(0, eq)));
            const auto value = trim(tools::browser::url::unquote(pair.substr(eq + 1)));
            if (!name.empty() && name.find_first_of(":\r\n") == std::string::npos &&
                value.find_first_of("\r\n") == std::string::npos)
                out.push_back(name + ": " + value);
        }
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

Json any_value(const Json& v) {
    if (v.is_string()) return Json{{"stringValue", v}};
    if (v.is_boolean()) return Json{{"boolValue", v}};
    if (v.is_number_integer()) return Json{{"intValue", std::to_string(v.get<long long>())}};
    if (v.is_number()) return Json{{"doubleValue", v}};
    if (v.is_array()) {
        Json values = Json::array();
        for (const auto& item : v) values.push_back(any_value(item));
        return Json{{"arrayValue", Json{{"values", values}}}};
    }
    return Json{{"stringValue", v.dump()}};
}

Json attributes(const Json& map) {
    Json out = Json::array();
    for (const auto& [key, value] : map.items())
        out.push_back(Json{{"key", key}, {"value", any_value(value)}});
    return out;
}

std::size_t discard(char*, std::size_t size, std::size_t count, void*) {
    return size * count;
}

}  // namespace

std::optional<OtlpOptions> otlp_options(const TelemetrySpec& spec) {
    std::string url = spec.otlp_endpoint.value_or(env("GOSSAMER_OTLP_ENDPOINT"));
    if (url.empty()) return std::nullopt;
    const auto scheme = url.find("://");
    if (scheme == std::string::npos ||
        (url.substr(0, scheme) != "http" && url.substr(0, scheme) != "https"))
        throw SetupError("telemetry: the OTLP endpoint '" + url +
                         "' is not an http:// or https:// URL");
    const auto path = url.find('/', scheme + 3);
    if (path == std::string::npos)
        url += "/v1/traces";
    else if (path == url.size() - 1)
        url += "v1/traces";
    OtlpOptions options;
    options.url = url;
    auto headers = env("GOSSAMER_OTLP_HEADERS");
    if (headers.empty()) headers = env("OTEL_EXPORTER_OTLP_HEADERS");
    options.headers = parse_headers(headers);
    return options;
}

bool otlp_content(const TelemetrySpec& spec) {
    const auto flag = env("GOSSAMER_OTLP_CONTENT");
    return spec.content || flag == "1" || flag == "true";
}

Json otlp_request(const std::vector<Span>& spans, const std::string& service_name) {
    Json list = Json::array();
    for (const auto& s : spans) {
        Json span{{"traceId", s.trace_id},
                  {"spanId", s.span_id},
                  {"name", s.name},
                  {"kind", s.kind},
                  {"startTimeUnixNano", std::to_string(s.start_ns)},
                  {"endTimeUnixNano", std::to_string(s.end_ns)},
                  {"attributes", attributes(s.attributes)},
                  {"status",
                   s.error ? Json{{"code", 2}, {"message", s.status_message}} : Json{{"code", 1}}}};
        if (!s.parent_span_id.empty()) span["parentSpanId"] = s.parent_span_id;
        if (!s.events.empty()) {
            Json events = Json::array();
            for (const auto& e : s.events)
                events.push_back(Json{{"timeUnixNano", std::to_string(e.time_ns)},
                                      {"name", e.name},
                                      {"attributes", attributes(e.attributes)}});
            span["events"] = std::move(events);
        }
        list.push_back(std::move(span));
    }
    return Json{
        {"resourceSpans",
         Json::array({Json{
             {"resource", Json{{"attributes", attributes(Json{{"service.name", service_name}})}}},
             {"scopeSpans",
              Json::array({Json{{"scope", Json{{"name", "gossamer"}}}, {"spans", list}}})}}})}};
}

OtlpExporter::OtlpExporter(OtlpOptions options)
    : options_(std::move(options)), worker_([this] { work(); }) {}

OtlpExporter::~OtlpExporter() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        deadline_ = std::chrono::steady_clock::now() + options_.shutdown_wait;
    }
    wake_.notify_all();
    worker_.join();
    const auto lost = stats_.dropped + stats_.failed + queue_.size();
    if (lost > 0)
        std::fprintf(stderr,
                     "gossamer: telemetry: %zu span(s) not exported to %s (%zu dropped: queue "
                     "full; %zu in failed requests%s%s; %zu left at exit)\n",
                     lost, options_.url.c_str(), stats_.dropped, stats_.failed,
                     stats_.last_error.empty() ? "" : ": ", stats_.last_error.c_str(),
                     queue_.size());
}

void OtlpExporter::add(Span span) {
    {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= options_.max_queue) {
            ++stats_.dropped;
            return;
        }
        queue_.push_back(std::move(span));
        if (queue_.size() < options_.max_batch) return;
    }
    wake_.notify_one();
}

OtlpStats OtlpExporter::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

void OtlpExporter::work() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait_for(lock, options_.interval,
                       [this] { return stopping_ || queue_.size() >= options_.max_batch; });
        if (queue_.empty()) {
            if (stopping_) return;
            continue;
        }
        auto timeout = options_.timeout;
        if (stopping_) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline_ - std::chrono::steady_clock::now());
            if (left.count() <= 0) return;  // what is left is reported as lost
            timeout = std::min(timeout, left);
        }
        std::vector<Span> batch;
        while (!queue_.empty() && batch.size() < options_.max_batch) {
            batch.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        lock.unlock();
        const bool ok = post(batch, timeout);
        lock.lock();
        if (ok) stats_.exported += batch.size();
    }
}

bool OtlpExporter::post(const std::vector<Span>& batch, std::chrono::milliseconds timeout) {
    const std::string body = otlp_request(batch, options_.service_name)
                                 .dump(-1, ' ', false, Json::error_handler_t::replace);
    std::unique_ptr<CURL, void (*)(CURL*)> easy(curl_easy_init(), curl_easy_cleanup);
    std::string error;
    if (!easy) {
        error = "could not start a request (libcurl)";
    } else {
        curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
        for (const auto& h : options_.headers) list = curl_slist_append(list, h.c_str());
        std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(list, curl_slist_free_all);
        CURL* h = easy.get();
        curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str());
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         static_cast<long>(std::min<long long>(timeout.count(), 2000)));
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        const CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK)
            error = curl_easy_strerror(rc);
        else if (status < 200 || status >= 300)
            error = "HTTP " + std::to_string(status);
    }
    if (error.empty()) return true;
    std::lock_guard lock(mutex_);
    stats_.failed += batch.size();
    stats_.last_error = error;
    return false;
}

std::shared_ptr<OtlpExporter> OtlpExporter::shared(const OtlpOptions& options) {
    static std::mutex mutex;
    static std::map<std::string, std::weak_ptr<OtlpExporter>> exporters;
    std::string key = options.url;
    for (const auto& h : options.headers) key += "\n" + h;
    std::lock_guard lock(mutex);
    if (auto existing = exporters[key].lock()) return existing;
    auto made = std::make_shared<OtlpExporter>(options);
    exporters[key] = made;
    return made;
}

}  // namespace gossamer::runtime
