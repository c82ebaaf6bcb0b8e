#include "engine/cuda/common.cuh"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/random_fill.cuh"

namespace gossamer::engine::cuda {
namespace {

constexpr unsigned kGrid = 2048, kThreads = 256;

__global__ void fill_bf16_kernel(std::uint16_t* out, std::size_t n, std::uint64_t seed,
                                 float scale) {
    for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
        out[i] = f32_to_bf16(scale * hash_uniform(seed, i));
}

__global__ void fill_f32_kernel(float* out, std::size_t n, std::uint64_t seed, float center,
                                float scale) {
    for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
        out[i] = center + scale * hash_uniform(seed, i);
}

__global__ void fill_u8_kernel(std::uint8_t* out, std::size_t n, std::uint64_t seed, int lo,
                               int span) {
    for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
        const float u = 0.5f * (hash_uniform(seed, i) + 1.0f);  // [0, 1)
        out[i] = static_cast<std::uint8_t>(lo + min(span - 1, static_cast<int>(u * span)));
    }
}

}  // namespace

void fill_bf16(std::uint16_t* out, std::size_t n, std::uint64_t seed, float scale,
               cudaStream_t stream) {
    if (n == 0) return;
    fill_bf16_kernel<<<kGrid, kThreads, 0, stream>>>(out, n, seed, scale);
    CUDA_CHECK_LAUNCH("fill_bf16_kernel");
}

void fill_f32(float* out, std::size_t n, std::uint64_t seed, float center, float scale,
              cudaStream_t stream) {
    if (n == 0) return;
    fill_f32_kernel<<<kGrid, kThreads, 0, stream>>>(out, n, seed, center, scale);
    CUDA_CHECK_LAUNCH("fill_f32_kernel");
}

void fill_u8(std::uint8_t* out, std::size_t n, std::uint64_t seed, int lo, int span,
             cudaStream_t stream) {
    if (n == 0) return;
    fill_u8_kernel<<<kGrid, kThreads, 0, stream>>>(out, n, seed, lo, span);
    CUDA_CHECK_LAUNCH("fill_u8_kernel");
}

}  // namespace gossamer::engine::cuda
