// AVX-512 BF16 kernel (this file is built with -mavx512bf16 besides the AVX-512 and VNNI
// flags and must only run after cpu_features() reports avx512_bf16): bf16 weights times bf16
// activations (DenseActivations::Bf16) with vdpbf16ps, 32 multiply-adds per instruction
// against 16 for the fp32 kernels, and no decode of the weights to fp32.
// Exactness: a bf16 x bf16 product is exact in fp32, and vdpbf16ps adds the two products of a
// dword lane to its accumulator one at a time, each rounded to nearest (DAZ and FTZ aside), in
// the order high half (the odd column), then low half. Each 64-byte weight load is rotated by
// 16 bits within its dwords and the activations arrive swapped the same way (MatmulArgs::xb),
// so a lane adds column 2i, then 2i + 1: the fp32 kernels' order. The tail and the horizontal
// sum are matmul_avx512.cpp's. So the results equal the avx512 bf16 kernel's on the same
// activations rounded to bf16, bit for bit, unless a value is subnormal.
// No std templates here: their AVX-512 instantiations could be linked into portable callers.
#include "engine/cpu/matmul_kernels.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512DQ__) && defined(__AVX512BF16__)

#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "engine/cpu/avx512_sums.h"
#include "engine/cpu/token_tiles.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC bug 105593, as matmul_avx512.cpp
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace gossamer::engine::cpu::detail {
namespace {

constexpr int kGroup = 32;       // columns per 64-byte load
constexpr int kRows = 4;         // rows per tile
constexpr int kTileTokens = 4;   // tokens per tile
constexpr int kTokenBlock = 64;  // tokens whose activations stay in L2 while rows stream by

// matmul_avx512.cpp's bf16_tail: the columns past the last full group, with explicit FMAs.
float tail_sum(const std::uint16_t* x, const std::uint16_t* w, int from, int to) {
    float sum = 0.0f;
    for (int c = from; c < to; ++c) sum = std::fma(bf16_scalar(x[c]), bf16_scalar(w[c]), sum);
    return sum;
}

template <int R, int T>
void tile(const MatmulArgs& a, int r0, int t0) {
    const auto cols = static_cast<std::size_t>(a.cols);
    const int full = a.cols / kGroup * kGroup;
    const std::uint16_t* w[R];
    for (int r = 0; r < R; ++r) w[r] = a.w_bf16 + static_cast<std::size_t>(r0 + r) * cols;
    const std::uint16_t* x[T];
    for (int t = 0; t < T; ++t) x[t] = a.xb + static_cast<std::size_t>(t0 + t) * a.ldxb;
    __m512 acc[R][T];
    for (int r = 0; r < R; ++r)
        for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
    // The tile's rows are contiguous, and so are the next tile's: one 64-byte line of the next
    // tile per row and group walks through all of it by the time this tile ends (for a row of
    // 2880 columns, 90 groups x 4 lines = 23 KB = 4 rows), so no row of it starts cold.
    const char* next =
        reinterpret_cast<const char*>(a.w_bf16 + static_cast<std::size_t>(r0 + R) * cols);
    for (int c = 0; c < full; c += kGroup) {
        __m512bh wr[R];
        for (int r = 0; r < R; ++r) {
            _mm_prefetch(next + (static_cast<std::size_t>(c / kGroup) * R + r) * 64, _MM_HINT_T0);
            wr[r] = (__m512bh)_mm512_rol_epi32(_mm512_loadu_si512(w[r] + c), 16);
        }
        for (int t = 0; t < T; ++t) {
            const __m512bh xv = (__m512bh)_mm512_load_si512(x[t] + c);
            for (int r = 0; r < R; ++r) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], wr[r], xv);
        }
    }
    for (int r = 0; r < R; ++r) {
        const float b = a.bias ? a.bias[r0 + r] : 0.0f;
        for (int t = 0; t < T; ++t)
            a.y[static_cast<std::size_t>(t0 + t) * a.ldy + static_cast<std::size_t>(r0 + r)] =
                b + (hsum16(acc[r][t]) + tail_sum(x[t], w[r], full, a.cols));
    }
}

// Rows in tiles of kRows (the last one shorter), each over the token block in tiles of
// kTileTokens: token_tiles.h's walk serves both.
void bf16_bf16(const MatmulArgs& a, int row_begin, int row_end) {
    for (int t0 = 0; t0 < a.tokens; t0 += kTokenBlock) {
        const int t1 = a.tokens - t0 < kTokenBlock ? a.tokens : t0 + kTokenBlock;
        by_token_tiles<kRows>(row_begin, row_end, [&]<int R>(int r) {
            by_token_tiles<kTileTokens>(t0, t1, [&]<int T>(int t) { tile<R, T>(a, r, t); });
        });
    }
}

}  // namespace

const MatmulKernels* avx512bf16_kernels() {
    const MatmulKernels* base = avx512vnni_kernels();
    if (!base) return nullptr;
    static const MatmulKernels kernels{
        "avx512bf16", base->bf16_packing, base->bf16, base->mxfp4_packing,
        base->mxfp4,  base->mxfp4_int8,   bf16_bf16};
    return &kernels;
}

}  // namespace gossamer::engine::cpu::detail

#pragma GCC diagnostic pop

#else  // not built for AVX-512 BF16 (not x86-64, or the per-file flags are missing)

const gossamer::engine::cpu::detail::MatmulKernels*
gossamer::engine::cpu::detail::avx512bf16_kernels() {
    return nullptr;
}

#endif
