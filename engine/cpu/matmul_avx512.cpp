// AVX-512 matmul kernels (F/BW/VL/DQ; this file is built with those -m flags and must only run
// after cpu_features() reports them). Weights are decoded in registers, a 32-column group at a
// time, and each decoded group is used by a tile of up to 4 rows x 4 tokens:
//   bf16:  one 64-byte load holds 32 values; <<16 gives the even columns, &0xffff0000 the odd.
//   MXFP4: the block's 16 bytes widened to 16 dwords index a 16-entry table already multiplied
//          by the block's scale (vpermps reads the low 4 bits: low nibbles = even columns, >>4
//          the odd ones). Broadcasting the bytes and shifting each lane by a different amount
//          (as matmul_avx2.cpp does) saves the widening shuffle but measured slower on Zen 4.
// The activations arrive packed in the order these registers hold (kEvenOdd: even columns,
// then odd ones, for both formats).
// No std templates here: their AVX-512 instantiations could be linked into portable callers.
#include "engine/cpu/matmul_kernels.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)

#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "engine/cpu/avx512_sums.h"

// GCC 12's AVX-512 intrinsics start from a self-initialised "undefined" register, which
// -Wuninitialized reports once inlined (GCC bug 105593, fixed in GCC 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)  // GCC only: clang has no such group (the fuzz preset builds with clang)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace gossamer::engine::cpu::detail {
namespace {

constexpr int kGroup = 32;       // columns per decoded group
constexpr int kMaxRows = 4;      // rows per tile
constexpr int kMaxTokens = 4;    // tokens per tile
constexpr int kTokenBlock = 64;  // tokens whose activations stay in L2 while rows stream by
// Software prefetch for single-token products (decode); gossamer_bench_matmul, 2 threads,
// builds A/B interleaved, Zen 5. MXFP4 rows are short (1.4 KiB at 20b widths) and a tile's
// rows lie side by side: the same place 8 rows on (two tiles ahead) gives +30% at 1 token
// over no prefetch and +25% over 2 KiB ahead (+10% at 4 tokens, -4% at 32). bf16 rows are
// long (5.6 KiB): 2 KiB ahead in the same row, +17% in one session and neutral in another
// (the host's bandwidth drifted between 29 and 71 GB/s).
constexpr int kPrefetchBytes = 2048;
constexpr std::size_t kPrefetchRows = 8;

// Packed position -> column within a 32-column group (matmul_kernels.h, Packing): even
// columns (low halves of bf16 pairs, low nibbles), then odd ones.
struct Order {
    std::uint8_t column[kGroup];
};

constexpr Order even_odd_order() {
    Order o{};
    for (int i = 0; i < kGroup / 2; ++i) {
        o.column[i] = static_cast<std::uint8_t>(2 * i);
        o.column[kGroup / 2 + i] = static_cast<std::uint8_t>(2 * i + 1);
    }
    return o;
}

constexpr Order kEvenOdd = even_odd_order();

// The columns past the last full group, in order: sum of x[c] * w[c] for c in [from, to),
// with explicit FMAs, so that no tile size contracts or vectorises it differently (GCC's
// default -ffp-contract=fast did: a token's result changed with the token count).
float bf16_tail(const float* x, const std::uint16_t* w, int from, int to) {
    float sum = 0.0f;
    for (int c = from; c < to; ++c) sum = std::fma(x[c], bf16_scalar(w[c]), sum);
    return sum;
}

// Multiplies R decoded rows (even and odd halves) into the R x T accumulators.
template <int R, int T>
inline void accumulate(const __m512 (&we)[R], const __m512 (&wo)[R], const float* const (&x)[T],
                       int c, __m512 (&acc)[R][T]) {
    for (int t = 0; t < T; ++t) {
        const __m512 xe = _mm512_load_ps(x[t] + c);
        const __m512 xo = _mm512_load_ps(x[t] + c + 16);
        for (int r = 0; r < R; ++r) {
            acc[r][t] = _mm512_fmadd_ps(we[r], xe, acc[r][t]);
            acc[r][t] = _mm512_fmadd_ps(wo[r], xo, acc[r][t]);
        }
    }
}

template <int R, int T>
inline void store(const MatmulArgs& a, int r0, int t0, __m512 (&acc)[R][T], float (&tail)[R][T]) {
    for (int r = 0; r < R; ++r) {
        const float b = a.bias ? a.bias[r0 + r] : 0.0f;
        for (int t = 0; t < T; ++t)
            a.y[static_cast<std::size_t>(t0 + t) * a.ldy + static_cast<std::size_t>(r0 + r)] =
                b + (hsum16(acc[r][t]) + tail[r][t]);
    }
}

struct Bf16 {
    template <int R, int T>
    static void tile(const MatmulArgs& a, int r0, int t0) {
        const auto cols = static_cast<std::size_t>(a.cols);
        const int full = a.cols / kGroup * kGroup;
        const std::uint16_t* w[R];
        for (int r = 0; r < R; ++r) w[r] = a.w_bf16 + static_cast<std::size_t>(r0 + r) * cols;
        const float* x[T];
        for (int t = 0; t < T; ++t) x[t] = a.x + static_cast<std::size_t>(t0 + t) * a.ldx;
        __m512 acc[R][T];
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
        const __m512i odd_mask = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
        for (int c = 0; c < full; c += kGroup) {
            __m512 we[R], wo[R];
            for (int r = 0; r < R; ++r) {
                _mm_prefetch(reinterpret_cast<const char*>(w[r] + c) + kPrefetchBytes, _MM_HINT_T0);
                const __m512i p = _mm512_loadu_si512(w[r] + c);
                we[r] = _mm512_castsi512_ps(_mm512_slli_epi32(p, 16));
                wo[r] = _mm512_castsi512_ps(_mm512_and_si512(p, odd_mask));
            }
            accumulate<R, T>(we, wo, x, c, acc);
        }
        float tail[R][T];
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < T; ++t) tail[r][t] = bf16_tail(x[t], w[r], full, a.cols);
        store<R, T>(a, r0, t0, acc, tail);
    }
};

struct Mxfp4 {
    template <int R, int T>
    static void tile(const MatmulArgs& a, int r0, int t0) {
        const auto groups = static_cast<std::size_t>(a.cols / kGroup);
        const std::uint8_t* blk[R];
        const std::uint8_t* scl[R];
        for (int r = 0; r < R; ++r) {
            blk[r] = a.blocks + static_cast<std::size_t>(r0 + r) * groups * 16;
            scl[r] = a.scales + static_cast<std::size_t>(r0 + r) * groups;
        }
        const float* x[T];
        for (int t = 0; t < T; ++t) x[t] = a.x + static_cast<std::size_t>(t0 + t) * a.ldx;
        __m512 acc[R][T];
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
        const std::size_t ahead = kPrefetchRows * groups * 16;
        for (std::size_t g = 0; g < groups; ++g) {
            __m512 we[R], wo[R];
            for (int r = 0; r < R; ++r) {
                _mm_prefetch(reinterpret_cast<const char*>(blk[r] + 16 * g) + ahead, _MM_HINT_T0);
                const __m512i idx = _mm512_cvtepu8_epi32(
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[r] + 16 * g)));
                const __m512 lut = _mm512_load_ps(a.mxfp4_lut + 16 * scl[r][g]);
                we[r] = _mm512_permutexvar_ps(idx, lut);
                wo[r] = _mm512_permutexvar_ps(_mm512_srli_epi32(idx, 4), lut);
            }
            accumulate<R, T>(we, wo, x, static_cast<int>(g) * kGroup, acc);
        }
        float tail[R][T] = {};
        store<R, T>(a, r0, t0, acc, tail);
    }
};

template <class F, int R>
void token_tiles(const MatmulArgs& a, int r0, int t_begin, int t_end) {
    int t = t_begin;
    for (; t + kMaxTokens <= t_end; t += kMaxTokens) F::template tile<R, kMaxTokens>(a, r0, t);
    switch (t_end - t) {
        case 3:
            F::template tile<R, 3>(a, r0, t);
            break;
        case 2:
            F::template tile<R, 2>(a, r0, t);
            break;
        case 1:
            F::template tile<R, 1>(a, r0, t);
            break;
        default:
            break;
    }
}

template <class F>
void rows(const MatmulArgs& a, int row_begin, int row_end) {
    for (int t0 = 0; t0 < a.tokens; t0 += kTokenBlock) {
        const int t1 = a.tokens - t0 < kTokenBlock ? a.tokens : t0 + kTokenBlock;
        int r = row_begin;
        for (; r + kMaxRows <= row_end; r += kMaxRows) token_tiles<F, kMaxRows>(a, r, t0, t1);
        switch (row_end - r) {
            case 3:
                token_tiles<F, 3>(a, r, t0, t1);
                break;
            case 2:
                token_tiles<F, 2>(a, r, t0, t1);
                break;
            case 1:
                token_tiles<F, 1>(a, r, t0, t1);
                break;
            default:
                break;
        }
    }
}

void avx512_bf16(const MatmulArgs& a, int row_begin, int row_end) {
    rows<Bf16>(a, row_begin, row_end);
}

void avx512_mxfp4(const MatmulArgs& a, int row_begin, int row_end) {
    rows<Mxfp4>(a, row_begin, row_end);
}

constexpr MatmulKernels kKernels{
    "avx512", {kGroup, kEvenOdd.column}, avx512_bf16, {kGroup, kEvenOdd.column}, avx512_mxfp4,
    nullptr,  // int8: the AVX2 kernel (matmul.cpp, int8_kernel)
    nullptr};

}  // namespace

const MatmulKernels* avx512_kernels() {
    return &kKernels;
}

}  // namespace gossamer::engine::cpu::detail

#pragma GCC diagnostic pop

#else  // not built for AVX-512 (not x86-64, or the per-file flags are missing)

const gossamer::engine::cpu::detail::MatmulKernels*
gossamer::engine::cpu::detail::avx512_kernels() {
    return nullptr;
}

#endif
