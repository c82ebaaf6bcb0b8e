// Device helpers shared by the kernels: bf16 bits <-> float, 16-byte vector unpacking, warp
// reductions, MXFP4 (E2M1 + E8M0) decoding, and the KV cache's element types. bf16 values
// travel as their raw 16 bits (uint16_t) so host and device agree on layout without
// cuda_bf16.h in host headers.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace gossamer::engine::cuda {

inline int ceil_div(int a, int b) {
    return (a + b - 1) / b;
}

__device__ __forceinline__ float bf16_to_f32(std::uint16_t bits) {
    return __uint_as_float(static_cast<unsigned>(bits) << 16);
}

// Round to nearest even, as cpu::float_to_bf16.
__device__ __forceinline__ std::uint16_t f32_to_bf16(float v) {
    return __bfloat16_as_ushort(__float2bfloat16_rn(v));
}

// 8 bf16 values packed in 16 bytes -> 8 floats (element 0 in the low half of .x).
__device__ __forceinline__ void unpack_bf16x8(const uint4& v, float out[8]) {
    out[0] = __uint_as_float(v.x << 16);
    out[1] = __uint_as_float(v.x & 0xffff0000u);
    out[2] = __uint_as_float(v.y << 16);
    out[3] = __uint_as_float(v.y & 0xffff0000u);
    out[4] = __uint_as_float(v.z << 16);
    out[5] = __uint_as_float(v.z & 0xffff0000u);
    out[6] = __uint_as_float(v.w << 16);
    out[7] = __uint_as_float(v.w & 0xffff0000u);
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int offset = 16; offset > 0; offset >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// E2M1 value of a nibble (gpt-oss MXFP4, low nibble = even column), built from its bits:
// magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6; bit 3 is the sign.
__device__ __forceinline__ float e2m1(unsigned nibble) {
    const unsigned mag = nibble & 7u;
    unsigned bits = mag >= 2u ? (((mag >> 1) + 126u) << 23) | ((mag & 1u) << 22)
                              : (mag != 0u ? 0x3F000000u : 0u);
    bits |= (nibble & 8u) << 28;
    return __uint_as_float(bits);
}

// Decodes one MXFP4 block (16 bytes = 32 values, scale byte `e`, value * 2^(e-127)) to 32
// floats, exactly as cpu::mxfp4_value (ldexp), including the scale bytes 0 and 255.
__device__ __forceinline__ void decode_mxfp4_block(const uint4& block, unsigned e, float out[32]) {
    const unsigned words[4] = {block.x, block.y, block.z, block.w};
    if (e >= 1u && e <= 254u) {
        const float scale = __uint_as_float(e << 23);  // exactly 2^(e-127)
#pragma unroll
        for (int w = 0; w < 4; ++w)
#pragma unroll
            for (int b = 0; b < 4; ++b) {
                const unsigned byte = (words[w] >> (8 * b)) & 0xffu;
                out[w * 8 + 2 * b] = e2m1(byte) * scale;
                out[w * 8 + 2 * b + 1] = e2m1(byte >> 4) * scale;
            }
    } else {
        const int exponent = static_cast<int>(e) - 127;
#pragma unroll
        for (int w = 0; w < 4; ++w)
#pragma unroll
            for (int b = 0; b < 4; ++b) {
                const unsigned byte = (words[w] >> (8 * b)) & 0xffu;
                out[w * 8 + 2 * b] = ldexpf(e2m1(byte), exponent);
                out[w * 8 + 2 * b + 1] = ldexpf(e2m1(byte >> 4), exponent);
            }
    }
}

// KV cache element access: float (precise) or bf16 bits.
__device__ __forceinline__ float kv_load(const float* p) {
    return *p;
}
__device__ __forceinline__ float kv_load(const std::uint16_t* p) {
    return bf16_to_f32(*p);
}
__device__ __forceinline__ void kv_store(float* p, float v) {
    *p = v;
}
__device__ __forceinline__ void kv_store(std::uint16_t* p, float v) {
    *p = f32_to_bf16(v);
}

// A counter-based hash -> uniform float in [-1, 1) (random weights and caches).
__device__ __forceinline__ float hash_uniform(std::uint64_t seed, std::uint64_t index) {
    std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + index + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<float>(static_cast<std::uint32_t>(z >> 40)) * (1.0f / 8388608.0f) - 1.0f;
}

}  // namespace gossamer::engine::cuda
