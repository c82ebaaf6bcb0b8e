#include "engine/cuda/common.cuh"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/norm.cuh"

namespace gossamer::engine::cuda {
namespace {

constexpr int kNormThreads = 256;
constexpr float kRmsNormEps = 1e-5f;  // cpu/norm.h

__global__ void __launch_bounds__(kNormThreads)
    rms_norm_kernel(const float* __restrict__ x, const int* __restrict__ rows, int width,
                    const float* __restrict__ gain, float* __restrict__ y) {
    const int i = static_cast<int>(blockIdx.x);
    const int src = rows ? rows[i] : i;
    const float* in = x + static_cast<std::size_t>(src) * width;
    float* out = y + static_cast<std::size_t>(i) * width;
    double sum = 0;
    for (int c = static_cast<int>(threadIdx.x); c < width; c += kNormThreads)
        sum += static_cast<double>(in[c]) * in[c];
    for (int offset = 16; offset > 0; offset >>= 1)
        sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    __shared__ double partial[kNormThreads / 32];
    __shared__ float inv;
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x / 32] = sum;
    __syncthreads();
    if (threadIdx.x == 0) {
        double total = 0;
        for (int w = 0; w < kNormThreads / 32; ++w) total += partial[w];
        inv = 1.0f / sqrtf(static_cast<float>(total / width) + kRmsNormEps);
    }
    __syncthreads();
    for (int c = static_cast<int>(threadIdx.x); c < width; c += kNormThreads)
        out[c] = in[c] * inv * gain[c];
}

}  // namespace

void rms_norm(const float* x, const int* rows, int count, int width, const float* gain, float* y,
              cudaStream_t stream) {
    if (count <= 0) return;
    rms_norm_kernel<<<static_cast<unsigned>(count), kNormThreads, 0, stream>>>(x, rows, width, gain,
                                                                               y);
    CUDA_CHECK_LAUNCH("rms_norm_kernel");
}

}  // namespace gossamer::engine::cuda
