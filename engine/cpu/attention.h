// Causal attention for one query position and one KV head's group of query heads, with the
// gpt-oss attention sink: softmax over [scaled scores..., sink] with the sink's mass dropped,
// o = sum_j e^{s_j} v_j / (sum_j e^{s_j} + e^{sink}). Keys and values come from the cache in
// at most two runs of slots (a ring wraps once). It must not touch the cache's bookkeeping.
#pragma once

#include <cstddef>
#include <vector>

#include "engine/cpu/cpu_kv_cache.h"

namespace gossamer::engine::cpu {

struct AttentionQuery {
    const float* q = nullptr;      // [group, head_dim], RoPE applied
    const float* sinks = nullptr;  // [group], the heads' sink logits (not scaled)
    int group = 0;                 // query heads sharing this KV head
    int head_dim = 0;
    int kv_head = 0;
    float scale = 0.125f;  // 1/sqrt(head_dim)
};

// Attends over cached positions [first, last] of `layer`; writes out [group, head_dim].
// `scores` is scratch, resized as needed (one per thread).
void attend(const CpuKvCache& cache, int layer, int first, int last, const AttentionQuery& query,
            float* out, std::vector<float>& scores);

// A prompt chunk's consecutive query positions of one sequence, for one KV head: token t is at
// position + t and attends [position + t - window + 1, position + t] (from 0 when window is 0
// or the window reaches back past it).
struct AttentionTile {
    const float* q = nullptr;  // token t's [group, head_dim] at q + t * q_stride, RoPE applied
    std::size_t q_stride = 0;
    const float* sinks = nullptr;  // [group]
    int group = 0;
    int head_dim = 0;
    int kv_head = 0;
    float scale = 0.125f;
    int tokens = 0;
    int position = 0;
    int window = 0;
};

// Per-thread scratch for attend_tile.
struct AttentionScratch {
    std::vector<float> scores, keys, values;
};

// attend() for each token of the tile, writing token t's [group, head_dim] at
// out + t * out_stride: the same numbers bit for bit (every score, exponential and
// multiply-add in the same order), but with each block of keys and values read and widened
// once for all the tile's tokens, and the scores of a block computed with the keys across
// vector lanes instead of reduced per key.
void attend_tile(const CpuKvCache& cache, int layer, const AttentionTile& tile, float* out,
                 std::size_t out_stride, AttentionScratch& scratch);

}  // namespace gossamer::engine::cpu
