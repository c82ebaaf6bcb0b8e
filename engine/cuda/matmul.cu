// Dense bf16 matmuls (matmul.cuh). GEMV kernel: one warp per weight row; each lane reads 16
// bytes (8 bf16) of the row per step, coalesced across the warp, and multiplies them with the
// same 8 columns of up to NT tokens (fp32, L1-resident), so a weight row is read once per NT
// tokens. Tolerance against cpu::matmul_bf16: fp32 summation order only (~1e-6 relative).
#include <cuda_bf16.h>

#include "engine/cuda/common.cuh"
#include "engine/cuda/cublas_loader.h"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/matmul.cuh"

namespace gossamer::engine::cuda {
namespace {

constexpr int kGemvWarps = 8;

template <int NT>
__global__ void __launch_bounds__(kGemvWarps * 32)
    gemv_bf16_kernel(const float* __restrict__ x, int ldx, int tokens,
                     const std::uint16_t* __restrict__ w, int rows, int cols,
                     const float* __restrict__ bias, float* __restrict__ y, int ldy,
                     int accumulate) {
    const int lane = static_cast<int>(threadIdx.x) & 31;
    const int row = static_cast<int>(blockIdx.x) * kGemvWarps + static_cast<int>(threadIdx.x) / 32;
    if (row >= rows) return;
    const int t0 = static_cast<int>(blockIdx.y) * NT;
    const int nt = min(NT, tokens - t0);
    const uint4* wrow = reinterpret_cast<const uint4*>(w + static_cast<std::size_t>(row) * cols);
    const int chunks = cols / 8;
    float acc[NT];
#pragma unroll
    for (int t = 0; t < NT; ++t) acc[t] = 0.0f;
#pragma unroll 4
    for (int c = lane; c < chunks; c += 32) {
        const uint4 packed = __ldcs(wrow + c);  // weights stream through once
        float wf[8];
        unpack_bf16x8(packed, wf);
#pragma unroll
        for (int t = 0; t < NT; ++t) {
            if (t < nt) {
                const float4* xp =
                    reinterpret_cast<const float4*>(x + static_cast<std::size_t>(t0 + t) * ldx) +
                    2 * c;
                const float4 a = xp[0], b = xp[1];
                acc[t] += a.x * wf[0] + a.y * wf[1] + a.z * wf[2] + a.w * wf[3] + b.x * wf[4] +
                          b.y * wf[5] + b.z * wf[6] + b.w * wf[7];
            }
        }
    }
    float mine = 0.0f;
#pragma unroll
    for (int t = 0; t < NT; ++t) {
        const float s = warp_sum(acc[t]);
        if (lane == t) mine = s;
    }
    if (lane < nt) {
        const float value = (bias ? bias[row] : 0.0f) + mine;
        float* out = y + static_cast<std::size_t>(t0 + lane) * ldy + row;
        *out = accumulate ? *out + value : value;
    }
}

template <int NT>
void launch_gemv(const float* x, int ldx, int tokens, const std::uint16_t* w, int rows, int cols,
                 const float* bias, float* y, int ldy, bool accumulate, cudaStream_t stream) {
    const dim3 grid(static_cast<unsigned>(ceil_div(rows, kGemvWarps)),
                    static_cast<unsigned>(ceil_div(tokens, NT)));
    gemv_bf16_kernel<NT><<<grid, kGemvWarps * 32, 0, stream>>>(x, ldx, tokens, w, rows, cols, bias,
                                                               y, ldy, accumulate ? 1 : 0);
    CUDA_CHECK_LAUNCH("gemv_bf16_kernel");
}

__global__ void add_bias_kernel(float* y, int ldy, int tokens, int rows, const float* bias) {
    const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const std::size_t n = static_cast<std::size_t>(tokens) * static_cast<std::size_t>(rows);
    if (i >= n) return;
    const int t = static_cast<int>(i / static_cast<std::size_t>(rows));
    const int r = static_cast<int>(i % static_cast<std::size_t>(rows));
    y[static_cast<std::size_t>(t) * ldy + r] += bias[r];
}

// out [tokens, cols] bf16 (dense) from x [tokens, ldx] fp32.
__global__ void rows_to_bf16_kernel(const float* x, int ldx, int tokens, int cols,
                                    std::uint16_t* out) {
    const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const std::size_t n = static_cast<std::size_t>(tokens) * static_cast<std::size_t>(cols);
    if (i >= n) return;
    const std::size_t t = i / static_cast<std::size_t>(cols);
    const std::size_t c = i % static_cast<std::size_t>(cols);
    out[i] = f32_to_bf16(x[t * static_cast<std::size_t>(ldx) + c]);
}

__global__ void to_bf16_kernel(const float* in, std::uint16_t* out, std::size_t n) {
    const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) out[i] = f32_to_bf16(in[i]);
}

// One thread per 8 columns of one token: 16-byte load of the embedding row.
__global__ void embed_kernel(const std::uint16_t* __restrict__ embedding,
                             const int* __restrict__ tokens, int count, int hidden,
                             float* __restrict__ x) {
    const int per_row = hidden / 8;
    const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    if (i >= count * per_row) return;
    const int t = i / per_row, c = i % per_row;
    const uint4 packed =
        reinterpret_cast<const uint4*>(embedding + static_cast<std::size_t>(tokens[t]) * hidden)[c];
    float v[8];
    unpack_bf16x8(packed, v);
    float4* out = reinterpret_cast<float4*>(x + static_cast<std::size_t>(t) * hidden) + 2 * c;
    out[0] = make_float4(v[0], v[1], v[2], v[3]);
    out[1] = make_float4(v[4], v[5], v[6], v[7]);
}

unsigned blocks_for(std::size_t n, int threads) {
    return static_cast<unsigned>((n + static_cast<std::size_t>(threads) - 1) /
                                 static_cast<std::size_t>(threads));
}

}  // namespace

void gemv_bf16(const float* x, int ldx, int tokens, const std::uint16_t* w, int rows, int cols,
               const float* bias, float* y, int ldy, bool accumulate, cudaStream_t stream) {
    if (tokens <= 0) return;
    if (cols % 8 != 0) throw ModelError("gemv_bf16: cols must be a multiple of 8");
    if (tokens == 1)
        launch_gemv<1>(x, ldx, tokens, w, rows, cols, bias, y, ldy, accumulate, stream);
    else if (tokens == 2)
        launch_gemv<2>(x, ldx, tokens, w, rows, cols, bias, y, ldy, accumulate, stream);
    else if (tokens <= 4)
        launch_gemv<4>(x, ldx, tokens, w, rows, cols, bias, y, ldy, accumulate, stream);
    else
        launch_gemv<8>(x, ldx, tokens, w, rows, cols, bias, y, ldy, accumulate, stream);
}

void gemm_bf16(cublasHandle_t handle, const std::uint16_t* a, int m, int k, const std::uint16_t* b,
               int n, float* c, int ldc, float beta, cudaStream_t stream) {
    // Row-major C[m, n] is column-major C^T [n, m] = B [n, k] . A^T: op(B) = T, op(A) = N.
    const float alpha = 1.0f;
    const CublasApi& api = cublas_api();
    CUBLAS_CHECK(api.set_stream(handle, stream));
    CUBLAS_CHECK(api.gemm_ex(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &alpha, b, CUDA_R_16BF, k,
                             a, CUDA_R_16BF, k, &beta, c, CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F,
                             CUBLAS_GEMM_DEFAULT));
}

void dense_matmul(MatmulContext& ctx, const float* x, int ldx, int tokens, const std::uint16_t* w,
                  int rows, int cols, const float* bias, float* y, int ldy, bool accumulate,
                  cudaStream_t stream) {
    if (tokens <= 0) return;
    if (ctx.precise || tokens <= ctx.gemv_max_tokens || !ctx.cublas)
        return gemv_bf16(x, ldx, tokens, w, rows, cols, bias, y, ldy, accumulate, stream);
    const std::size_t n = static_cast<std::size_t>(tokens) * static_cast<std::size_t>(cols);
    ctx.x_bf16.grow(n);
    rows_to_bf16_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(x, ldx, tokens, cols,
                                                                ctx.x_bf16.get());
    CUDA_CHECK_LAUNCH("rows_to_bf16_kernel");
    gemm_bf16(ctx.cublas, ctx.x_bf16.get(), tokens, cols, w, rows, y, ldy, accumulate ? 1.0f : 0.0f,
              stream);
    if (bias) {
        const std::size_t m = static_cast<std::size_t>(tokens) * static_cast<std::size_t>(rows);
        add_bias_kernel<<<blocks_for(m, 256), 256, 0, stream>>>(y, ldy, tokens, rows, bias);
        CUDA_CHECK_LAUNCH("add_bias_kernel");
    }
}

void embed_tokens(const std::uint16_t* embedding, const int* tokens, int count, int hidden,
                  float* x, cudaStream_t stream) {
    if (count <= 0) return;
    const std::size_t n = static_cast<std::size_t>(count) * static_cast<std::size_t>(hidden / 8);
    embed_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(embedding, tokens, count, hidden, x);
    CUDA_CHECK_LAUNCH("embed_kernel");
}

void to_bf16(const float* in, std::uint16_t* out, std::size_t n, cudaStream_t stream) {
    if (n == 0) return;
    to_bf16_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(in, out, n);
    CUDA_CHECK_LAUNCH("to_bf16_kernel");
}

}  // namespace gossamer::engine::cuda
