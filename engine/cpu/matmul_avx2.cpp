// AVX2 + FMA matmul kernels (this file is built with -mavx2 -mfma -mf16c and must only run
// after cpu_features() reports them). Weights are decoded in registers, a 16-column group at a
// time, and each decoded group is used by a tile of up to 2 rows x 4 tokens (4 rows x 1 token
// for decode), which fits the 16 ymm registers:
//   bf16:  one 32-byte load holds 16 values; <<16 gives the even columns, &0xffff0000 the odd.
//   MXFP4: the block's 16 bytes broadcast to both 128-bit lanes; per-lane shifts (0/8 and
//          16/24 bits, +4 for high nibbles) bring a different nibble to the bottom of each
//          dword, which indexes the block's 8 scaled magnitudes (vpermps reads the low 3 bits);
//          bit 3 of the nibble, shifted to bit 31, is the sign. A block is 32 columns.
// The activations arrive packed in the order these registers hold (kBf16Order, kMxfp4Order).
// No std templates here: their AVX2 instantiations could be linked into portable callers.
#include "engine/cpu/matmul_kernels.h"

#if defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

#include <cstring>

namespace gossamer::engine::cpu::detail {
namespace {

constexpr int kGroup = 16;       // columns per decoded group
constexpr int kMaxTokens = 4;    // tokens per tile
constexpr int kTokenBlock = 64;  // tokens whose activations stay in L2 while rows stream by
// Software prefetch as in matmul_avx512.cpp: with --isa avx2 on Zen 5, +10-15% for bf16 at
// batch 1; MXFP4 unchanged (bound by its nibble decode at ~13 GB/s).
constexpr int kPrefetchBytes = 2048;      // bf16: ahead in the same row
constexpr std::size_t kPrefetchRows = 8;  // MXFP4: the same place 8 rows on

// Packed position -> column within a group (matmul_kernels.h, Packing).
struct Order {
    std::uint8_t column[32];
};

// bf16, 16-column groups: even columns (low halves of the dwords), then odd (high halves).
constexpr Order bf16_order() {
    Order o{};
    for (int i = 0; i < 8; ++i) {
        o.column[i] = static_cast<std::uint8_t>(2 * i);
        o.column[8 + i] = static_cast<std::uint8_t>(2 * i + 1);
    }
    return o;
}

// MXFP4, 32-column blocks, four registers: dword lane i = 4L + k (128-bit lane L, dword k)
// holds bytes 4k..4k+3 and is shifted right by 8L (register 0), 8L + 4 (1), 8L + 16 (2),
// 8L + 20 (3): low nibble of byte 4k + L, its high nibble, then the same for byte 4k + 2 + L.
constexpr Order mxfp4_order() {
    Order o{};
    for (int i = 0; i < 8; ++i) {
        const int byte = 4 * (i % 4) + i / 4;
        o.column[i] = static_cast<std::uint8_t>(2 * byte);
        o.column[8 + i] = static_cast<std::uint8_t>(2 * byte + 1);
        o.column[16 + i] = static_cast<std::uint8_t>(2 * (byte + 2));
        o.column[24 + i] = static_cast<std::uint8_t>(2 * (byte + 2) + 1);
    }
    return o;
}

constexpr Order kBf16Order = bf16_order();
constexpr Order kMxfp4Order = mxfp4_order();

float bf16_scalar(std::uint16_t bits) {
    const std::uint32_t wide = static_cast<std::uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &wide, sizeof value);
    return value;
}

float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

template <int R, int T>
inline void accumulate(const __m256 (&we)[R], const __m256 (&wo)[R], const float* const (&x)[T],
                       int c, __m256 (&acc)[R][T]) {
    for (int t = 0; t < T; ++t) {
        const __m256 xe = _mm256_load_ps(x[t] + c);
        const __m256 xo = _mm256_load_ps(x[t] + c + 8);
        for (int r = 0; r < R; ++r) {
            acc[r][t] = _mm256_fmadd_ps(we[r], xe, acc[r][t]);
            acc[r][t] = _mm256_fmadd_ps(wo[r], xo, acc[r][t]);
        }
    }
}

template <int R, int T>
inline void store(const MatmulArgs& a, int r0, int t0, __m256 (&acc)[R][T], float (&tail)[R][T]) {
    for (int r = 0; r < R; ++r) {
        const float b = a.bias ? a.bias[r0 + r] : 0.0f;
        for (int t = 0; t < T; ++t)
            a.y[static_cast<std::size_t>(t0 + t) * a.ldy + static_cast<std::size_t>(r0 + r)] =
                b + (hsum(acc[r][t]) + tail[r][t]);
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
        __m256 acc[R][T];
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
        const __m256i odd_mask = _mm256_set1_epi32(static_cast<int>(0xffff0000u));
        for (int c = 0; c < full; c += kGroup) {
            __m256 we[R], wo[R];
            for (int r = 0; r < R; ++r) {
                _mm_prefetch(reinterpret_cast<const char*>(w[r] + c) + kPrefetchBytes, _MM_HINT_T0);
                const __m256i p = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[r] + c));
                we[r] = _mm256_castsi256_ps(_mm256_slli_epi32(p, 16));
                wo[r] = _mm256_castsi256_ps(_mm256_and_si256(p, odd_mask));
            }
            accumulate<R, T>(we, wo, x, c, acc);
        }
        float tail[R][T] = {};
        for (int c = full; c < a.cols; ++c)
            for (int r = 0; r < R; ++r)
                for (int t = 0; t < T; ++t) tail[r][t] += x[t][c] * bf16_scalar(w[r][c]);
        store<R, T>(a, r0, t0, acc, tail);
    }
};

// Eight nibbles (low 4 bits of each dword of idx) to their values, given the block's scaled
// magnitudes lut[0..7].
inline __m256 decode8(__m256i idx, __m256 magnitudes) {
    const __m256 mag = _mm256_permutevar8x32_ps(magnitudes, idx);
    const __m256i sign = _mm256_and_si256(_mm256_slli_epi32(idx, 28),
                                          _mm256_set1_epi32(static_cast<int>(0x80000000u)));
    return _mm256_xor_ps(mag, _mm256_castsi256_ps(sign));
}

struct Mxfp4 {
    template <int R, int T>
    static void tile(const MatmulArgs& a, int r0, int t0) {
        const auto groups = static_cast<std::size_t>(a.cols / 32);
        const std::uint8_t* blk[R];
        const std::uint8_t* scl[R];
        for (int r = 0; r < R; ++r) {
            blk[r] = a.blocks + static_cast<std::size_t>(r0 + r) * groups * 16;
            scl[r] = a.scales + static_cast<std::size_t>(r0 + r) * groups;
        }
        const float* x[T];
        for (int t = 0; t < T; ++t) x[t] = a.x + static_cast<std::size_t>(t0 + t) * a.ldx;
        __m256 acc[R][T];
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
        const __m256i shift = _mm256_set_epi32(8, 8, 8, 8, 0, 0, 0, 0);  // lanes 7..0
        const std::size_t ahead = kPrefetchRows * groups * 16;
        for (std::size_t g = 0; g < groups; ++g) {
            __m256i bytes[R];
            __m256 mag[R];
            for (int r = 0; r < R; ++r) {
                _mm_prefetch(reinterpret_cast<const char*>(blk[r] + 16 * g) + ahead, _MM_HINT_T0);
                bytes[r] = _mm256_broadcastsi128_si256(
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[r] + 16 * g)));
                mag[r] = _mm256_load_ps(a.mxfp4_lut + 16 * scl[r][g]);
            }
            for (int half = 0; half < 2; ++half) {  // bytes 4k + L, then bytes 4k + 2 + L
                const __m256i lo = _mm256_add_epi32(shift, _mm256_set1_epi32(16 * half));
                const __m256i hi = _mm256_add_epi32(lo, _mm256_set1_epi32(4));
                __m256 we[R], wo[R];
                for (int r = 0; r < R; ++r) {
                    we[r] = decode8(_mm256_srlv_epi32(bytes[r], lo), mag[r]);
                    wo[r] = decode8(_mm256_srlv_epi32(bytes[r], hi), mag[r]);
                }
                accumulate<R, T>(we, wo, x, static_cast<int>(g) * 32 + half * kGroup, acc);
            }
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

// One token: 4 rows at a time, so enough loads are in flight to keep up with memory.
template <class F>
void rows_one_token(const MatmulArgs& a, int row_begin, int row_end) {
    int r = row_begin;
    for (; r + 4 <= row_end; r += 4) F::template tile<4, 1>(a, r, 0);
    for (; r < row_end; ++r) F::template tile<1, 1>(a, r, 0);
}

template <class F>
void rows(const MatmulArgs& a, int row_begin, int row_end) {
    if (a.tokens == 1) return rows_one_token<F>(a, row_begin, row_end);
    for (int t0 = 0; t0 < a.tokens; t0 += kTokenBlock) {
        const int t1 = a.tokens - t0 < kTokenBlock ? a.tokens : t0 + kTokenBlock;
        int r = row_begin;
        for (; r + 2 <= row_end; r += 2) token_tiles<F, 2>(a, r, t0, t1);
        if (r < row_end) token_tiles<F, 1>(a, r, t0, t1);
    }
}

void avx2_bf16(const MatmulArgs& a, int row_begin, int row_end) {
    rows<Bf16>(a, row_begin, row_end);
}

void avx2_mxfp4(const MatmulArgs& a, int row_begin, int row_end) {
    rows<Mxfp4>(a, row_begin, row_end);
}

constexpr MatmulKernels kKernels{
    "avx2", {kGroup, kBf16Order.column}, avx2_bf16, {32, kMxfp4Order.column}, avx2_mxfp4};

}  // namespace

const MatmulKernels* avx2_kernels() {
    return &kKernels;
}

}  // namespace gossamer::engine::cpu::detail

#else  // not built for AVX2 (not x86-64, or the per-file flags are missing)

const gossamer::engine::cpu::detail::MatmulKernels* gossamer::engine::cpu::detail::avx2_kernels() {
    return nullptr;
}

#endif
