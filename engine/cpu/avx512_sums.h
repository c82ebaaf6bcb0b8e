// Internal to the AVX-512 matmul kernels (matmul_avx512.cpp, matmul_avx512_bf16.cpp): the
// horizontal sum and bf16 widening whose exact order both files must share, so that the
// vdpbf16ps kernel's results equal the fp32 kernel's bit for bit. Included only by files built
// with AVX-512 flags; everything here has internal linkage, so each includer compiles its own
// copy and the linker never hands one to a portable caller. No kernels here.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace gossamer::engine::cpu::detail {
namespace {

float bf16_scalar(std::uint16_t bits) {
    const std::uint32_t wide = static_cast<std::uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &wide, sizeof value);
    return value;
}

// The one horizontal sum of the bf16 kernels, as a fixed tree (not _mm512_reduce_add_ps,
// whose order is the compiler's): lanes i and i + 8, then i and i + 4, then i and i + 2,
// then the last two.
float hsum16(__m512 v) {
    const __m256 a =
        _mm256_add_ps(_mm512_castps512_ps256(v),
                      _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    const __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

}  // namespace
}  // namespace gossamer::engine::cpu::detail
