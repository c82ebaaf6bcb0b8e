// Causal attention with gpt-oss sinks, sliding window (even layers) and GQA, as cpu::attend:
// o_h = sum_j e^{s_j} v_j / (sum_j e^{s_j} + e^{sink_h}), s_j = q_h . k_j / sqrt(d), over keys
// [pos - window + 1 (sliding) or 0, pos]. Split-K (flash-decoding): block (token, kv head,
// split) runs an online softmax over its share of the keys for the whole query group (each key
// read once per group); a combine kernel merges the splits and the sink. Decode gets many
// splits per token, prefill one split per (token, kv head). head_dim must be 64, group <= 16.
// Tolerance against the CPU: fp32 summation order (~1e-6 relative) with an fp32 cache.
#pragma once

#include <cuda_runtime.h>

#include "engine/cuda/kv_view.h"

namespace gossamer::engine::cuda {

inline constexpr int kAttentionHeadDim = 64;
inline constexpr int kAttentionMaxGroup = 16;

struct AttentionArgs {
    const float* qkv = nullptr;    // [tokens, qkv_width], RoPE applied
    const float* sinks = nullptr;  // [heads]
    float scale = 0.125f;
    int tokens = 0;
    int splits = 1;
    float* partial = nullptr;  // [tokens, heads, splits, head_dim + 2] scratch
    float* out = nullptr;      // [tokens, q_width]
};

// How many splits per (token, kv head): enough blocks to fill `sms` multiprocessors, at
// least 256 keys per split. max_keys: the most keys any token of the round attends to.
int attention_splits(int tokens, int kv_heads, int max_keys, int sms);

template <typename KV>
void attention(const AttentionArgs& args, const RoundView& round, const LayerShape& shape,
               cudaStream_t stream);

}  // namespace gossamer::engine::cuda
