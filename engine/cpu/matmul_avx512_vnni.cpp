// AVX-512 VNNI: the MXFP4 x int8-activation kernel, with vpdpbusd; every other product is
// matmul_avx512.cpp's, and a product of fewer than kMinTokens tokens on rows as stored goes
// to matmul_avx2.cpp's int8 kernel. This file is built with -mavx512vnni besides the AVX-512
// flags and must only run after cpu_features() reports avx512_vnni.
//
// Sixteen rows at a time, one per dword lane. Register k of a block holds weights 4k..4k+3
// (unsigned, 2 * e2m1 + 12, in the q8 layout's order: low nibbles, then high ones) of every
// row; with a token's four activations 4k..4k+3 broadcast, one vpdpbusd adds those four
// products to each row's lane. Eight of them, started from -12 * sum(q), give the block's
// exact integer sum for all sixteen rows (|sum| < 2^17: no overflow, no saturation), and one
// FMA adds it times 2^(scale-128) * xd: matmul_kernels.h's float operations, lane by lane, in
// block order, so the results equal the other kernels' bit for bit.
//   On 16-row tiles (engine/mxfp4_tiles.h, as the CLI loads experts) a block's four 64-byte
//   pieces give the eight registers with a mask, a shift and a vpshufb each: up to
//   kDirectTokens tokens (decode, a speculative verify) read the tiles directly.
//   More tokens (prefill), or rows as stored: sixteen rows at a time are unpacked (and, as
//   stored, transposed) into a thread-local panel first, then two panels at a time run
//   against kPairTokens tokens (each broadcast of activations feeds both: +20% over one
//   panel per pass at 32-128 tokens, gossamer_bench_matmul, Zen 5 VM).
// No std templates here: their instantiations could be linked into portable callers.
#include "engine/cpu/matmul_kernels.h"
#include "engine/cpu/token_tiles.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512DQ__) && defined(__AVX512VNNI__)

#include <immintrin.h>

#include <cstring>

// GCC 12's AVX-512 intrinsics and -Wuninitialized: see matmul_avx512.cpp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace gossamer::engine::cpu::detail {
namespace {

constexpr int kRows = 16;         // rows per panel: one per dword lane
constexpr int kTileTokens = 8;    // accumulators beside the 8 weight registers
constexpr int kPairTokens = 6;    // two panels at once: 24 accumulators
constexpr int kMinTokens = 4;     // fewer, on rows as stored: matmul_avx2.cpp's int8 kernel
constexpr int kDirectTokens = 8;  // up to this many, tiles are read directly; more: unpacked
constexpr int kGroupRows = 64;    // rows unpacked per pass (4 panels, ~230 KB at 2880 columns)
constexpr int kTokenBlock = 64;   // tokens whose activations stay in L2 while panels are reused
// One unpacked block of sixteen rows: 8 registers of weights (transposed), 16 fp32 scales.
constexpr std::size_t kPackedBlock = 8 * 64 + kRows * sizeof(float);

// 2^(s - 128) for 16 scale bytes, exact for all 256 (two normal factors, as matmul_avx2.cpp).
__m512 block_scales(const std::uint8_t* s) {
    const __m512i e = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)));
    const __m512i half = _mm512_srli_epi32(e, 1);
    const __m512i bias = _mm512_set1_epi32(63);
    const __m512 a = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(half, bias), 23));
    const __m512 b = _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(e, half), bias), 23));
    return _mm512_mul_ps(a, b);
}

// kUnsignedE2M1x2 in every 128-bit lane: the vpshufb lookup from nibble to weight.
__m512i weight_table() {
    alignas(16) std::uint8_t w[16];
    std::memcpy(w, kUnsignedE2M1x2, 16);
    return _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(w)));
}

// Two rows' blocks (16 bytes each) as 32 unsigned weights each: [low nibbles of p, high
// nibbles of p | the same of q]. Each block goes to two 128-bit lanes; the second lane's
// dwords shift right by 4, so after the mask each byte holds its high nibble.
__m512i unpack_two(const std::uint8_t* p, const std::uint8_t* q) {
    const __m512i table = weight_table();
    const __m512i shift = _mm512_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4, 0, 0, 0, 0, 4, 4, 4, 4);
    const __m256i lo =
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256i hi =
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
    const __m512i bytes = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    const __m512i nibbles =
        _mm512_and_si512(_mm512_srlv_epi32(bytes, shift), _mm512_set1_epi8(0x0f));
    return _mm512_shuffle_epi8(table, nibbles);
}

// v[i] holds rows i (low 256 bits) and i + 8 (high), eight dwords each; afterwards v[k] holds
// dword k of rows 0..15 in lanes 0..15. An 8 x 8 transpose in each half.
void transpose16x8(__m512i (&v)[8]) {
    __m512i a[8], b[8];
    for (int i = 0; i < 8; i += 2) {
        a[i] = _mm512_unpacklo_epi32(v[i], v[i + 1]);
        a[i + 1] = _mm512_unpackhi_epi32(v[i], v[i + 1]);
    }
    for (int i = 0; i < 8; i += 4)
        for (int j = 0; j < 2; ++j) {
            b[i + j] = _mm512_unpacklo_epi64(a[i + j], a[i + j + 2]);
            b[i + j + 2] = _mm512_unpackhi_epi64(a[i + j], a[i + j + 2]);
        }
    // b[j] (j < 4) holds, per 128-bit lane L of each half, column order[j] (+4 in lane 1) of
    // rows 0-3; b[j + 4] the same of rows 4-7.
    const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
    const __m512i second = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    const int order[4] = {0, 2, 1, 3};
    for (int j = 0; j < 4; ++j) {
        v[order[j]] = _mm512_permutex2var_epi64(b[j], first, b[j + 4]);
        v[order[j] + 4] = _mm512_permutex2var_epi64(b[j], second, b[j + 4]);
    }
}

std::int32_t load4(const std::uint8_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// A row's block g, its 16 bytes in order, from either layout (Mxfp4RowAt).
const std::uint8_t* block_bytes(const Mxfp4RowAt& at, int g, std::uint8_t (&scratch)[16]) {
    const std::uint8_t* p = at.blocks + at.step * static_cast<std::size_t>(g);
    if (at.piece == 4) return p;
    for (int k = 0; k < 4; ++k) std::memcpy(scratch + 4 * k, p + at.piece * k, 4);
    return scratch;
}

// A tile's piece (dword i: bytes 4k..4k+3 of row i) as registers k (the low nibbles'
// weights) and k + 4 (the high nibbles').
void piece_weights(__m512i bytes, __m512i& low, __m512i& high) {
    const __m512i table = weight_table();
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    low = _mm512_shuffle_epi8(table, _mm512_and_si512(bytes, low4));
    high = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(bytes, 4), low4));
}

// Rows r0 .. r0+n-1 (n <= 16; lanes past n repeat row r0 and are never stored) unpacked
// into `out`, kPackedBlock bytes per block: a whole tile straight, rows as stored unpacked
// and transposed.
void pack(const MatmulArgs& a, int r0, int n, std::uint8_t* out) {
    const int groups = a.cols / 32;
    if (mxfp4_whole_tiles(a, r0, r0 + n)) {
        const Mxfp4RowAt at = mxfp4_row_at(a, r0);  // the tile's first row: the tile
        const std::uint8_t *tile = at.blocks, *scales = at.scales;
        for (int g = 0; g < groups; ++g) {
            const auto gs = static_cast<std::size_t>(g);
            std::uint8_t* block = out + gs * kPackedBlock;
            for (int k = 0; k < 4; ++k) {
                __m512i low, high;
                piece_weights(_mm512_loadu_si512(tile + 256 * gs + 64 * k), low, high);
                _mm512_store_si512(block + 64 * k, low);
                _mm512_store_si512(block + 64 * (4 + k), high);
            }
            _mm512_store_ps(block + 8 * 64, block_scales(scales + kRows * gs));
        }
        return;
    }
    Mxfp4RowAt at[kRows];
    for (int i = 0; i < kRows; ++i) at[i] = mxfp4_row_at(a, r0 + (i < n ? i : 0));
    for (int g = 0; g < groups; ++g) {
        const auto gs = static_cast<std::size_t>(g);
        __m512i v[8];
        for (int i = 0; i < 8; ++i) {
            std::uint8_t lo[16], hi[16];
            v[i] = unpack_two(block_bytes(at[i], g, lo), block_bytes(at[i + 8], g, hi));
        }
        transpose16x8(v);
        std::uint8_t* block = out + gs * kPackedBlock;
        for (int k = 0; k < 8; ++k) _mm512_store_si512(block + 64 * k, v[k]);
        alignas(16) std::uint8_t s[kRows];
        for (int i = 0; i < kRows; ++i) s[i] = at[i].scales[at[i].scale_step * gs];
        _mm512_store_ps(block + 8 * 64, block_scales(s));
    }
}

// Adds block g of tokens t0 .. t0+T-1 to their accumulators: w[k] holds weights 4k..4k+3 of
// the sixteen rows, ws their scales. One or two (for few tokens: shorter dependency chains)
// integer sums per token, added exactly.
template <int T>
inline void add_block(const MatmulArgs& a, int t0, int g, const __m512i (&w)[8], __m512 ws,
                      __m512 (&acc)[T]) {
    constexpr int kChains = T <= 2 ? 2 : 1;
    __m512i sum[kChains][T];
    for (int t = 0; t < T; ++t) {
        const std::size_t s =
            static_cast<std::size_t>(t0 + t) * a.lds + static_cast<std::size_t>(g);
        sum[0][t] = _mm512_set1_epi32(-a.xs[s]);
        if (kChains == 2) sum[kChains - 1][t] = _mm512_setzero_si512();
    }
    for (int k = 0; k < 8; ++k)
        for (int t = 0; t < T; ++t) {
            const std::uint8_t* q = reinterpret_cast<const std::uint8_t*>(
                a.xq + static_cast<std::size_t>(t0 + t) * a.ldq + 32 * static_cast<std::size_t>(g));
            __m512i& chain = sum[k % kChains][t];
            chain = _mm512_dpbusd_epi32(chain, w[k], _mm512_set1_epi32(load4(q + 4 * k)));
        }
    for (int t = 0; t < T; ++t) {
        const std::size_t s =
            static_cast<std::size_t>(t0 + t) * a.lds + static_cast<std::size_t>(g);
        const __m512i total =
            kChains == 2 ? _mm512_add_epi32(sum[0][t], sum[kChains - 1][t]) : sum[0][t];
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total),
                                 _mm512_mul_ps(ws, _mm512_set1_ps(a.xd[s])), acc[t]);
    }
}

// Writes rows r0 .. r0+n-1 of tokens t0 .. t0+T-1: bias + acc.
template <int T>
inline void store(const MatmulArgs& a, int r0, int n, int t0, const __m512 (&acc)[T]) {
    const __mmask16 lanes = static_cast<__mmask16>((1u << n) - 1);
    const __m512 bias = a.bias ? _mm512_maskz_loadu_ps(lanes, a.bias + r0) : _mm512_setzero_ps();
    for (int t = 0; t < T; ++t)
        _mm512_mask_storeu_ps(
            a.y + static_cast<std::size_t>(t0 + t) * a.ldy + static_cast<std::size_t>(r0), lanes,
            _mm512_add_ps(bias, acc[t]));
}

// Tokens t0 .. t0+T-1 against one packed panel (rows r0 .. r0+n-1).
template <int T>
void tile_packed(const MatmulArgs& a, int r0, int n, int t0, const std::uint8_t* panel) {
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int g = 0; g < a.cols / 32; ++g) {
        const std::uint8_t* block = panel + static_cast<std::size_t>(g) * kPackedBlock;
        __m512i w[8];
        for (int k = 0; k < 8; ++k) w[k] = _mm512_load_si512(block + 64 * k);
        add_block<T>(a, t0, g, w, _mm512_load_ps(block + 8 * 64), acc);
    }
    store<T>(a, r0, n, t0, acc);
}

// Tokens t0 .. t0+T-1 against one whole tile (rows r0 .. r0+15), its registers straight
// from the tile: the tile is read once for the T tokens and never unpacked to memory.
template <int T>
void tile_tiled(const MatmulArgs& a, int r0, int t0) {
    const int groups = a.cols / 32;
    const Mxfp4RowAt at = mxfp4_row_at(a, r0);  // the tile's first row: the tile
    const std::uint8_t *tile = at.blocks, *scales = at.scales;
    const std::size_t ahead = static_cast<std::size_t>(kRows) * groups * 16;  // the next tile
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int g = 0; g < groups; ++g) {
        const std::uint8_t* block = tile + 256 * static_cast<std::size_t>(g);
        for (int line = 0; line < 4; ++line)
            _mm_prefetch(reinterpret_cast<const char*>(block) + ahead + 64 * line, _MM_HINT_T0);
        __m512i w[8];
        for (int k = 0; k < 4; ++k)
            piece_weights(_mm512_loadu_si512(block + 64 * k), w[k], w[4 + k]);
        add_block<T>(a, t0, g, w, block_scales(scales + 16 * static_cast<std::size_t>(g)), acc);
    }
    store<T>(a, r0, kRows, t0, acc);
}

// Tokens t0 .. t0+T-1 against two packed panels: rows r0 .. r0+15 (a) and r0+16 ..
// r0+16+n-1 (b). Each broadcast of a token's four activations feeds both panels' vpdpbusd:
// half the loads per multiply of one panel at a time. The same operations per lane as
// tile_packed.
template <int T>
void tile_pair(const MatmulArgs& a, int r0, int n, int t0, const std::uint8_t* pa,
               const std::uint8_t* pb) {
    __m512 acc[2][T];
    for (int h = 0; h < 2; ++h)
        for (int t = 0; t < T; ++t) acc[h][t] = _mm512_setzero_ps();
    for (int g = 0; g < a.cols / 32; ++g) {
        const std::uint8_t* block[2] = {pa + static_cast<std::size_t>(g) * kPackedBlock,
                                        pb + static_cast<std::size_t>(g) * kPackedBlock};
        __m512i sum[2][T];
        for (int t = 0; t < T; ++t) {
            const std::size_t s =
                static_cast<std::size_t>(t0 + t) * a.lds + static_cast<std::size_t>(g);
            sum[0][t] = sum[1][t] = _mm512_set1_epi32(-a.xs[s]);
        }
        for (int k = 0; k < 8; ++k) {
            const __m512i w0 = _mm512_load_si512(block[0] + 64 * k);
            const __m512i w1 = _mm512_load_si512(block[1] + 64 * k);
            for (int t = 0; t < T; ++t) {
                const std::uint8_t* q = reinterpret_cast<const std::uint8_t*>(
                    a.xq + static_cast<std::size_t>(t0 + t) * a.ldq +
                    32 * static_cast<std::size_t>(g));
                const __m512i b = _mm512_set1_epi32(load4(q + 4 * k));
                sum[0][t] = _mm512_dpbusd_epi32(sum[0][t], w0, b);
                sum[1][t] = _mm512_dpbusd_epi32(sum[1][t], w1, b);
            }
        }
        for (int h = 0; h < 2; ++h) {
            const __m512 ws = _mm512_load_ps(block[h] + 8 * 64);
            for (int t = 0; t < T; ++t) {
                const std::size_t s =
                    static_cast<std::size_t>(t0 + t) * a.lds + static_cast<std::size_t>(g);
                acc[h][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[h][t]),
                                            _mm512_mul_ps(ws, _mm512_set1_ps(a.xd[s])), acc[h][t]);
            }
        }
    }
    store<T>(a, r0, kRows, t0, acc[0]);
    store<T>(a, r0 + kRows, n, t0, acc[1]);
}

void vnni_mxfp4_int8(const MatmulArgs& a, int row_begin, int row_end) {
    if (a.tokens <= kDirectTokens && mxfp4_whole_tiles(a, row_begin, row_end)) {
        for (int t0 = 0; t0 < a.tokens; t0 += kTokenBlock) {
            const int t1 = a.tokens - t0 < kTokenBlock ? a.tokens : t0 + kTokenBlock;
            for (int r = row_begin; r < row_end; r += kRows)
                by_token_tiles<kTileTokens>(t0, t1, [&]<int T>(int t) { tile_tiled<T>(a, r, t); });
        }
        return;
    }
    if (a.tokens < kMinTokens) return avx2_kernels()->mxfp4_int8(a, row_begin, row_end);
    const std::size_t per_panel = static_cast<std::size_t>(a.cols / 32) * kPackedBlock;
    std::uint8_t* const buffer = kernel_scratch(kGroupRows / kRows * per_panel);
    for (int r0 = row_begin; r0 < row_end; r0 += kGroupRows) {
        const int r1 = row_end - r0 < kGroupRows ? row_end : r0 + kGroupRows;
        for (int r = r0; r < r1; r += kRows)
            pack(a, r, r1 - r < kRows ? r1 - r : kRows,
                 buffer + static_cast<std::size_t>((r - r0) / kRows) * per_panel);
        for (int t0 = 0; t0 < a.tokens; t0 += kTokenBlock) {
            const int t1 = a.tokens - t0 < kTokenBlock ? a.tokens : t0 + kTokenBlock;
            for (int r = r0; r < r1;) {
                const std::uint8_t* panel =
                    buffer + static_cast<std::size_t>((r - r0) / kRows) * per_panel;
                if (r1 - r > kRows) {  // two panels
                    const int n = r1 - r - kRows < kRows ? r1 - r - kRows : kRows;
                    by_token_tiles<kPairTokens>(t0, t1, [&]<int T>(int t) {
                        tile_pair<T>(a, r, n, t, panel, panel + per_panel);
                    });
                    r += kRows + n;
                    continue;
                }
                const int n = r1 - r;
                by_token_tiles<kTileTokens>(
                    t0, t1, [&]<int T>(int t) { tile_packed<T>(a, r, n, t, panel); });
                r += n;
            }
        }
    }
}

}  // namespace

const MatmulKernels* avx512vnni_kernels() {
    const MatmulKernels* base = avx512_kernels();
    if (!base) return nullptr;
    static const MatmulKernels kernels{
        "avx512vnni", base->bf16_packing, base->bf16, base->mxfp4_packing,
        base->mxfp4,  vnni_mxfp4_int8,    nullptr};
    return &kernels;
}

}  // namespace gossamer::engine::cpu::detail

#pragma GCC diagnostic pop

#else  // not built for AVX-512 VNNI (not x86-64, or the per-file flags are missing)

const gossamer::engine::cpu::detail::MatmulKernels*
gossamer::engine::cpu::detail::avx512vnni_kernels() {
    return nullptr;
}

#endif
