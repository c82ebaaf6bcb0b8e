#include "engine/cuda/common.cuh"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/matmul.cuh"
#include "engine/cuda/moe.cuh"

namespace gossamer::engine::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kTile = 8;  // entries per weight read
constexpr float kSwigluAlpha = 1.702f;

__device__ __forceinline__ float swiglu(float gate, float linear, float limit) {
    const float glu = fminf(gate, limit);
    const float lin = fminf(fmaxf(linear, -limit), limit);
    return glu / (1.0f + expf(-kSwigluAlpha * glu)) * (lin + 1.0f);
}

__device__ __forceinline__ float dot32(const float w[32], const float* x) {
    const float4* v = reinterpret_cast<const float4*>(x);
    float s = 0.0f;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
        const float4 a = v[i];
        s += a.x * w[4 * i] + a.y * w[4 * i + 1] + a.z * w[4 * i + 2] + a.w * w[4 * i + 3];
    }
    return s;
}

// Warp per output unit i (mlp1 rows 2i = gate, 2i+1 = linear); grid.y over active experts.
__global__ void __launch_bounds__(kWarps * 32)
    moe_up_kernel(MoeWeights w, MoeGroups g, const float* __restrict__ h, float* __restrict__ act) {
    if (static_cast<int>(blockIdx.y) >= *g.active_count) return;
    const int e = g.active[blockIdx.y];
    const int lane = static_cast<int>(threadIdx.x) & 31;
    const int i = static_cast<int>(blockIdx.x) * kWarps + static_cast<int>(threadIdx.x) / 32;
    if (i >= w.inter) return;
    const int nb = w.hidden / 32;
    const std::size_t row = static_cast<std::size_t>(e) * 2 * w.inter + 2 * i;
    const uint4* blocks = reinterpret_cast<const uint4*>(w.mlp1_blocks) + row * nb;
    const std::uint8_t* scales = w.mlp1_scales + row * nb;
    const float bias_g = w.mlp1_bias[row], bias_l = w.mlp1_bias[row + 1];
    const int lo = g.offsets[e], hi = g.offsets[e + 1];
    for (int c0 = lo; c0 < hi; c0 += kTile) {
        const int n = min(kTile, hi - c0);
        float acc_g[kTile], acc_l[kTile];
#pragma unroll
        for (int t = 0; t < kTile; ++t) acc_g[t] = acc_l[t] = 0.0f;
        for (int b = lane; b < nb; b += 32) {
            float wg[32], wl[32];
            decode_mxfp4_block(blocks[b], scales[b], wg);
            decode_mxfp4_block(blocks[nb + b], scales[nb + b], wl);
#pragma unroll
            for (int t = 0; t < kTile; ++t) {
                if (t < n) {
                    const int token = g.entries[c0 + t] / g.k;
                    const float* x = h + static_cast<std::size_t>(token) * w.hidden + b * 32;
                    acc_g[t] += dot32(wg, x);
                    acc_l[t] += dot32(wl, x);
                }
            }
        }
#pragma unroll
        for (int t = 0; t < kTile; ++t) {
            const float sg = warp_sum(acc_g[t]);
            const float sl = warp_sum(acc_l[t]);
            if (lane == t && t < n) {
                const int r = g.entries[c0 + t];
                act[static_cast<std::size_t>(r) * w.inter + i] =
                    swiglu(bias_g + sg, bias_l + sl, w.limit);
            }
        }
    }
}

// Warp per output channel c of mlp2; grid.y over active experts.
__global__ void __launch_bounds__(kWarps * 32)
    moe_down_kernel(MoeWeights w, MoeGroups g, const float* __restrict__ act,
                    float* __restrict__ out) {
    if (static_cast<int>(blockIdx.y) >= *g.active_count) return;
    const int e = g.active[blockIdx.y];
    const int lane = static_cast<int>(threadIdx.x) & 31;
    const int c = static_cast<int>(blockIdx.x) * kWarps + static_cast<int>(threadIdx.x) / 32;
    if (c >= w.hidden) return;
    const int nb = w.inter / 32;
    const std::size_t row = static_cast<std::size_t>(e) * w.hidden + c;
    const uint4* blocks = reinterpret_cast<const uint4*>(w.mlp2_blocks) + row * nb;
    const std::uint8_t* scales = w.mlp2_scales + row * nb;
    const float bias = w.mlp2_bias[row];
    const int lo = g.offsets[e], hi = g.offsets[e + 1];
    for (int c0 = lo; c0 < hi; c0 += kTile) {
        const int n = min(kTile, hi - c0);
        float acc[kTile];
#pragma unroll
        for (int t = 0; t < kTile; ++t) acc[t] = 0.0f;
        for (int b = lane; b < nb; b += 32) {
            float wv[32];
            decode_mxfp4_block(blocks[b], scales[b], wv);
#pragma unroll
            for (int t = 0; t < kTile; ++t)
                if (t < n)
                    acc[t] += dot32(
                        wv, act + static_cast<std::size_t>(g.entries[c0 + t]) * w.inter + b * 32);
        }
#pragma unroll
        for (int t = 0; t < kTile; ++t) {
            const float s = warp_sum(acc[t]);
            if (lane == t && t < n)
                out[static_cast<std::size_t>(g.entries[c0 + t]) * w.hidden + c] = bias + s;
        }
    }
}

__global__ void combine_kernel(const float* __restrict__ out, const float* __restrict__ weights,
                               int tokens, int k, int hidden, float* __restrict__ x) {
    const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= static_cast<std::size_t>(tokens) * hidden) return;
    const std::size_t t = i / static_cast<std::size_t>(hidden);
    const std::size_t c = i % static_cast<std::size_t>(hidden);
    float sum = 0.0f;
    for (int s = 0; s < k; ++s) {
        const std::size_t r = t * static_cast<std::size_t>(k) + static_cast<std::size_t>(s);
        sum += weights[r] * out[r * static_cast<std::size_t>(hidden) + c];
    }
    x[i] += sum;
}

// One thread per 32-value block: 16 bytes + a scale in, 64 bytes of bf16 out.
__global__ void dequant_kernel(const uint4* __restrict__ blocks,
                               const std::uint8_t* __restrict__ scales, std::size_t count,
                               uint4* __restrict__ w) {
    const std::size_t b = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (b >= count) return;
    float v[32];
    decode_mxfp4_block(blocks[b], scales[b], v);
    for (int q = 0; q < 4; ++q) {
        unsigned p[4];
        for (int j = 0; j < 4; ++j)
            p[j] = static_cast<unsigned>(f32_to_bf16(v[q * 8 + 2 * j])) |
                   (static_cast<unsigned>(f32_to_bf16(v[q * 8 + 2 * j + 1])) << 16);
        w[b * 4 + static_cast<std::size_t>(q)] = make_uint4(p[0], p[1], p[2], p[3]);
    }
}

// xs[j, :] = bf16(h[entries[j] / k, :]) for j < n.
__global__ void gather_kernel(const float* __restrict__ h, const int* __restrict__ entries, int n,
                              int k, int hidden, std::uint16_t* __restrict__ xs) {
    const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= static_cast<std::size_t>(n) * hidden) return;
    const std::size_t j = i / static_cast<std::size_t>(hidden);
    const std::size_t c = i % static_cast<std::size_t>(hidden);
    xs[i] = f32_to_bf16(h[static_cast<std::size_t>(entries[j] / k) * hidden + c]);
}

__global__ void swiglu_rows_kernel(const float* __restrict__ up, int n, int inter,
                                   const float* __restrict__ bias, float limit,
                                   std::uint16_t* __restrict__ act) {
    const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= static_cast<std::size_t>(n) * inter) return;
    const std::size_t j = i / static_cast<std::size_t>(inter);
    const int u = static_cast<int>(i % static_cast<std::size_t>(inter));
    const float* row = up + j * 2 * static_cast<std::size_t>(inter);
    act[i] = f32_to_bf16(swiglu(row[2 * u] + bias[2 * u], row[2 * u + 1] + bias[2 * u + 1], limit));
}

__global__ void scatter_rows_kernel(const float* __restrict__ down, const int* __restrict__ entries,
                                    int n, int hidden, const float* __restrict__ bias,
                                    float* __restrict__ out) {
    const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= static_cast<std::size_t>(n) * hidden) return;
    const std::size_t j = i / static_cast<std::size_t>(hidden);
    const std::size_t c = i % static_cast<std::size_t>(hidden);
    out[static_cast<std::size_t>(entries[j]) * hidden + c] = down[i] + bias[c];
}

unsigned blocks_for(std::size_t n, int threads) {
    return static_cast<unsigned>((n + static_cast<std::size_t>(threads) - 1) /
                                 static_cast<std::size_t>(threads));
}

}  // namespace

void moe_experts_fused(const MoeWeights& w, const MoeGroups& g, const float* h, int max_active,
                       float* act, float* out, cudaStream_t stream) {
    if (max_active <= 0) return;
    const dim3 up_grid(static_cast<unsigned>(ceil_div(w.inter, kWarps)),
                       static_cast<unsigned>(max_active));
    moe_up_kernel<<<up_grid, kWarps * 32, 0, stream>>>(w, g, h, act);
    CUDA_CHECK_LAUNCH("moe_up_kernel");
    const dim3 down_grid(static_cast<unsigned>(ceil_div(w.hidden, kWarps)),
                         static_cast<unsigned>(max_active));
    moe_down_kernel<<<down_grid, kWarps * 32, 0, stream>>>(w, g, act, out);
    CUDA_CHECK_LAUNCH("moe_down_kernel");
}

void dequant_mxfp4(const std::uint8_t* blocks, const std::uint8_t* scales, int rows, int cols,
                   std::uint16_t* w, cudaStream_t stream) {
    const std::size_t count = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols / 32);
    dequant_kernel<<<blocks_for(count, 256), 256, 0, stream>>>(
        reinterpret_cast<const uint4*>(blocks), scales, count, reinterpret_cast<uint4*>(w));
    CUDA_CHECK_LAUNCH("dequant_kernel");
}

void moe_experts_gemm(const MoeWeights& w, const MoeGroups& g, const std::vector<int>& offsets,
                      const float* h, int tokens, cublasHandle_t cublas, MoeGemmScratch& s,
                      float* out, cudaStream_t stream) {
    const int n_all = tokens * g.k;
    if (n_all <= 0) return;
    const auto N = static_cast<std::size_t>(n_all);
    const auto H = static_cast<std::size_t>(w.hidden), I = static_cast<std::size_t>(w.inter);
    s.x.grow(N * H);
    s.w.grow(2 * I * H);
    s.up.grow(N * 2 * I);
    s.act.grow(N * I);
    s.down.grow(N * H);
    gather_kernel<<<blocks_for(N * H, 256), 256, 0, stream>>>(h, g.entries, n_all, g.k, w.hidden,
                                                              s.x.get());
    CUDA_CHECK_LAUNCH("gather_kernel");
    for (int e = 0; e < w.experts; ++e) {
        const int lo = offsets[static_cast<std::size_t>(e)];
        const int n = offsets[static_cast<std::size_t>(e) + 1] - lo;
        if (n == 0) continue;
        const auto L = static_cast<std::size_t>(lo), E = static_cast<std::size_t>(e);
        const auto Nn = static_cast<std::size_t>(n);
        dequant_mxfp4(w.mlp1_blocks + E * 2 * I * H / 2, w.mlp1_scales + E * 2 * I * H / 32,
                      2 * w.inter, w.hidden, s.w.get(), stream);
        gemm_bf16(cublas, s.x.get() + L * H, n, w.hidden, s.w.get(), 2 * w.inter, s.up.get(),
                  2 * w.inter, 0.0f, stream);
        swiglu_rows_kernel<<<blocks_for(Nn * I, 256), 256, 0, stream>>>(
            s.up.get(), n, w.inter, w.mlp1_bias + E * 2 * I, w.limit, s.act.get());
        CUDA_CHECK_LAUNCH("swiglu_rows_kernel");
        dequant_mxfp4(w.mlp2_blocks + E * H * I / 2, w.mlp2_scales + E * H * I / 32, w.hidden,
                      w.inter, s.w.get(), stream);
        gemm_bf16(cublas, s.act.get(), n, w.inter, s.w.get(), w.hidden, s.down.get(), w.hidden,
                  0.0f, stream);
        scatter_rows_kernel<<<blocks_for(Nn * H, 256), 256, 0, stream>>>(
            s.down.get(), g.entries + lo, n, w.hidden, w.mlp2_bias + E * H, out);
        CUDA_CHECK_LAUNCH("scatter_rows_kernel");
    }
}

void moe_combine(const float* out, const float* weights, int tokens, int k, int hidden, float* x,
                 cudaStream_t stream) {
    const std::size_t n = static_cast<std::size_t>(tokens) * static_cast<std::size_t>(hidden);
    if (n == 0) return;
    combine_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(out, weights, tokens, k, hidden, x);
    CUDA_CHECK_LAUNCH("combine_kernel");
}

}  // namespace gossamer::engine::cuda
