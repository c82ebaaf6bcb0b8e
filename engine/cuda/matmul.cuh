// Dense bf16 matmuls y[t, r] (+)= bias[r] + sum_c x[t, c] * W[r, c] with W [rows, cols] bf16
// row-major and fp32 x, y: a memory-bound GEMV kernel for small batches (one warp per weight
// row, 16-byte loads, up to 8 tokens per weight read, fp32 accumulation; matches the CPU to
// fp32 rounding) and cuBLAS bf16 GEMMs (fp32 accumulation, x rounded to bf16: ~3 significant
// digits) for large ones. Also the embedding gather.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "engine/cuda/device_buffer.h"

namespace gossamer::engine::cuda {

struct MatmulContext {
    cublasHandle_t cublas = nullptr;
    int gemv_max_tokens = 8;             // above this, cuBLAS (unless precise)
    bool precise = false;                // GEMV always
    DeviceBuffer<std::uint16_t> x_bf16;  // scratch: x rounded for cuBLAS
};

// accumulate: y += result (the residual add fused); else y = result. ldx, ldy in elements,
// cols % 8 == 0, x rows 16-byte aligned. x and y must not overlap.
void dense_matmul(MatmulContext& ctx, const float* x, int ldx, int tokens, const std::uint16_t* w,
                  int rows, int cols, const float* bias, float* y, int ldy, bool accumulate,
                  cudaStream_t stream);

// The GEMV path alone (tests compare both paths).
void gemv_bf16(const float* x, int ldx, int tokens, const std::uint16_t* w, int rows, int cols,
               const float* bias, float* y, int ldy, bool accumulate, cudaStream_t stream);

// y[i, :] = bf16 A[i, :] (rows m) times bf16 B[n, k]^T: C[m, n] fp32 row-major, ldc; beta 0 or 1.
void gemm_bf16(cublasHandle_t handle, const std::uint16_t* a, int m, int k, const std::uint16_t* b,
               int n, float* c, int ldc, float beta, cudaStream_t stream);

// x[t, :] = embedding[tokens[t], :] as fp32. embedding [vocab, hidden] bf16.
void embed_tokens(const std::uint16_t* embedding, const int* tokens, int count, int hidden,
                  float* x, cudaStream_t stream);

// out[i] = bf16(in[i]) for n elements.
void to_bf16(const float* in, std::uint16_t* out, std::size_t n, cudaStream_t stream);

}  // namespace gossamer::engine::cuda
