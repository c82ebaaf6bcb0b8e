// A decode step at the far end of a long context on the CPU backend: the cache of a sequence
// is filled to N positions with random keys and values (computing them would take hours on a
// small machine: a 128K prefill is quadratic in attention), then one token is decoded at
// positions N, N+1, N+2 (after a warm-up step). Reports, for each N, the median step time, whether
// the logits are finite, the cache's bytes (full-attention layers grow with N; sliding layers keep
// their ring: constant), bytes per position, and peak RSS. Prints one JSON object.
//   gossamer_bench_long_context --model DIR [--tokens 8192,32768,131071] [--threads T]
//                               [--kv bf16|fp32]
#include <sys/resource.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/weights.h"

namespace {

using namespace gossamer::engine;

double peak_rss_mib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Random rows for positions [first, first + count) of every layer the cache holds.
void fill(KvCache& cache, int size, std::mt19937& rng) {
    const std::size_t row = static_cast<std::size_t>(cache.row_elements());
    const std::size_t bytes = row * element_bytes(cache.precision());
    std::normal_distribution<float> normal(0.0f, 1.0f);
    constexpr int kChunk = 1024;
    std::vector<float> k(row * kChunk), v(row * kChunk);
    std::vector<std::uint16_t> k16(row * kChunk), v16(row * kChunk);
    for (int layer = 0; layer < cache.layers(); ++layer)
        for (int p = cache.oldest(layer); p < size; p += kChunk) {
            const int n = std::min(kChunk, size - p);
            for (std::size_t i = 0; i < row * static_cast<std::size_t>(n); ++i) {
                k[i] = normal(rng);
                v[i] = normal(rng);
                k16[i] = static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(k[i]) >> 16);
                v16[i] = static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(v[i]) >> 16);
            }
            if (bytes == row * 2)
                cache.write(layer, p, n, k16.data(), v16.data());
            else
                cache.write(layer, p, n, k.data(), v.data());
        }
}

}  // namespace

int main(int argc, char** argv) {
    std::string model, list = "8192,32768,131071";
    int threads = 0;
    KvPrecision precision = KvPrecision::Bf16;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        if (a == "--model")
            model = v;
        else if (a == "--tokens")
            list = v;
        else if (a == "--threads")
            threads = std::stoi(v);
        else if (a == "--kv")
            precision = v == "fp32" ? KvPrecision::Fp32 : KvPrecision::Bf16;
    }
    if (model.empty()) {
        std::fprintf(stderr,
                     "usage: gossamer_bench_long_context --model DIR [--tokens N,...] "
                     "[--threads T] [--kv bf16|fp32]\n");
        return 2;
    }
    const Weights weights = load_weights(model);
    auto backend = cpu::make_cpu_backend(weights, {.threads = threads, .kv_precision = precision});
    nlohmann::json out{{"model", model},
                       {"layers", weights.config.num_hidden_layers},
                       {"backend", backend->name()},
                       {"runs", nlohmann::json::array()}};
    std::mt19937 rng(3);
    {  // warm-up: the first forward maps every weight page in
        auto cache = backend->new_cache(64);
        std::vector<TokenId> tokens(16, 1);
        std::vector<float> logits;
        ForwardItem item{cache.get(), tokens, LogitsWanted::Last};
        backend->forward({&item, 1}, logits);
    }
    std::stringstream tokens(list);
    for (std::string item; std::getline(tokens, item, ',');) {
        const int n = std::stoi(item);
        auto cache = backend->new_cache(weights.config.max_context());
        cache->restore(n, std::max(0, n - cache->ring_positions()));
        fill(*cache, n, rng);
        // Three decode steps (the first positions past n); the median is reported.
        std::vector<double> times;
        bool finite = true;
        for (int step_index = 0; step_index < 3 && cache->size() < weights.config.max_context();
             ++step_index) {
            std::vector<TokenId> next = {1234 + step_index};
            std::vector<float> logits;
            ForwardItem step{cache.get(), next, LogitsWanted::Last};
            const auto t0 = std::chrono::steady_clock::now();
            backend->forward({&step, 1}, logits);
            times.push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count());
            finite = finite && !logits.empty();
            for (float x : logits) finite = finite && std::isfinite(x);
        }
        std::sort(times.begin(), times.end());
        const double ms = times[times.size() / 2];
        out["runs"].push_back(
            {{"context", n},
             {"decode_step_ms", ms},
             {"logits_finite", finite},
             {"steps", times.size()},
             {"cache_size_after", cache->size()},
             {"cache_bytes", cache->bytes()},
             {"cache_bytes_per_position", static_cast<double>(cache->bytes()) / (n + 1)},
             {"peak_rss_mib", peak_rss_mib()}});
        std::fprintf(stderr, "context %d: %.0f ms, cache %.1f MiB\n", n, ms,
                     static_cast<double>(cache->bytes()) / (1 << 20));
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
}
