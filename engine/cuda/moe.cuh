// The MoE experts after routing (router.cuh), as cpu moe.cpp: for every (token, slot) entry
// r = t*k + slot routed to expert e: up = mlp1_e(h_t) + b1 (MXFP4), a = clamped interleaved
// SwiGLU(up), out_r = mlp2_e(a) + b2; then x_t += sum_slot w[t, slot] * out_{t*k+slot} in slot
// order (deterministic, the residual add fused).
//  - Fused path (decode, small batches, and `precise`): MXFP4 decoded in registers inside a
//    GEMV (one warp per weight row or gate/linear row pair, 16-byte block loads), bias and
//    SwiGLU in the epilogue; grid over the active experts read from the device, no host sync.
//  - GEMM path (prefill): the host reads the expert offsets, each active expert's weights are
//    dequantised to bf16 scratch and multiplied with cuBLAS (activations rounded to bf16).
// Tolerance against the CPU: fused path fp32 summation order; GEMM path bf16 activations.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "engine/cuda/device_buffer.h"

namespace gossamer::engine::cuda {

struct MoeWeights {
    const std::uint8_t* mlp1_blocks = nullptr;  // [experts, 2*inter, hidden/32, 16]
    const std::uint8_t* mlp1_scales = nullptr;  // [experts, 2*inter, hidden/32]
    const float* mlp1_bias = nullptr;           // [experts, 2*inter]
    const std::uint8_t* mlp2_blocks = nullptr;  // [experts, hidden, inter/32, 16]
    const std::uint8_t* mlp2_scales = nullptr;  // [experts, hidden, inter/32]
    const float* mlp2_bias = nullptr;           // [experts, hidden]
    int experts = 0;
    int hidden = 0;
    int inter = 0;
    float limit = 7.0f;
};

// The grouping of router.cuh (device pointers).
struct MoeGroups {
    const int* offsets = nullptr;       // [experts + 1]
    const int* entries = nullptr;       // [tokens * k]
    const int* active = nullptr;        // [experts]
    const int* active_count = nullptr;  // [1]
    int k = 4;
};

// Fused path. h [tokens, hidden]; act scratch [tokens*k, inter]; out [tokens*k, hidden].
// max_active: an upper bound on the active experts (min(experts, tokens*k)).
void moe_experts_fused(const MoeWeights& w, const MoeGroups& g, const float* h, int max_active,
                       float* act, float* out, cudaStream_t stream);

struct MoeGemmScratch {
    DeviceBuffer<std::uint16_t> x;    // [tokens*k, hidden] gathered rows, bf16
    DeviceBuffer<std::uint16_t> w;    // dequantised expert [max(2*inter*hidden, hidden*inter)]
    DeviceBuffer<float> up;           // [tokens*k, 2*inter]
    DeviceBuffer<std::uint16_t> act;  // [tokens*k, inter] bf16
    DeviceBuffer<float> down;         // [tokens*k, hidden]
};

// GEMM path. offsets: the host copy of g.offsets.
void moe_experts_gemm(const MoeWeights& w, const MoeGroups& g, const std::vector<int>& offsets,
                      const float* h, int tokens, cublasHandle_t cublas, MoeGemmScratch& scratch,
                      float* out, cudaStream_t stream);

// x[t, :] += sum_i weights[t, i] * out[t*k + i, :].
void moe_combine(const float* out, const float* weights, int tokens, int k, int hidden, float* x,
                 cudaStream_t stream);

// W [rows, cols] bf16 from one expert's MXFP4 rows (tests and the GEMM path).
void dequant_mxfp4(const std::uint8_t* blocks, const std::uint8_t* scales, int rows, int cols,
                   std::uint16_t* w, cudaStream_t stream);

}  // namespace gossamer::engine::cuda
