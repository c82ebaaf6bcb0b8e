// The gpt-oss mixture-of-experts block after its RMSNorm: router logits (bf16 gate + bias),
// top-k on the raw logits, softmax over the k selected, and for each expert the tokens routed
// to it run together: MXFP4 mlp1 + bias, clamped interleaved SwiGLU, MXFP4 mlp2 + bias. Each
// token's outputs are combined in its top-k order, so a token's result does not depend on the
// rest of the batch. It must not apply the residual or the norm.
#pragma once

#include <vector>

#include "engine/cpu/matmul.h"
#include "engine/cpu/thread_pool.h"
#include "engine/weights.h"

namespace gossamer::engine::cpu {

struct MoeScratch {
    std::vector<float> router;              // [T, experts]
    std::vector<int> chosen;                // [T, k] expert ids
    std::vector<float> weights;             // [T, k]
    std::vector<float> gathered;            // [group rows, hidden], by expert
    std::vector<float> up;                  // [group rows, 2*intermediate]
    std::vector<float> activated;           // [group rows, intermediate]
    std::vector<float> down;                // [group rows, hidden]
    std::vector<float> expert_out;          // [T, k, hidden]
    std::vector<std::vector<int>> rows_of;  // per expert: (t*k + slot) entries routed to it
    std::vector<int> slot;                  // per row of a group: its (t*k + slot) entry
};

// y[t, :] = sum_i w[t,i] * expert_{e[t,i]}(h[t, :]) for t < tokens. h, y: [tokens, hidden].
// `activations`: how the expert matmuls take their inputs, `router_activations`: how the bf16
// router does (cpu/matmul.h).
void moe_forward(const ModelConfig& config, const LayerWeights& layer, const float* h, int tokens,
                 float* y, ThreadPool& pool, MoeScratch& scratch,
                 Mxfp4Activations activations = Mxfp4Activations::Fp32,
                 DenseActivations router_activations = DenseActivations::Fp32);

// The clamped SwiGLU of one row: u [2*n] interleaved (gate, linear) -> out [n].
void swiglu(const float* u, int n, float limit, float* out);

}  // namespace gossamer::engine::cpu
