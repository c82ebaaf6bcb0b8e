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

#include <cstdlib>
#include <cstring>
#include <new>

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

// A thread's buffer of unpacked weight rows, 32-byte aligned, freed when the thread ends.
struct RowBuffer {
    std::uint8_t* data = nullptr;
    std::size_t capacity = 0;
    RowBuffer() = default;
    RowBuffer(const RowBuffer&) = delete;
    RowBuffer& operator=(const RowBuffer&) = delete;
    ~RowBuffer() { std::free(data); }
    std::uint8_t* reserve(std::size_t bytes) {
        if (capacity < bytes) {
            std::free(data);
            capacity = 0;
            data = static_cast<std::uint8_t*>(std::aligned_alloc(32, (bytes + 31) / 32 * 32));
            if (!data) throw std::bad_alloc();
            capacity = bytes;
        }
        return data;
    }
};

// MXFP4 x int8 activations (the q8 block layout of matmul_kernels.h). A block's 16 bytes
// become 32 unsigned weights (low nibbles in the low lane, high nibbles in the high lane) by
// one vpshufb; vpmaddubsw/vpmaddwd sum each block exactly in int32 lanes, and one FMA per
// (row, token, block) scales it by 2^(scale-128) * xd. Per row and token, the
// sum of 2^(scale-128) * xc (the unsigned offset) is taken off at the end.
struct Int8 {
    static constexpr int kChunk = 32;  // blocks whose combined scales sit on the stack

    // 2^(s - 128) for 8 scale bytes, exact for all 256 (two normal factors: no denormal
    // bit patterns and no overflow to inf).
    static __m256 block_scales(const std::uint8_t* s) {
        const __m256i e =
            _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s)));
        const __m256i half = _mm256_srli_epi32(e, 1);
        const __m256i bias = _mm256_set1_epi32(63);
        const __m256 a = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
        const __m256 b = _mm256_castsi256_ps(
            _mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(e, half), bias), 23));
        return _mm256_mul_ps(a, b);  // 2^(half - 64) * 2^(e - half - 64)
    }

    // A block's 16 bytes as 32 unsigned weights: low nibbles, then high nibbles. The bytes go
    // to both lanes; the high lane's dwords shift right by 4, so after the mask each byte
    // holds its high nibble (the bits shifted in from the next byte are masked off).
    static __m256i unpack(const std::uint8_t* block) {
        constexpr const std::uint8_t(&w)[16] = kUnsignedE2M1x2;  // in both lanes
        const __m256i table =
            _mm256_setr_epi8(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[10],
                             w[11], w[12], w[13], w[14], w[15], w[0], w[1], w[2], w[3], w[4], w[5],
                             w[6], w[7], w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15]);
        const __m256i shift = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
        const __m256i bytes =
            _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block)));
        const __m256i nibbles =
            _mm256_and_si256(_mm256_srlv_epi32(bytes, shift), _mm256_set1_epi8(0x0f));
        return _mm256_shuffle_epi8(table, nibbles);
    }

    // Rows r0 .. r0+R-1 for tokens t0 .. t0+T-1. w[r]: the row's MXFP4 blocks, unpacked per
    // use (Unpacked false), or the row already unpacked into 32 bytes per block (true).
    template <int R, int T, bool Unpacked>
    static void tile_of(const MatmulArgs& a, int r0, int t0, const std::uint8_t* const (&w)[R]) {
        const int groups = a.cols / 32;
        const std::uint8_t* scl[R];
        for (int r = 0; r < R; ++r)
            scl[r] = a.scales + static_cast<std::size_t>(r0 + r) * static_cast<std::size_t>(groups);
        const std::int8_t* xq[T];
        const float* xd[T];
        const float* xc[T];
        for (int t = 0; t < T; ++t) {
            xq[t] = a.xq + static_cast<std::size_t>(t0 + t) * a.ldq;
            xd[t] = a.xd + static_cast<std::size_t>(t0 + t) * a.lds;
            xc[t] = a.xc + static_cast<std::size_t>(t0 + t) * a.lds;
        }
        const __m256i ones = _mm256_set1_epi16(1);
        const std::size_t ahead = kPrefetchRows * static_cast<std::size_t>(groups) * 16;
        // Per chunk, the block sums accumulate in registers (acc), then into total.
        __m256 total[R][T], offset[R][T];
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < T; ++t) total[r][t] = offset[r][t] = _mm256_setzero_ps();
        alignas(32) float scale[R][T][kChunk];
        for (int g0 = 0; g0 < groups; g0 += kChunk) {
            const int n = groups - g0 < kChunk ? groups - g0 : kChunk;
            // This chunk's combined scales 2^(s-128) * xd, and the offset terms; a last group
            // of fewer than 8 blocks goes through zero-padded copies.
            for (int g = 0; g < n; g += 8) {
                const std::size_t first = static_cast<std::size_t>(g0 + g);
                const std::uint8_t* s[R];
                const float* d[T];
                const float* c[T];
                alignas(32) std::uint8_t spad[R][8];
                alignas(32) float dpad[T][8], cpad[T][8];
                if (n - g >= 8) {
                    for (int r = 0; r < R; ++r) s[r] = scl[r] + first;
                    for (int t = 0; t < T; ++t) {
                        d[t] = xd[t] + first;
                        c[t] = xc[t] + first;
                    }
                } else {  // the last blocks of the row: zero-padded copies
                    for (int i = 0; i < 8; ++i) {
                        const bool in = i < n - g;
                        const std::size_t at = first + static_cast<std::size_t>(in ? i : 0);
                        for (int r = 0; r < R; ++r) spad[r][i] = in ? scl[r][at] : 0;
                        for (int t = 0; t < T; ++t) {
                            dpad[t][i] = in ? xd[t][at] : 0.0f;
                            cpad[t][i] = in ? xc[t][at] : 0.0f;
                        }
                    }
                    for (int r = 0; r < R; ++r) s[r] = spad[r];
                    for (int t = 0; t < T; ++t) {
                        d[t] = dpad[t];
                        c[t] = cpad[t];
                    }
                }
                for (int r = 0; r < R; ++r) {
                    const __m256 ws = block_scales(s[r]);
                    for (int t = 0; t < T; ++t) {
                        _mm256_store_ps(&scale[r][t][g], _mm256_mul_ps(ws, _mm256_loadu_ps(d[t])));
                        offset[r][t] = _mm256_fmadd_ps(ws, _mm256_loadu_ps(c[t]), offset[r][t]);
                    }
                }
            }
            __m256 acc[R][T];
            for (int r = 0; r < R; ++r)
                for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
            for (int g = 0; g < n; ++g) {
                const std::size_t gg = static_cast<std::size_t>(g0 + g);
                __m256i wv[R];
                for (int r = 0; r < R; ++r) {
                    if constexpr (Unpacked) {
                        wv[r] = _mm256_load_si256(reinterpret_cast<const __m256i*>(w[r] + 32 * gg));
                    } else {
                        _mm_prefetch(reinterpret_cast<const char*>(w[r] + 16 * gg) + ahead,
                                     _MM_HINT_T0);
                        wv[r] = unpack(w[r] + 16 * gg);
                    }
                }
                for (int t = 0; t < T; ++t) {
                    const __m256i q =
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq[t] + 32 * gg));
                    for (int r = 0; r < R; ++r) {
                        const __m256i sums =
                            _mm256_madd_epi16(_mm256_maddubs_epi16(wv[r], q), ones);
                        acc[r][t] =
                            _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums),
                                            _mm256_broadcast_ss(&scale[r][t][g]), acc[r][t]);
                    }
                }
            }
            for (int r = 0; r < R; ++r)
                for (int t = 0; t < T; ++t) total[r][t] = _mm256_add_ps(total[r][t], acc[r][t]);
        }
        for (int r = 0; r < R; ++r) {
            const float b = a.bias ? a.bias[r0 + r] : 0.0f;
            for (int t = 0; t < T; ++t)
                a.y[static_cast<std::size_t>(t0 + t) * a.ldy + static_cast<std::size_t>(r0 + r)] =
                    b + (hsum(total[r][t]) - hsum(offset[r][t]));
        }
    }

    // One token: MXFP4 blocks unpacked as they stream by.
    template <int R, int T>
    static void tile(const MatmulArgs& a, int r0, int t0) {
        const std::size_t row_bytes = static_cast<std::size_t>(a.cols / 32) * 16;
        const std::uint8_t* w[R];
        for (int r = 0; r < R; ++r) w[r] = a.blocks + static_cast<std::size_t>(r0 + r) * row_bytes;
        tile_of<R, T, false>(a, r0, t0, w);
    }

    // Several tokens: kRowsUnpacked rows at a time unpacked once into a thread-local buffer
    // (L1), then each tile of up to 4 tokens of a block of kTokens (whose activations stay in
    // L2 while the rows go by) runs against every pair of them.
    static void rows_many(const MatmulArgs& a, int row_begin, int row_end) {
        constexpr int kTokens = 128;
        const int groups = a.cols / 32;
        thread_local RowBuffer unpacked;
        std::uint8_t* const buffer =
            unpacked.reserve(kRowsUnpacked * static_cast<std::size_t>(a.cols));
        const std::size_t row_bytes = static_cast<std::size_t>(groups) * 16;
        const auto cols = static_cast<std::size_t>(a.cols);
        for (int t0 = 0; t0 < a.tokens; t0 += kTokens) {
            const int t1 = a.tokens - t0 < kTokens ? a.tokens : t0 + kTokens;
            for (int r = row_begin; r < row_end; r += kRowsUnpacked) {
                const int n = row_end - r < kRowsUnpacked ? row_end - r : kRowsUnpacked;
                for (int i = 0; i < n; ++i) {
                    const std::uint8_t* src =
                        a.blocks + static_cast<std::size_t>(r + i) * row_bytes;
                    std::uint8_t* dst = buffer + static_cast<std::size_t>(i) * cols;
                    for (int g = 0; g < groups; ++g)
                        _mm256_store_si256(reinterpret_cast<__m256i*>(dst + 32 * g),
                                           unpack(src + 16 * static_cast<std::size_t>(g)));
                }
                // Each tile of tokens meets every pair of the unpacked rows while its
                // activations are in L1.
                for (int t = t0; t < t1; t += kMaxTokens) {
                    const int tn = t1 - t < kMaxTokens ? t1 - t : kMaxTokens;
                    int i = 0;
                    for (; i + 2 <= n; i += 2)
                        unpacked_tile<2>(a, r + i, t, tn,
                                         buffer + static_cast<std::size_t>(i) * cols);
                    if (i < n)
                        unpacked_tile<1>(a, r + i, t, tn,
                                         buffer + static_cast<std::size_t>(i) * cols);
                }
            }
        }
    }

    static constexpr int kRowsUnpacked = 4;  // 4 x 2880 bytes beside 4 tokens' 4 x 2880 in L1

    // Rows r0 .. r0+R-1 (unpacked at `rows`, one row per cols bytes) for tokens t0 .. t0+n-1.
    template <int R>
    static void unpacked_tile(const MatmulArgs& a, int r0, int t0, int n,
                              const std::uint8_t* rows) {
        const std::uint8_t* w[R];
        for (int r = 0; r < R; ++r)
            w[r] = rows + static_cast<std::size_t>(r) * static_cast<std::size_t>(a.cols);
        switch (n) {
            case 4:
                tile_of<R, 4, true>(a, r0, t0, w);
                break;
            case 3:
                tile_of<R, 3, true>(a, r0, t0, w);
                break;
            case 2:
                tile_of<R, 2, true>(a, r0, t0, w);
                break;
            default:
                tile_of<R, 1, true>(a, r0, t0, w);
                break;
        }
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

void avx2_mxfp4_int8(const MatmulArgs& a, int row_begin, int row_end) {
    if (a.tokens == 1) return rows_one_token<Int8>(a, row_begin, row_end);
    Int8::rows_many(a, row_begin, row_end);
}

constexpr MatmulKernels kKernels{"avx2",     {kGroup, kBf16Order.column},
                                 avx2_bf16,  {32, kMxfp4Order.column},
                                 avx2_mxfp4, avx2_mxfp4_int8};

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
