#include "server/metrics.h"

#include <cstdio>

namespace gossamer::server {

namespace {
std::string number(double v) {
    char text[64];
    std::snprintf(text, sizeof text, "%.17g", v);
    return text;
}
}  // namespace

void Histogram::observe(double seconds) {
    for (std::size_t i = 0; i < kBounds.size(); ++i)
        if (seconds <= kBounds[i]) ++buckets_[i];
    ++count_;
    sum_ += seconds;
}

std::string Histogram::render(const std::string& name, const std::string& help) const {
    std::string out = "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
    for (std::size_t i = 0; i < kBounds.size(); ++i)
        out += name + "_bucket{le=\"" + number(kBounds[i]) + "\"} " + std::to_string(buckets_[i]) +
               "\n";
    out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
    out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
    return out;
}

std::string Metrics::render() const {
    std::string out =
        "# HELP gossamer_requests_total HTTP requests by endpoint and status.\n"
        "# TYPE gossamer_requests_total counter\n";
    for (const auto& [key, n] : requests)
        out += "gossamer_requests_total{endpoint=\"" + key.first + "\",status=\"" +
               std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
    auto counter = [&](const char* name, const char* help, std::uint64_t v) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" +
               name + " " + std::to_string(v) + "\n";
    };
    auto gauge = [&](const char* name, const char* help, std::int64_t v) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name +
               " " + std::to_string(v) + "\n";
    };
    counter("gossamer_prompt_tokens_total", "Prompt tokens of every model turn.", prompt_tokens);
    counter("gossamer_cached_prompt_tokens_total",
            "Prompt tokens whose KV was reused from an earlier request (prefix cache).",
            cached_tokens);
    counter("gossamer_output_tokens_total", "Tokens sampled.", output_tokens);
    counter("gossamer_prefix_cache_hits_total", "Model turns that reused a cached prefix.",
            prefix_cache_hits);
    counter("gossamer_rejected_requests_total", "Requests refused with 429 (queue full).",
            rejected);
    gauge("gossamer_running_requests", "Requests whose model turn is in progress (sequences).",
          running);
    gauge("gossamer_queued_requests", "Requests admitted and waiting for the engine.", waiting);
    out += time_to_first_token.render("gossamer_time_to_first_token_seconds",
                                      "From the request to its first sampled token.");
    out += inter_token_latency.render("gossamer_inter_token_latency_seconds",
                                      "Between consecutive sampled tokens of one request.");
    return out;
}

}  // namespace gossamer::server
