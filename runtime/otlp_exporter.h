// Sends finished spans (gen_ai_tracer.h) to an OpenTelemetry collector as OTLP/HTTP JSON
// (`POST {endpoint}/v1/traces`), from its own thread: add() only queues (bounded; a full
// queue drops the span and counts it), batches leave when full or every interval, a failed
// export is counted and not retried, and shutdown waits a bounded time for what is queued.
// So export never blocks or fails a run. One exporter per endpoint is shared by every run of
// a process (shared()). Credentials come from headers in the environment and are never
// printed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/agent_spec.h"
#include "runtime/gen_ai_tracer.h"

namespace gossamer::runtime {

struct OtlpOptions {
    std::string url;                   // the traces endpoint, e.g. http://127.0.0.1:4318/v1/traces
    std::vector<std::string> headers;  // "name: value"
    std::string service_name = "gossamer";
    std::size_t max_queue = 2048;  // spans waiting; more are dropped
    std::size_t max_batch = 256;   // spans per request
    std::chrono::milliseconds interval{1000};
    std::chrono::milliseconds timeout{5000};        // per request
    std::chrono::milliseconds shutdown_wait{3000};  // at the end, for what is still queued
};

// The spec's telemetry (or GOSSAMER_OTLP_ENDPOINT when it names none) as exporter options;
// nullopt when telemetry is off. A URL with no path gets /v1/traces. Headers from
// GOSSAMER_OTLP_HEADERS, else OTEL_EXPORTER_OTLP_HEADERS ("k=v,k2=v2", values URL-decoded).
// Throws SetupError for an endpoint that is not an http(s) URL.
std::optional<OtlpOptions> otlp_options(const TelemetrySpec& spec);
// The spec's content flag, or GOSSAMER_OTLP_CONTENT=1|true.
bool otlp_content(const TelemetrySpec& spec);

// The OTLP/HTTP JSON body (ExportTraceServiceRequest) for `spans`.
nlohmann::ordered_json otlp_request(const std::vector<Span>& spans,
                                    const std::string& service_name);

struct OtlpStats {
    std::size_t exported = 0;  // spans the collector accepted (2xx)
    std::size_t dropped = 0;   // spans refused because the queue was full
    std::size_t failed = 0;    // spans in requests that failed
    std::string last_error;    // of the last failed request
};

class OtlpExporter {
  public:
    explicit OtlpExporter(OtlpOptions options);
    // Waits up to shutdown_wait for the queue, then stops; says on stderr what was lost.
    ~OtlpExporter();
    OtlpExporter(const OtlpExporter&) = delete;
    OtlpExporter& operator=(const OtlpExporter&) = delete;

    void add(Span span);  // never blocks on the network
    OtlpStats stats() const;

    // The process's exporter for these options (made on first use, kept while used).
    static std::shared_ptr<OtlpExporter> shared(const OtlpOptions& options);

  private:
    void work();
    bool post(const std::vector<Span>& batch, std::chrono::milliseconds timeout);

    OtlpOptions options_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Span> queue_;
    OtlpStats stats_;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point deadline_{};
    std::thread worker_;
};

}  // namespace gossamer::runtime
