// Counter-based random fills of device memory (random weights, benchmark KV caches): every
// value is a pure function of (seed, element index), so runs are reproducible.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace gossamer::engine::cuda {

// bf16 bits of scale * U[-1, 1).
void fill_bf16(std::uint16_t* out, std::size_t n, std::uint64_t seed, float scale,
               cudaStream_t stream);
// center + scale * U[-1, 1).
void fill_f32(float* out, std::size_t n, std::uint64_t seed, float center, float scale,
              cudaStream_t stream);
// Bytes uniform in [lo, lo + span).
void fill_u8(std::uint8_t* out, std::size_t n, std::uint64_t seed, int lo, int span,
             cudaStream_t stream);

}  // namespace gossamer::engine::cuda
