// The CPU attention kernels alone (engine/cpu/attention.h) at gpt-oss-20b's attention shape
// (64 query heads, 8 KV heads of 64): for each context length N, a tile of T consecutive
// tokens at positions N - T .. N - 1 of a full-attention layer over random keys and values,
// attended one token at a time (attend(), what decode and short prompts use) and as one tile
// (attend_tile(), long prompt chunks). One thread, one KV head's group per call; reports the
// median time per (token, query head, key): one score and one value row, 128 multiply-adds.
// Prints one JSON object.
//   gossamer_bench_attention [--positions 512,4096,16384,32768] [--tokens 16] [--runs 5]
//                            [--kv bf16|fp32]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cpu/attention.h"
#include "engine/cpu/cpu_features.h"
#include "engine/cpu/cpu_kv_cache.h"
#include "engine/model_config.h"

namespace {

using namespace gossamer::engine;
using namespace gossamer::engine::cpu;

std::vector<int> parse_list(const std::string& text) {
    std::vector<int> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
    return out;
}

template <class F>
double median_seconds(int runs, F&& f) {
    std::vector<double> times;
    f();  // warm-up
    for (int r = 0; r < runs; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        times.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<int> positions{512, 4096, 16384, 32768};
    int tokens = 16, runs = 5;
    KvPrecision precision = KvPrecision::Bf16;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "gossamer_bench_attention: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--positions")
            positions = parse_list(value());
        else if (a == "--tokens")
            tokens = std::stoi(value());
        else if (a == "--runs")
            runs = std::stoi(value());
        else if (a == "--kv")
            precision = value() == "fp32" ? KvPrecision::Fp32 : KvPrecision::Bf16;
        else {
            std::fprintf(stderr,
                         "usage: gossamer_bench_attention [--positions N,...] [--tokens T] "
                         "[--runs R] [--kv bf16|fp32]\n");
            return a == "--help" ? 0 : 2;
        }
    }
    if (tokens < 1 || runs < 1) {
        std::fprintf(stderr, "gossamer_bench_attention: --tokens and --runs must be >= 1\n");
        return 2;
    }

    ModelConfig c;  // gpt-oss-20b's attention: 64 heads, 8 KV heads, head_dim 64
    c.num_hidden_layers = 2;
    const int layer = 1;  // full attention
    const int qw = c.num_attention_heads * c.head_dim, group = c.group_size(), d = c.head_dim;
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    nlohmann::json results = nlohmann::json::array();
    for (int n : positions) {
        if (n < tokens || n > c.max_context()) {
            std::fprintf(stderr, "gossamer_bench_attention: skipping %d positions\n", n);
            continue;
        }
        CpuKvCache cache(c, n, 0, precision);
        cache.grow(n);
        std::vector<float> k(static_cast<std::size_t>(c.kv_width())), v(k.size());
        for (int p = 0; p < n; ++p) {
            for (auto& x : k) x = normal(rng);
            for (auto& x : v) x = normal(rng);
            cache.store(layer, p, k.data(), v.data());
        }
        std::vector<float> q(static_cast<std::size_t>(tokens * qw)), sinks(64);
        for (auto& x : q) x = normal(rng);
        std::vector<float> alone(q.size()), tiled(q.size());
        AttentionTile tile;
        tile.q = q.data();
        tile.q_stride = static_cast<std::size_t>(qw);
        tile.sinks = sinks.data();
        tile.group = group;
        tile.head_dim = d;
        tile.tokens = tokens;
        tile.position = n - tokens;
        AttentionScratch scratch;
        const double one = median_seconds(runs, [&] {
            for (int t = 0; t < tokens; ++t) {
                AttentionTile single = tile;
                single.tokens = 1;
                single.position = tile.position + t;
                single.q = tile.q + static_cast<std::size_t>(t) * tile.q_stride;
                attend_tile(cache, layer, single, alone.data() + t * qw, tile.q_stride, scratch);
            }
        });
        const double together = median_seconds(
            runs, [&] { attend_tile(cache, layer, tile, tiled.data(), tile.q_stride, scratch); });
        const double triples = static_cast<double>(tokens) * group * (n - (tokens - 1) / 2.0);
        results.push_back({{"positions", n},
                           {"tokens", tokens},
                           {"per_token_ns", one / triples * 1e9},
                           {"tile_ns", together / triples * 1e9},
                           {"same_numbers", std::memcmp(alone.data(), tiled.data(),
                                                        alone.size() * sizeof(float)) == 0}});
    }
    nlohmann::json out{{"kv", to_string(precision)},
                       {"avx512", cpu_features().avx512},
                       {"unit", "ns per (token, query head, key), one thread"},
                       {"results", results}};
    std::printf("%s\n", out.dump(2).c_str());
}
