// CPU attention: a prompt chunk's tokens attended as one tile (attend_tile) give the same
// numbers, bit for bit, as each token attended alone (attend), so that how a prompt is split
// into forward passes never changes a result. Full and sliding layers (the ring wrapped),
// bf16 and fp32 caches, head sizes and group sizes the tile kernel handles in different ways.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <vector>

#include "engine/cpu/attention.h"
#include "engine/cpu/cpu_kv_cache.h"
#include "engine/model_config.h"

using gossamer::engine::KvPrecision;
using gossamer::engine::ModelConfig;
using gossamer::engine::cpu::attend;
using gossamer::engine::cpu::attend_tile;
using gossamer::engine::cpu::AttentionQuery;
using gossamer::engine::cpu::AttentionScratch;
using gossamer::engine::cpu::AttentionTile;
using gossamer::engine::cpu::CpuKvCache;

namespace {

struct Shape {
    int head_dim, heads, kv_heads;
};

// A cache filled with random keys and values up to `size` positions, appended in chunks of
// the ring's max_append as a prompt would be.
void fill(CpuKvCache& cache, const ModelConfig& c, int size, std::mt19937& rng) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> k(static_cast<std::size_t>(c.kv_width())), v(k.size());
    for (int at = cache.size(); at < size;) {
        const int next = std::min(size, at + cache.max_append());
        cache.grow(next);
        for (int pos = at; pos < next; ++pos)
            for (int layer = 0; layer < c.num_hidden_layers; ++layer) {
                for (auto& x : k) x = normal(rng);
                for (auto& x : v) x = normal(rng);
                cache.store(layer, pos, k.data(), v.data());
            }
        at = next;
    }
}

}  // namespace

TEST_CASE("attention: a tile of tokens equals each token alone, bit for bit") {
    const Shape shapes[] = {{64, 8, 2}, {48, 6, 2}, {32, 3, 1}, {128, 4, 2}, {12, 4, 2}};
    const KvPrecision precisions[] = {KvPrecision::Bf16, KvPrecision::Fp32};
    for (const Shape& shape : shapes)
        for (KvPrecision precision : precisions) {
            ModelConfig c;
            c.num_hidden_layers = 2;  // layer 0 slides, layer 1 is full
            c.sliding_window = 40;
            c.head_dim = shape.head_dim;
            c.num_attention_heads = shape.heads;
            c.num_key_value_heads = shape.kv_heads;
            std::mt19937 rng(static_cast<unsigned>(shape.head_dim * 10 + shape.heads));
            std::normal_distribution<float> normal(0.0f, 1.0f);
            CpuKvCache cache(c, 400, 24, precision);  // a ring of 64 slots
            const int group = c.group_size(), d = c.head_dim;
            const int qw = c.num_attention_heads * d;
            // (first position, tokens): from the start, short and long tiles, across the ring.
            const int cases[][2] = {{0, 5}, {5, 16}, {21, 17}, {38, 25}, {100, 7}, {130, 1}};
            for (const auto& tile_case : cases) {
                const int position = tile_case[0], tokens = tile_case[1];
                fill(cache, c, position + tokens, rng);
                std::vector<float> q(static_cast<std::size_t>(tokens * qw));
                for (auto& x : q) x = normal(rng);
                std::vector<float> sinks(static_cast<std::size_t>(c.num_attention_heads));
                for (auto& x : sinks) x = normal(rng);
                for (int layer = 0; layer < 2; ++layer)
                    for (int kvh = 0; kvh < c.num_key_value_heads; ++kvh) {
                        const bool sliding = ModelConfig::is_sliding(layer);
                        AttentionTile tile;
                        tile.q = q.data() + kvh * group * d;
                        tile.q_stride = static_cast<std::size_t>(qw);
                        tile.sinks = sinks.data() + kvh * group;
                        tile.group = group;
                        tile.head_dim = d;
                        tile.kv_head = kvh;
                        tile.scale = 0.125f;
                        tile.tokens = tokens;
                        tile.position = position;
                        tile.window = sliding ? c.sliding_window : 0;
                        std::vector<float> tiled(static_cast<std::size_t>(tokens * qw), -1.0f);
                        AttentionScratch scratch;
                        attend_tile(cache, layer, tile, tiled.data() + kvh * group * d,
                                    static_cast<std::size_t>(qw), scratch);
                        std::vector<float> alone(static_cast<std::size_t>(group * d));
                        std::vector<float> scores;
                        for (int t = 0; t < tokens; ++t) {
                            AttentionQuery query;
                            query.q = tile.q + static_cast<std::size_t>(t) * tile.q_stride;
                            query.sinks = tile.sinks;
                            query.group = group;
                            query.head_dim = d;
                            query.kv_head = kvh;
                            query.scale = tile.scale;
                            const int pos = position + t;
                            const int first = sliding ? std::max(0, pos - c.sliding_window + 1) : 0;
                            attend(cache, layer, first, pos, query, alone.data(), scores);
                            const float* got = tiled.data() + t * qw + kvh * group * d;
                            CAPTURE(shape.head_dim);
                            CAPTURE(group);
                            CAPTURE(position);
                            CAPTURE(t);
                            CAPTURE(layer);
                            CHECK(std::memcmp(got, alone.data(), alone.size() * sizeof(float)) ==
                                  0);
                        }
                    }
            }
        }
}
