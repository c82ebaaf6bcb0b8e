// What `GET /metrics` reports, in the Prometheus text format: requests by endpoint and
// status, tokens in / out / served from the prefix cache, prefix-cache hits, requests
// running and waiting, and histograms of time to first token and inter-token latency.
// Loop thread only; it must not know HTTP or models.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace gossamer::server {

class Histogram {
  public:
    static constexpr std::array<double, 12> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                       0.1,   0.25,   0.5,   1,    2.5,   10};
    void observe(double seconds);
    std::string render(const std::string& name, const std::string& help) const;

  private:
    std::array<std::uint64_t, kBounds.size()> buckets_{};
    std::uint64_t count_ = 0;
    double sum_ = 0;
};

// Feeds the gaps between one request's consecutive tokens into a histogram.
class TokenGaps {
  public:
    void tick(Histogram& histogram) {
        const auto now = std::chrono::steady_clock::now();
        if (last_) histogram.observe(std::chrono::duration<double>(now - *last_).count());
        last_ = now;
    }

  private:
    std::optional<std::chrono::steady_clock::time_point> last_;
};

struct Metrics {
    std::map<std::pair<std::string, int>, std::uint64_t> requests;  // (endpoint, status)
    std::uint64_t prompt_tokens = 0;
    std::uint64_t cached_tokens = 0;
    std::uint64_t output_tokens = 0;
    std::uint64_t prefix_cache_hits = 0;
    std::uint64_t rejected = 0;  // 429: the queue was full
    std::int64_t running = 0;    // requests with a model turn in progress
    std::int64_t waiting = 0;    // admitted but not yet generating (reported by the server)
    Histogram time_to_first_token;
    Histogram inter_token_latency;

    void count(const std::string& endpoint, int status) { ++requests[{endpoint, status}]; }
    // One request's model work (its prompt, the part of it served from the prefix cache, its
    // output).
    void count_tokens(int prompt, int cached, int output) {
        prompt_tokens += static_cast<std::uint64_t>(prompt);
        cached_tokens += static_cast<std::uint64_t>(cached);
        output_tokens += static_cast<std::uint64_t>(output);
        if (cached > 0) ++prefix_cache_hits;
    }
    // Requests in progress: up to `max_running` of them run, the rest wait.
    void set_load(std::size_t active, std::size_t max_running) {
        running = static_cast<std::int64_t>(std::min(active, max_running));
        waiting = static_cast<std::int64_t>(active - std::min(active, max_running));
    }
    std::string render() const;
};

}  // namespace gossamer::server
