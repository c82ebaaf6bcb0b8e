// YaRN RoPE as cpu::YarnRope: inv_freq and the concentration come from the CPU class (host);
// angle = float(pos) * inv_freq[i] rounded to fp32, cos/sin in double then rounded and scaled,
// half-split rotation with unfused multiplies: bit-exact with the CPU for the same inputs.
// Fused with the KV write: q rotated in place, k rotated and, with v, stored in the cache.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/kv_view.h"

namespace gossamer::engine::cuda {

// cos_sin [tokens, 2, half]: cos then sin at each token's position.
void rope_table(const int* positions, int tokens, const float* inv_freq, int half,
                float concentration, float* cos_sin, cudaStream_t stream);

// qkv [tokens, q_width + 2 kv_width] (bias applied): rotates q heads and k heads, writes k and
// v to `layer` of each token's cache. KV: float or bf16 bits.
template <typename KV>
void rope_and_store_kv(float* qkv, int tokens, const float* cos_sin, const RoundView& round,
                       int layer, const LayerShape& shape, cudaStream_t stream);

}  // namespace gossamer::engine::cuda
