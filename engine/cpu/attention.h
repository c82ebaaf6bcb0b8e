// Causal attention for one query position and one KV head's group of query heads, with the
// gpt-oss attention sink: softmax over [scaled scores..., sink] with the sink's mass dropped,
// o = sum_j e^{s_j} v_j / (sum_j e^{s_j} + e^{sink}). Keys and values come from the cache in
// at most two runs of slots (a ring wraps once). It must not touch the cache's bookkeeping.
#pragma once

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

}  // namespace gossamer::engine::cpu
