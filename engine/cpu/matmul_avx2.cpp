// AVX2 + FMA matmul kernels (this file is built with -mavx2 -mfma -mf16c and must only run
// after cpu_features() reports them). Weights are decoded in registers, a 16-column group at a
// time, and each decoded group is used by a tile of up to 2 rows x 4 tokens (4 rows x 1 token
// for decode), which fits the 16 ymm registers:
//   bf16:  one 32-byte load holds 16 values; <<16 gives the even columns, &0xffff0000 the odd.
//          From 16 tokens on, Bf16Gemm: the same sums from 16-row fp32 panels converted once.
//   MXFP4: the block's 16 bytes broadcast to both 128-bit lanes; per-lane shifts (0/8 and
//          16/24 bits, +4 for high nibbles) bring a different nibble to the bottom of each
//          dword, which indexes the block's 8 scaled magnitudes (vpermps reads the low 3 bits);
//          bit 3 of the nibble, shifted to bit 31, is the sign. A block is 32 columns.
//   MXFP4 x int8 activations: Int8, eight rows per register, reading the stored layout or the
//          16-row tiles of engine/mxfp4_tiles.h (one stream per tile at decode).
// The activations arrive packed in the order these registers hold (kBf16Order, kMxfp4Order).
// No std templates here: their AVX2 instantiations could be linked into portable callers.
#include "engine/cpu/matmul_kernels.h"
#include "engine/cpu/token_tiles.h"

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

// The columns past the last full group, in order: sum of x[c] * w[c] for c in [from, to).
// Both bf16 paths use this one function, so that they round alike.
float bf16_tail(const float* x, const std::uint16_t* w, int from, int to) {
    float sum = 0.0f;
    for (int c = from; c < to; ++c) sum += x[c] * bf16_scalar(w[c]);
    return sum;
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

// v[i][k] -> v[k][i] for 8 x 8 dwords.
void transpose8x8(__m256i (&v)[8]) {
    __m256i a[8], b[8];
    for (int i = 0; i < 8; i += 2) {
        a[i] = _mm256_unpacklo_epi32(v[i], v[i + 1]);
        a[i + 1] = _mm256_unpackhi_epi32(v[i], v[i + 1]);
    }
    for (int i = 0; i < 8; i += 4)
        for (int j = 0; j < 2; ++j) {
            b[i + j] = _mm256_unpacklo_epi64(a[i + j], a[i + j + 2]);
            b[i + j + 2] = _mm256_unpackhi_epi64(a[i + j], a[i + j + 2]);
        }
    // b[0]: columns 0 of rows 0-3 | 4 of rows 0-3 ... per 128-bit lane; b[4..7]: rows 4-7.
    const int order[4] = {0, 2, 1, 3};  // b[] holds columns 0, 2, 1, 3 (+4 in lane 1)
    for (int j = 0; j < 4; ++j) {
        v[order[j]] = _mm256_permute2x128_si256(b[j], b[j + 4], 0x20);
        v[order[j] + 4] = _mm256_permute2x128_si256(b[j], b[j + 4], 0x31);
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
        float tail[R][T];
        for (int r = 0; r < R; ++r)
            for (int t = 0; t < T; ++t) tail[r][t] = bf16_tail(x[t], w[r], full, a.cols);
        store<R, T>(a, r0, t0, acc, tail);
    }
};

// bf16 with many tokens, as a packed GEMM that computes exactly what Bf16::tile computes.
// Bf16::tile sums each y[t, r] in eight FMA chains, one per register lane l, over the packed
// positions 16g + l and 16g + 8 + l of every group g in order (columns 16g + 2l and
// 16g + 2l + 1), then adds the lanes as hsum() does, then the tail, then the bias. Here a panel
// of 16 rows is converted to fp32 once and stored lane by lane ([lane][group][even, odd][16
// rows] floats, L2-resident), and each chain is computed for 16 rows x 6 tokens at once: 12
// accumulators, one broadcast per token and column, every FMA useful. Same chains, same
// additions, so a token's result does not depend on the token count or the path: decode,
// chunked prefill and a full forward agree bit for bit.
struct Bf16Gemm {
    static constexpr int kRows = 16;
    static constexpr int kTokens = 6;
    static constexpr int kMinTokens = 16;    // below this the per-panel conversion does not pay
    static constexpr int kChunkGroups = 16;  // 256 columns: a token tile's activations in L1

    static std::size_t at(int groups, int lane, int g, int odd) {
        return ((static_cast<std::size_t>(lane) * static_cast<std::size_t>(groups) +
                 static_cast<std::size_t>(g)) *
                    2 +
                static_cast<std::size_t>(odd)) *
               kRows;
    }

    // Rows r0 .. r0+n-1 (n <= 16, zeros past n) of the full groups into the panel.
    static void pack(const MatmulArgs& a, int r0, int n, float* panel) {
        const auto cols = static_cast<std::size_t>(a.cols);
        const int groups = a.cols / kGroup;
        const __m256i odd_mask = _mm256_set1_epi32(static_cast<int>(0xffff0000u));
        for (int half = 0; half < 2; ++half) {
            const std::uint16_t* w[8];
            for (int i = 0; i < 8; ++i) {
                const int r = 8 * half + i;
                w[i] = r < n ? a.w_bf16 + static_cast<std::size_t>(r0 + r) * cols : nullptr;
            }
            for (int g = 0; g < groups; ++g) {
                __m256i even[8], odd[8];
                for (int i = 0; i < 8; ++i) {
                    if (!w[i]) {
                        even[i] = odd[i] = _mm256_setzero_si256();
                        continue;
                    }
                    const __m256i p =
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[i] + kGroup * g));
                    even[i] = _mm256_slli_epi32(p, 16);
                    odd[i] = _mm256_and_si256(p, odd_mask);
                }
                transpose8x8(even);  // even[l]: lane l's even column of the 8 rows
                transpose8x8(odd);
                for (int l = 0; l < 8; ++l) {
                    _mm256_store_si256(
                        reinterpret_cast<__m256i*>(panel + at(groups, l, g, 0) + 8 * half),
                        even[l]);
                    _mm256_store_si256(
                        reinterpret_cast<__m256i*>(panel + at(groups, l, g, 1) + 8 * half), odd[l]);
                }
            }
        }
    }

    // Tokens t0 .. t0+T-1 against the panel of rows r0 .. r0+n-1.
    template <int T>
    static void tile(const MatmulArgs& a, int r0, int n, int t0, const float* panel) {
        const int groups = a.cols / kGroup;
        const int full = groups * kGroup;
        const float* x[T];
        for (int t = 0; t < T; ++t) x[t] = a.x + static_cast<std::size_t>(t0 + t) * a.ldx;
        // Each lane's 12 partial sums between chunks. Kept in memory and loaded into the
        // locals by constant index only: GCC stores an accumulator array that is indexed
        // otherwise to the stack on every iteration.
        alignas(32) float part[8][T][kRows];
        for (int g0 = 0; g0 < groups; g0 += kChunkGroups) {
            const int g1 = groups - g0 < kChunkGroups ? groups : g0 + kChunkGroups;
            for (int l = 0; l < 8; ++l) {
                __m256 lo[T], hi[T];
#pragma GCC unroll 8
                for (int t = 0; t < T; ++t) {
                    lo[t] = g0 == 0 ? _mm256_setzero_ps() : _mm256_load_ps(part[l][t]);
                    hi[t] = g0 == 0 ? _mm256_setzero_ps() : _mm256_load_ps(part[l][t] + 8);
                }
                for (int g = g0; g < g1; ++g) {
                    const float* w = panel + at(groups, l, g, 0);
                    for (int odd = 0; odd < 2; ++odd) {
                        const __m256 w0 = _mm256_load_ps(w + odd * kRows);
                        const __m256 w1 = _mm256_load_ps(w + odd * kRows + 8);
                        const int c = kGroup * g + 8 * odd + l;
#pragma GCC unroll 8
                        for (int t = 0; t < T; ++t) {
                            const __m256 xb = _mm256_broadcast_ss(x[t] + c);
                            lo[t] = _mm256_fmadd_ps(w0, xb, lo[t]);
                            hi[t] = _mm256_fmadd_ps(w1, xb, hi[t]);
                        }
                    }
                }
#pragma GCC unroll 8
                for (int t = 0; t < T; ++t) {
                    _mm256_store_ps(part[l][t], lo[t]);
                    _mm256_store_ps(part[l][t] + 8, hi[t]);
                }
            }
        }
        const auto cols = static_cast<std::size_t>(a.cols);
        for (int t = 0; t < T; ++t) {
            float* y =
                a.y + static_cast<std::size_t>(t0 + t) * a.ldy + static_cast<std::size_t>(r0);
            for (int h = 0; h < kRows; h += 8) {
                __m256 v[8];
                for (int l = 0; l < 8; ++l)
                    v[l] = groups > 0 ? _mm256_load_ps(part[l][t] + h) : _mm256_setzero_ps();
                // hsum's order: lanes l and l + 4, then pairs 0 + 2 and 1 + 3, then the two.
                const __m256 s0 = _mm256_add_ps(v[0], v[4]), s1 = _mm256_add_ps(v[1], v[5]);
                const __m256 s2 = _mm256_add_ps(v[2], v[6]), s3 = _mm256_add_ps(v[3], v[7]);
                alignas(32) float sum[8];
                _mm256_store_ps(sum, _mm256_add_ps(_mm256_add_ps(s0, s2), _mm256_add_ps(s1, s3)));
                for (int i = 0; i < 8 && h + i < n; ++i) {
                    const int r = r0 + h + i;
                    const float tail =
                        full < a.cols
                            ? bf16_tail(x[t], a.w_bf16 + static_cast<std::size_t>(r) * cols, full,
                                        a.cols)
                            : 0.0f;
                    y[h + i] = (a.bias ? a.bias[r] : 0.0f) + (sum[i] + tail);
                }
            }
        }
    }

    static void rows(const MatmulArgs& a, int row_begin, int row_end) {
        auto* const panel = reinterpret_cast<float*>(kernel_scratch(
            static_cast<std::size_t>(a.cols / kGroup) * kGroup * kRows * sizeof(float) + 32));
        for (int r0 = row_begin; r0 < row_end; r0 += kRows) {
            const int n = row_end - r0 < kRows ? row_end - r0 : kRows;
            pack(a, r0, n, panel);
            by_token_tiles<kTokens>(0, a.tokens,
                                    [&]<int T>(int t) { tile<T>(a, r0, n, t, panel); });
        }
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

// MXFP4 x int8 activations (the q8 block layout of matmul_kernels.h), eight rows at a time
// with one row per lane. Register k of a block holds weights 4k..4k+3 (in the q8 order: low
// nibbles, then high ones) of each of the eight rows as unsigned bytes (2 * e2m1 + 12); a
// token's four activations 4k..4k+3 are broadcast, and eight vpmaddubsw + two vpmaddwd give
// the eight rows' exact sums of w * q for the block (int32); 12 * sum(q) is taken off (the
// signed dot), and one FMA adds it times 2^(scale-128) * xd to the row's lane. Every path does
// exactly these float operations per lane, in block order, as the portable kernel does, so a
// token's result does not depend on the token count, the path or the implementation.
//   On 16-row tiles (engine/mxfp4_tiles.h) the registers come straight from the tile: piece k
//   of a block holds bytes 4k..4k+3 of every row, so a mask and a vpshufb give register k
//   (low nibbles) and a shift more register k + 4. Up to kFewTokens tokens read a tile per
//   4 of them (one token: a decode step streams each tile once).
//   Rows as stored (or past the last tile): one token unpacks each row's block as it streams
//   by and sums its lanes across with vphaddd; several tokens first unpack and transpose
//   eight rows at a time into a thread-local buffer (as the tiles would give them).
struct Int8 {
    static constexpr int kRows = 8;
    static constexpr int kTileRows = 16;    // engine/mxfp4_tiles.h
    static constexpr int kTileTokens = 4;   // accumulators beside the 8 weight registers
    static constexpr int kFewTokens = 16;   // up to this many, tiles are read per 4 tokens
    static constexpr int kTokenBlock = 64;  // activations that stay in L2 (64 x cols bytes)
    static constexpr int kGroupRows = 32;   // rows unpacked per pass: 4 x 8 x (cols + cols/8)
    // One unpacked block of eight rows: 8 x 32 weight bytes (transposed), 8 scales.
    static constexpr std::size_t kPackedBlock = 8 * 32 + 8 * sizeof(float);

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

    // kUnsignedE2M1x2 in both 128-bit lanes: the vpshufb lookup from nibble to weight.
    static __m256i weight_table() {
        constexpr const std::uint8_t(&w)[16] = kUnsignedE2M1x2;
        return _mm256_setr_epi8(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[10],
                                w[11], w[12], w[13], w[14], w[15], w[0], w[1], w[2], w[3], w[4],
                                w[5], w[6], w[7], w[8], w[9], w[10], w[11], w[12], w[13], w[14],
                                w[15]);
    }

    // A block's 16 bytes as 32 unsigned weights: low nibbles, then high nibbles. The bytes go
    // to both lanes; the high lane's dwords shift right by 4, so after the mask each byte
    // holds its high nibble (the bits shifted in from the next byte are masked off).
    static __m256i unpack(__m128i block) {
        const __m256i table = weight_table();
        const __m256i shift = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
        const __m256i bytes = _mm256_broadcastsi128_si256(block);
        const __m256i nibbles =
            _mm256_and_si256(_mm256_srlv_epi32(bytes, shift), _mm256_set1_epi8(0x0f));
        return _mm256_shuffle_epi8(table, nibbles);
    }

    // Bytes as a tile's piece holds them (dword i: bytes 4k..4k+3 of row i) to registers k
    // (their low nibbles' weights) and k + 4 (their high nibbles').
    static void piece_weights(__m256i bytes, __m256i& low, __m256i& high) {
        const __m256i table = weight_table();
        const __m256i low4 = _mm256_set1_epi8(0x0f);
        low = _mm256_shuffle_epi8(table, _mm256_and_si256(bytes, low4));
        high = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4));
    }

    using RowAt = Mxfp4RowAt;

    static std::int32_t load4(const std::uint8_t* p) {
        std::int32_t v;
        std::memcpy(&v, p, 4);
        return v;
    }

    // A row's block g, its 16 bytes in order, from either layout.
    static __m128i load_block(const RowAt& at, int g) {
        const std::uint8_t* p = at.blocks + at.step * static_cast<std::size_t>(g);
        if (at.piece == 4) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        return _mm_setr_epi32(load4(p), load4(p + at.piece), load4(p + 2 * at.piece),
                              load4(p + 3 * at.piece));
    }

    // The scales of rows r0 .. r0+n-1 for blocks g0 .. g0+7 (zero past the row's end or past
    // the last row), one vector per block with the rows in the lanes.
    static void row_scales(const MatmulArgs& a, const RowAt (&at)[8], int n, int g0,
                           __m256 (&out)[8]) {
        const int groups = a.cols / 32;
        const int have = groups - g0 < 8 ? groups - g0 : 8;
        __m256i v[8];
        for (int i = 0; i < 8; ++i) {
            if (i >= n) {
                v[i] = _mm256_setzero_si256();
                continue;
            }
            const std::uint8_t* s = at[i].scales + static_cast<std::size_t>(g0) * at[i].scale_step;
            alignas(8) std::uint8_t pad[8] = {};
            if (have < 8 || at[i].scale_step != 1) {
                for (int j = 0; j < have; ++j)
                    pad[j] = s[static_cast<std::size_t>(j) * at[i].scale_step];
                s = pad;
            }
            v[i] = _mm256_castps_si256(block_scales(s));
        }
        transpose8x8(v);
        for (int j = 0; j < 8; ++j) out[j] = _mm256_castsi256_ps(v[j]);
    }

    // Writes the eight lanes (rows r0 .. r0+n-1) of token t: bias + acc.
    static void store(const MatmulArgs& a, int r0, int n, int t, __m256 acc) {
        alignas(32) float lanes[8];
        _mm256_store_ps(lanes, acc);
        float* y = a.y + static_cast<std::size_t>(t) * a.ldy + static_cast<std::size_t>(r0);
        for (int i = 0; i < n; ++i) y[i] = (a.bias ? a.bias[r0 + i] : 0.0f) + lanes[i];
    }

    // Eight rows' exact sums of w * q for one block (w: registers as above), less xs.
    static __m256i dot(const __m256i (&w)[8], const std::int8_t* q, std::int32_t xs) {
        const __m256i ones = _mm256_set1_epi16(1);
        __m256i half[2];
        for (int h = 0; h < 2; ++h) {
            __m256i p[4];
            for (int k = 0; k < 4; ++k)
                p[k] = _mm256_maddubs_epi16(
                    w[4 * h + k], _mm256_set1_epi32(load4(
                                      reinterpret_cast<const std::uint8_t*>(q + 16 * h + 4 * k))));
            // int16: four pair sums of |w q| <= 24 * 127 * 2 stay below 2^15
            half[h] = _mm256_madd_epi16(
                _mm256_add_epi16(_mm256_add_epi16(p[0], p[1]), _mm256_add_epi16(p[2], p[3])), ones);
        }
        return _mm256_sub_epi32(_mm256_add_epi32(half[0], half[1]), _mm256_set1_epi32(xs));
    }

    // acc += float(dot) * (ws * xd): the one float step per block.
    static __m256 add_block(__m256 acc, __m256i dot, __m256 ws, float xd) {
        return _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(ws, _mm256_set1_ps(xd)), acc);
    }

    // Tokens t0 .. t0+T-1 against one whole tile (rows r0 .. r0+15): the weights straight
    // from the tile, read once for the T tokens, both halves of a block in turn.
    template <int T>
    static void tile_tiled(const MatmulArgs& a, int r0, int t0) {
        const int groups = a.cols / 32;
        const RowAt at = mxfp4_row_at(a, r0);  // the tile's first row: the tile
        const std::uint8_t *tile = at.blocks, *scales = at.scales;
        const std::size_t ahead = static_cast<std::size_t>(kTileRows) * groups * 16;
        __m256 acc[2][T];
        for (int h = 0; h < 2; ++h)
            for (int t = 0; t < T; ++t) acc[h][t] = _mm256_setzero_ps();
        for (int g = 0; g < groups; ++g) {
            const std::uint8_t* block = tile + 256 * static_cast<std::size_t>(g);
            for (int line = 0; line < 4; ++line)  // the next tile, same place
                _mm_prefetch(reinterpret_cast<const char*>(block) + ahead + 64 * line, _MM_HINT_T0);
            for (int h = 0; h < 2; ++h) {
                __m256i w[8];
                for (int k = 0; k < 4; ++k)
                    piece_weights(_mm256_loadu_si256(
                                      reinterpret_cast<const __m256i*>(block + 64 * k + 32 * h)),
                                  w[k], w[4 + k]);
                const __m256 ws = block_scales(scales + 16 * static_cast<std::size_t>(g) + 8 * h);
                for (int t = 0; t < T; ++t) {
                    const std::size_t s =
                        static_cast<std::size_t>(t0 + t) * a.lds + static_cast<std::size_t>(g);
                    const std::int8_t* q = a.xq + static_cast<std::size_t>(t0 + t) * a.ldq +
                                           32 * static_cast<std::size_t>(g);
                    acc[h][t] = add_block(acc[h][t], dot(w, q, a.xs[s]), ws, a.xd[s]);
                }
            }
        }
        for (int h = 0; h < 2; ++h)
            for (int t = 0; t < T; ++t) store(a, r0 + 8 * h, 8, t0 + t, acc[h][t]);
    }

    // A few tokens on whole tiles: each tile read once per 4 tokens.
    static void rows_few_tiled(const MatmulArgs& a, int row_begin, int row_end) {
        for (int r = row_begin; r < row_end; r += kTileRows)
            by_token_tiles<4>(0, a.tokens, [&]<int T>(int t) { tile_tiled<T>(a, r, t); });
    }

    // The eight rows' block g as the registers rows i and i + 4 share (pairs[i]: row i's 16
    // bytes in the low lane, row i + 4's in the high one): w[i] their low nibbles' weights,
    // w[4 + i] their high nibbles'.
    static void unpack_pairs(const __m256i (&pairs)[4], __m256i (&w)[8]) {
        const __m256i table = weight_table();
        const __m256i low4 = _mm256_set1_epi8(0x0f);
        for (int i = 0; i < 4; ++i) {
            w[i] = _mm256_shuffle_epi8(table, _mm256_and_si256(pairs[i], low4));
            w[4 + i] =
                _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(pairs[i], 4), low4));
        }
    }

    // One token against unpack_pairs' registers (low nibbles against the block's even
    // activations, high nibbles against its odd ones), summed across by three vphaddd: row i's
    // exact sum in lane i, less 12 * sum(q).
    static __m256i dot_pairs(const __m256i (&w)[8], __m256i even, __m256i odd, std::int32_t xs) {
        const __m256i ones = _mm256_set1_epi16(1);
        __m256i m[4];
        for (int i = 0; i < 4; ++i)
            // int16: two pair sums of |w q| <= 24 * 127 * 2 stay below 2^15
            m[i] = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(w[i], even),
                                                      _mm256_maddubs_epi16(w[4 + i], odd)),
                                     ones);
        const __m256i sums =
            _mm256_hadd_epi32(_mm256_hadd_epi32(m[0], m[1]), _mm256_hadd_epi32(m[2], m[3]));
        return _mm256_sub_epi32(sums, _mm256_set1_epi32(xs));
    }

    // One token, rows r0 .. r0+n-1 (n <= 8) in any layout: each row's block read where
    // mxfp4_row_at() says, the pairs built with one insert each.
    static void tile_one(const MatmulArgs& a, int r0, int n) {
        const int groups = a.cols / 32;
        RowAt at[8];
        for (int i = 0; i < 8; ++i) at[i] = mxfp4_row_at(a, r0 + (i < n ? i : 0));
        const std::size_t ahead = static_cast<std::size_t>(kPrefetchRows) * groups * 16;
        __m256 acc = _mm256_setzero_ps();
        for (int g0 = 0; g0 < groups; g0 += 8) {
            __m256 ws[8];
            row_scales(a, at, n, g0, ws);
            const int end = groups - g0 < 8 ? groups : g0 + 8;
            for (int g = g0; g < end; ++g) {
                __m256i pairs[4];
                for (int i = 0; i < 4; ++i) {
                    if ((g & 3) == 0 && at[i].piece == 4) {  // a 64-byte line: 4 stored blocks
                        const auto offset = at[i].step * static_cast<std::size_t>(g) + ahead;
                        _mm_prefetch(reinterpret_cast<const char*>(at[i].blocks + offset),
                                     _MM_HINT_T0);
                        _mm_prefetch(reinterpret_cast<const char*>(at[i + 4].blocks + offset),
                                     _MM_HINT_T0);
                    }
                    pairs[i] = _mm256_inserti128_si256(_mm256_castsi128_si256(load_block(at[i], g)),
                                                       load_block(at[i + 4], g), 1);
                }
                const std::int8_t* q = a.xq + 32 * static_cast<std::size_t>(g);
                const __m256i even = _mm256_broadcastsi128_si256(
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
                const __m256i odd = _mm256_broadcastsi128_si256(
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16)));
                __m256i w[8];
                unpack_pairs(pairs, w);
                acc = add_block(acc, dot_pairs(w, even, odd, a.xs[g]), ws[g - g0], a.xd[g]);
            }
        }
        store(a, r0, n, 0, acc);
    }

    // Rows r0 .. r0+n-1 (n <= 8) unpacked and transposed into `out`, kPackedBlock bytes per
    // block: from a tile's half straight, else row by row.
    static void pack(const MatmulArgs& a, int r0, int n, std::uint8_t* out) {
        const int groups = a.cols / 32;
        if (n == kRows && r0 % kRows == 0 && r0 + kRows <= a.tiled_rows) {
            const int first = r0 - r0 % kTileRows, h = r0 % kTileRows / kRows;
            const RowAt at = mxfp4_row_at(a, first);  // the tile's first row: the tile
            const std::uint8_t *tile = at.blocks, *scales = at.scales;
            for (int g = 0; g < groups; ++g) {
                const std::uint8_t* block = tile + 256 * static_cast<std::size_t>(g);
                __m256i w[8];
                for (int k = 0; k < 4; ++k)
                    piece_weights(_mm256_loadu_si256(
                                      reinterpret_cast<const __m256i*>(block + 64 * k + 32 * h)),
                                  w[k], w[4 + k]);
                std::uint8_t* packed = out + static_cast<std::size_t>(g) * kPackedBlock;
                for (int k = 0; k < 8; ++k)
                    _mm256_store_si256(reinterpret_cast<__m256i*>(packed + 32 * k), w[k]);
                _mm256_store_ps(reinterpret_cast<float*>(packed + 256),
                                block_scales(scales + 16 * static_cast<std::size_t>(g) + 8 * h));
            }
            return;
        }
        RowAt at[8];
        for (int i = 0; i < 8; ++i) at[i] = mxfp4_row_at(a, r0 + (i < n ? i : 0));
        for (int g0 = 0; g0 < groups; g0 += 8) {
            __m256 ws[8];
            row_scales(a, at, n, g0, ws);
            const int end = groups - g0 < 8 ? groups : g0 + 8;
            for (int g = g0; g < end; ++g) {
                __m256i v[8];
                for (int i = 0; i < 8; ++i)
                    v[i] = i < n ? unpack(load_block(at[i], g)) : _mm256_setzero_si256();
                transpose8x8(v);
                std::uint8_t* block = out + static_cast<std::size_t>(g) * kPackedBlock;
                for (int k = 0; k < 8; ++k)
                    _mm256_store_si256(reinterpret_cast<__m256i*>(block + 32 * k), v[k]);
                _mm256_store_ps(reinterpret_cast<float*>(block + 256), ws[g - g0]);
            }
        }
    }

    // Tokens t0 .. t0+T-1 against eight packed rows (r0 .. r0+n-1).
    template <int T>
    static void tile_packed(const MatmulArgs& a, int r0, int n, int t0, const std::uint8_t* rows) {
        const int groups = a.cols / 32;
        __m256 acc[T];
        for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
        for (int g = 0; g < groups; ++g) {
            const std::uint8_t* block = rows + static_cast<std::size_t>(g) * kPackedBlock;
            __m256i w[8];
            for (int k = 0; k < 8; ++k)
                w[k] = _mm256_load_si256(reinterpret_cast<const __m256i*>(block + 32 * k));
            const __m256 ws = _mm256_load_ps(reinterpret_cast<const float*>(block + 256));
            for (int t = 0; t < T; ++t) {
                const std::size_t s =
                    static_cast<std::size_t>(t0 + t) * a.lds + static_cast<std::size_t>(g);
                const std::int8_t* q = a.xq + static_cast<std::size_t>(t0 + t) * a.ldq +
                                       32 * static_cast<std::size_t>(g);
                acc[t] = add_block(acc[t], dot(w, q, a.xs[s]), ws, a.xd[s]);
            }
        }
        for (int t = 0; t < T; ++t) store(a, r0, n, t0 + t, acc[t]);
    }

    static void tokens_packed(const MatmulArgs& a, int r0, int n, int t0, int t1,
                              const std::uint8_t* rows) {
        by_token_tiles<kTileTokens>(t0, t1,
                                    [&]<int T>(int t) { tile_packed<T>(a, r0, n, t, rows); });
    }

    // One token: whole tiles streamed, other rows eight at a time.
    static void rows_one(const MatmulArgs& a, int row_begin, int row_end) {
        for (int r = row_begin; r < row_end;) {
            if (mxfp4_whole_tiles(a, r, r + kTileRows)) {
                tile_tiled<1>(a, r, 0);
                r += kTileRows;
                continue;
            }
            const int n = row_end - r < kRows ? row_end - r : kRows;
            tile_one(a, r, n);
            r += n;
        }
    }

    // Several tokens: up to kGroupRows rows unpacked into a thread-local buffer (L2), then per
    // block of kTokenBlock tokens (whose activations stay in L2) every eight of them.
    static void rows_many(const MatmulArgs& a, int row_begin, int row_end) {
        const std::size_t per_eight = static_cast<std::size_t>(a.cols / 32) * kPackedBlock;
        std::uint8_t* const buffer = kernel_scratch(kGroupRows / kRows * per_eight);
        for (int r0 = row_begin; r0 < row_end; r0 += kGroupRows) {
            const int r1 = row_end - r0 < kGroupRows ? row_end : r0 + kGroupRows;
            for (int r = r0; r < r1; r += kRows)
                pack(a, r, r1 - r < kRows ? r1 - r : kRows,
                     buffer + static_cast<std::size_t>((r - r0) / kRows) * per_eight);
            for (int t0 = 0; t0 < a.tokens; t0 += kTokenBlock) {
                const int t1 = a.tokens - t0 < kTokenBlock ? a.tokens : t0 + kTokenBlock;
                for (int r = r0; r < r1; r += kRows)
                    tokens_packed(a, r, r1 - r < kRows ? r1 - r : kRows, t0, t1,
                                  buffer + static_cast<std::size_t>((r - r0) / kRows) * per_eight);
            }
        }
    }
};

template <class F, int R>
void token_tiles(const MatmulArgs& a, int r0, int t_begin, int t_end) {
    by_token_tiles<kMaxTokens>(t_begin, t_end,
                               [&]<int T>(int t) { F::template tile<R, T>(a, r0, t); });
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
    if (a.tokens >= Bf16Gemm::kMinTokens) return Bf16Gemm::rows(a, row_begin, row_end);
    rows<Bf16>(a, row_begin, row_end);
}

void avx2_mxfp4(const MatmulArgs& a, int row_begin, int row_end) {
    rows<Mxfp4>(a, row_begin, row_end);
}

void avx2_mxfp4_int8(const MatmulArgs& a, int row_begin, int row_end) {
    if (a.tokens == 1) return Int8::rows_one(a, row_begin, row_end);
    if (a.tokens <= Int8::kFewTokens && mxfp4_whole_tiles(a, row_begin, row_end))
        return Int8::rows_few_tiled(a, row_begin, row_end);
    Int8::rows_many(a, row_begin, row_end);
}

constexpr MatmulKernels kKernels{"avx2",     {kGroup, kBf16Order.column},
                                 avx2_bf16,  {32, kMxfp4Order.column},
                                 avx2_mxfp4, avx2_mxfp4_int8,
                                 nullptr};

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
