#include "engine/cpu/attention.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "engine/cpu/cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
// GCC 12's AVX-512 intrinsics start from a self-initialised "undefined" register, which
// -Wuninitialized reports once inlined (GCC bug 105593, fixed in GCC 13); as matmul_avx512.cpp.
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif

namespace gossamer::engine::cpu {
namespace {

inline float element(float v) {
    return v;
}
inline float element(std::uint16_t bits) {
    return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

template <class T>
float dot(const float* a, const T* b, int n) {
    float acc[8] = {};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; ++l) acc[l] += a[i + l] * element(b[i + l]);
    float sum = 0;
    for (; i < n; ++i) sum += a[i] * element(b[i]);
    for (float v : acc) sum += v;
    return sum;
}

template <class T>
void axpy(float a, const T* x, float* y, int n) {
    for (int i = 0; i < n; ++i) y[i] += a * element(x[i]);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GOSSAMER_ATTENTION_AVX512 1
// AVX-512 and AVX2 inner loops (this file is built for the baseline ISA; these functions carry
// their own target and run only when cpu_features() reports that ISA). One key or value row of d
// elements (d a multiple of 16, at most 128) is widened to fp32 registers once and used for
// every query head of the group.
#define GOSSAMER_AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

GOSSAMER_AVX512_TARGET inline __m512 widen16(const float* p) {
    return _mm512_loadu_ps(p);
}
GOSSAMER_AVX512_TARGET inline __m512 widen16(const std::uint16_t* p) {
    const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
}

// scores[h * stride + {0, 1}] = (q_h . k_{0, 1}) * scale for the group's heads and two keys
// (k1 may equal k0): the queries are loaded once for both, and the two sums are reduced
// together. Each key's sum goes through the same fixed tree (lanes i and i + 8, then i + 4,
// i + 2, i + 1) whichever key it is paired with, so a score does not depend on the pairing.
template <int C, class T>
GOSSAMER_AVX512_TARGET void scores2_avx512(const T* k0, const T* k1, const float* q, int group,
                                           float scale, float* scores, std::size_t stride) {
    constexpr int c = C, d = 16 * C;
    __m512 kf0[C], kf1[C];
    for (int i = 0; i < c; ++i) {
        kf0[i] = widen16(k0 + 16 * i);
        kf1[i] = widen16(k1 + 16 * i);
    }
    const __m512 vscale = _mm512_set1_ps(scale);
    for (int h = 0; h < group; ++h) {
        const float* qh = q + static_cast<std::ptrdiff_t>(h) * d;
        __m512 q0 = _mm512_loadu_ps(qh);
        __m512 a0 = _mm512_mul_ps(q0, kf0[0]), a1 = _mm512_mul_ps(q0, kf1[0]);
        for (int i = 1; i < c; ++i) {
            const __m512 qi = _mm512_loadu_ps(qh + 16 * i);
            a0 = _mm512_fmadd_ps(qi, kf0[i], a0);
            a1 = _mm512_fmadd_ps(qi, kf1[i], a1);
        }
        // [a0 lanes 0-7 + 8-15 | a1 lanes 0-7 + 8-15], then within each half 4, 2, 1 apart.
        __m512 t =
            _mm512_add_ps(_mm512_shuffle_f32x4(a0, a1, 0x44), _mm512_shuffle_f32x4(a0, a1, 0xEE));
        t = _mm512_add_ps(t, _mm512_shuffle_f32x4(t, t, 0xB1));
        t = _mm512_add_ps(t, _mm512_permute_ps(t, 0x4E));
        t = _mm512_mul_ps(_mm512_add_ps(t, _mm512_permute_ps(t, 0xB1)), vscale);
        float* out = scores + static_cast<std::size_t>(h) * stride;
        out[0] = _mm512_cvtss_f32(t);
        if (k1 != k0) out[1] = _mm_cvtss_f32(_mm512_extractf32x4_ps(t, 2));
    }
}

// Rows of values for values_c: row j's 16-element chunk i, widened to fp32.
template <class T>
struct CacheRows {  // from the cache: slots `stride` elements apart
    const T* v;
    std::size_t stride;
    GOSSAMER_AVX512_TARGET __m512 operator()(int j, int i) const {
        return widen16(v + static_cast<std::size_t>(j) * stride + static_cast<std::size_t>(16 * i));
    }
};
struct WideRows {  // already widened: row j at v + (j - first) * d
    const float* v;
    int d, first;
    GOSSAMER_AVX512_TARGET __m512 operator()(int j, int i) const {
        return _mm512_loadu_ps(v + static_cast<std::ptrdiff_t>(j - first) * d + 16 * i);
    }
};

// out_h += sum_j p[h * stride + j] * row_j for j in [j0, j1) and the group's heads (d = 16 * C
// floats apart): each output the same multiply-adds in the same order as a row-by-row pass,
// but with the outputs of 16 / C heads held in registers across the rows (each row widened
// once per such set of heads) instead of loaded and stored for every row. C is a constant so
// that the accumulators stay in registers.
template <int C, class Rows>
GOSSAMER_AVX512_TARGET void values_c(const Rows& rows, int j0, int j1, const float* p,
                                     std::size_t stride, int group, float* out) {
    constexpr int d = 16 * C, H = 16 / C;
    for (int h0 = 0; h0 < group; h0 += H) {
        const int heads = std::min(H, group - h0);
        __m512 acc[H][C];
        for (int h = 0; h < H; ++h)
            if (h < heads)
                for (int i = 0; i < C; ++i)
                    acc[h][i] =
                        _mm512_loadu_ps(out + static_cast<std::ptrdiff_t>(h0 + h) * d + 16 * i);
        for (int j = j0; j < j1; ++j) {
            __m512 vf[C];
            for (int i = 0; i < C; ++i) vf[i] = rows(j, i);
            for (int h = 0; h < H; ++h)
                if (h < heads) {
                    const __m512 ph = _mm512_set1_ps(
                        p[static_cast<std::size_t>(h0 + h) * stride + static_cast<std::size_t>(j)]);
                    for (int i = 0; i < C; ++i) acc[h][i] = _mm512_fmadd_ps(ph, vf[i], acc[h][i]);
                }
        }
        for (int h = 0; h < H; ++h)
            if (h < heads)
                for (int i = 0; i < C; ++i)
                    _mm512_storeu_ps(out + static_cast<std::ptrdiff_t>(h0 + h) * d + 16 * i,
                                     acc[h][i]);
    }
}

// Value rows per block that stays in L1 across the sets of heads (values_c): 16 KB of bf16
// values at d = 64. One token's pass and a tile's (which widens each block once) use the same.
constexpr int kValueRows = 128;

// values_c over `count` cache rows, kValueRows at a time.
template <int C, class T>
GOSSAMER_AVX512_TARGET void values_run_avx512(const T* v, std::size_t row_stride, int count,
                                              const float* p, std::size_t stride, int group,
                                              float* out) {
    for (int j0 = 0; j0 < count; j0 += kValueRows)
        values_c<C>(CacheRows<T>{v, row_stride}, j0, std::min(count, j0 + kValueRows), p, stride,
                    group, out);
}

// Calls f(std::integral_constant<int, c>) for c = d / 16 in 1..8 (the AVX-512 paths' sizes).
template <class F>
void with_chunks(int c, F&& f) {
    switch (c) {
        case 1:
            return f(std::integral_constant<int, 1>{});
        case 2:
            return f(std::integral_constant<int, 2>{});
        case 3:
            return f(std::integral_constant<int, 3>{});
        case 4:
            return f(std::integral_constant<int, 4>{});
        case 5:
            return f(std::integral_constant<int, 5>{});
        case 6:
            return f(std::integral_constant<int, 6>{});
        case 7:
            return f(std::integral_constant<int, 7>{});
        case 8:
            return f(std::integral_constant<int, 8>{});
        default:
            return;
    }
}

// e^x for x <= 0 (x >= -inf), 16 at a time: x = n ln2 + r with |r| <= ln2 / 2, e^r by Cephes'
// degree-6 polynomial for expf (about 1 ulp), then scaled by 2^n (vscalefps: underflows to 0
// below e^-104, as std::exp does).
GOSSAMER_AVX512_TARGET inline __m512 exp_nonpositive(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 y = _mm512_set1_ps(1.9875691500e-4f);
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.3981999507e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(8.3334519073e-3f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(4.1665795894e-2f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(1.6666665459e-1f));
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(5.0000001201e-1f));
    y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(y, n);
}

// row[i] = e^(row[i] - max) for the n scores, max over them and `sink`; returns the softmax's
// denominator, the sink's e^(sink - max) included.
GOSSAMER_AVX512_TARGET float softmax_row_avx512(float* row, int n, float sink) {
    __m512 m = _mm512_set1_ps(sink);
    int i = 0;
    for (; i + 16 <= n; i += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(row + i));
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1u);
    m = _mm512_mask_max_ps(m, tail, m, _mm512_maskz_loadu_ps(tail, row + i));
    const float max = _mm512_reduce_max_ps(m);
    const __m512 vmax = _mm512_set1_ps(max);
    __m512 sum = _mm512_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(row + i), vmax));
        _mm512_storeu_ps(row + i, e);
        sum = _mm512_add_ps(sum, e);
    }
    const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, row + i), vmax));
    _mm512_mask_storeu_ps(row + i, tail, e);
    sum = _mm512_mask_add_ps(sum, tail, sum, e);
    return _mm512_reduce_add_ps(sum) + std::exp(sink - max);
}

// The tile's scores for 32 keys (two blocks of 16) and two query heads a and b (b may equal
// a): `keys` holds them transposed, element e of key k at keys[e * 32 + k]. Lane k of a block
// computes exactly what scores2_avx512 computes for its key: the 16 partial sums over elements
// l, l + 16, ... (a product, then fused multiply-adds in that order), then the same tree
// (t_l = l + (l + 8), u_l = t_l + t_(l+4), u_l + u_(l+2), then the two), then the scale; only
// here the tree's pairs are whole registers. Each key load serves both heads and each
// broadcast query element both blocks.
template <int C>
GOSSAMER_AVX512_TARGET void scores_block_avx512(const float* keys, const float* qa, const float* qb,
                                                float scale, float* sa, float* sb) {
    const float* q[2] = {qa, qb};
    __m512 u[2][2][4];  // [head][block][l]
    for (int l = 0; l < 4; ++l) {
        __m512 held[2][2];
        for (int half = 0; half < 2; ++half) {
            const int m = l + 4 * half;
            __m512 lo[2][2], hi[2][2];  // chains m and m + 8, [head][block]
            for (int i = 0; i < C; ++i) {
                const int e = 16 * i + m;
                const __m512 k[2] = {_mm512_loadu_ps(keys + e * 32),
                                     _mm512_loadu_ps(keys + e * 32 + 16)};
                const __m512 k8[2] = {_mm512_loadu_ps(keys + (e + 8) * 32),
                                      _mm512_loadu_ps(keys + (e + 8) * 32 + 16)};
                for (int h = 0; h < 2; ++h) {
                    const __m512 qe = _mm512_set1_ps(q[h][e]), qe8 = _mm512_set1_ps(q[h][e + 8]);
                    for (int b = 0; b < 2; ++b) {
                        if (i == 0) {
                            lo[h][b] = _mm512_mul_ps(qe, k[b]);
                            hi[h][b] = _mm512_mul_ps(qe8, k8[b]);
                        } else {
                            lo[h][b] = _mm512_fmadd_ps(qe, k[b], lo[h][b]);
                            hi[h][b] = _mm512_fmadd_ps(qe8, k8[b], hi[h][b]);
                        }
                    }
                }
            }
            for (int h = 0; h < 2; ++h)
                for (int b = 0; b < 2; ++b) {
                    const __m512 t = _mm512_add_ps(lo[h][b], hi[h][b]);
                    if (half == 0)
                        held[h][b] = t;
                    else
                        u[h][b][l] = _mm512_add_ps(held[h][b], t);
                }
        }
    }
    const __m512 vscale = _mm512_set1_ps(scale);
    float* out[2] = {sa, sb};
    for (int h = 0; h < 2; ++h)
        for (int b = 0; b < 2; ++b) {
            const __m512 v0 = _mm512_add_ps(u[h][b][0], u[h][b][2]);
            const __m512 v1 = _mm512_add_ps(u[h][b][1], u[h][b][3]);
            _mm512_storeu_ps(out[h] + 16 * b, _mm512_mul_ps(_mm512_add_ps(v0, v1), vscale));
        }
}

#define GOSSAMER_AVX2_TARGET __attribute__((target("avx2,fma")))
// The same loops for AVX2 + FMA (d a multiple of 8, at most 64: gpt-oss's 64 fits in 8 ymm).
GOSSAMER_AVX2_TARGET inline __m256 widen8(const float* p) {
    return _mm256_loadu_ps(p);
}
GOSSAMER_AVX2_TARGET inline __m256 widen8(const std::uint16_t* p) {
    const __m128i bits = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16));
}

template <class T>
GOSSAMER_AVX2_TARGET void scores_avx2(const T* k, const float* q, int group, int d, float scale,
                                      float* scores, std::size_t stride) {
    __m256 kf[8];
    const int c = d / 8;
    for (int i = 0; i < c; ++i) kf[i] = widen8(k + 8 * i);
    for (int h = 0; h < group; ++h) {
        const float* qh = q + static_cast<std::ptrdiff_t>(h) * d;
        __m256 acc = _mm256_mul_ps(_mm256_loadu_ps(qh), kf[0]);
        for (int i = 1; i < c; ++i) acc = _mm256_fmadd_ps(_mm256_loadu_ps(qh + 8 * i), kf[i], acc);
        __m128 sum = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
        sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
        scores[static_cast<std::size_t>(h) * stride] = _mm_cvtss_f32(sum) * scale;
    }
}

template <class T>
GOSSAMER_AVX2_TARGET void values_avx2(const T* v, const float* p, std::size_t stride, int group,
                                      int d, float* out) {
    __m256 vf[8];
    const int c = d / 8;
    for (int i = 0; i < c; ++i) vf[i] = widen8(v + 8 * i);
    for (int h = 0; h < group; ++h) {
        const __m256 ph = _mm256_set1_ps(p[static_cast<std::size_t>(h) * stride]);
        float* oh = out + static_cast<std::ptrdiff_t>(h) * d;
        for (int i = 0; i < c; ++i)
            _mm256_storeu_ps(oh + 8 * i, _mm256_fmadd_ps(ph, vf[i], _mm256_loadu_ps(oh + 8 * i)));
    }
}
#endif

// Whether the AVX-512 kernels (one token's and the tile's) take heads of d elements.
bool wide_heads(int d) {
#ifdef GOSSAMER_ATTENTION_AVX512
    static const bool avx512 = cpu_features().avx512;
    return avx512 && d % 16 == 0 && d <= 128;
#else
    (void)d;
    return false;
#endif
}

// The first position token t of a tile attends to.
int first_attended(const AttentionTile& tile, int t) {
    const int p = tile.position + t;
    return tile.window > 0 ? std::max(0, p - tile.window + 1) : 0;
}

// out_h *= inv_denominator[h] for a token's group of heads.
void normalize(float* out, const float* inv_denominator, int group, int d) {
    for (int h = 0; h < group; ++h)
        for (int i = 0; i < d; ++i) out[h * d + i] *= inv_denominator[h];
}

template <class T>
void attend_as(const CpuKvCache& cache, int layer, int first, int last, const AttentionQuery& query,
               float* out, std::vector<float>& scores) {
    const int n = last - first + 1;
    const int d = query.head_dim;
    const auto offset = static_cast<std::ptrdiff_t>(query.kv_head) * d;
    // n scores per head, then the heads' 1 / denominators: one buffer, no allocation per call.
    const std::size_t score_count =
        static_cast<std::size_t>(n) * static_cast<std::size_t>(query.group);
    scores.resize(score_count + static_cast<std::size_t>(query.group));
    CpuKvCache::Run runs[2];
    const int run_count = cache.runs(layer, first, last, runs);

    const bool wide = wide_heads(d);
#ifdef GOSSAMER_ATTENTION_AVX512
    static const bool avx2 = cpu_features().avx2_fma;
    const bool narrow = !wide && avx2 && d % 8 == 0 && d <= 64;
#else
    const bool narrow = false;
#endif
    // 1. Scores s[h][j] = q_h . k_j * scale, reading each key once for the whole group.
    int j = 0;
#ifdef GOSSAMER_ATTENTION_AVX512
    if (wide) {
        const std::size_t row_stride = static_cast<std::size_t>(cache.row_elements());
        for (int r = 0; r < run_count; ++r) {
            if (runs[r].count == 0) continue;
            const T* k = static_cast<const T*>(cache.key_slot(layer, runs[r].slot)) + offset;
            const int count = runs[r].count;
            with_chunks(d / 16, [&](auto C) {
                for (int s = 0; s < count; s += 2) {
                    const T* k0 = k + static_cast<std::size_t>(s) * row_stride;
                    const T* k1 = s + 1 < count ? k0 + row_stride : k0;
                    scores2_avx512<decltype(C)::value>(
                        k0, k1, query.q, query.group, query.scale,
                        scores.data() + static_cast<std::size_t>(j + s),
                        static_cast<std::size_t>(n));
                }
            });
            j += count;
        }
    }
#endif
    if (!wide)
        for (int r = 0; r < run_count; ++r)
            for (int s = 0; s < runs[r].count; ++s, ++j) {
                const T* k =
                    static_cast<const T*>(cache.key_slot(layer, runs[r].slot + s)) + offset;
#ifdef GOSSAMER_ATTENTION_AVX512
                if (narrow) {
                    scores_avx2(k, query.q, query.group, d, query.scale,
                                scores.data() + static_cast<std::size_t>(j),
                                static_cast<std::size_t>(n));
                    continue;
                }
#endif
                for (int h = 0; h < query.group; ++h)
                    scores[static_cast<std::size_t>(h) * static_cast<std::size_t>(n) +
                           static_cast<std::size_t>(j)] = dot(query.q + h * d, k, d) * query.scale;
            }

    // 2. Softmax with the sink in the denominator (max taken over scores and sink).
    float* const inv_denominator = scores.data() + score_count;
    for (int h = 0; h < query.group; ++h) {
        float* row = scores.data() + static_cast<std::ptrdiff_t>(h) * n;
        const float sink = query.sinks[h];
#ifdef GOSSAMER_ATTENTION_AVX512
        if (wide) {
            inv_denominator[static_cast<std::size_t>(h)] = 1.0f / softmax_row_avx512(row, n, sink);
            continue;
        }
#endif
        const float max = std::max(sink, *std::max_element(row, row + n));
        float sum = std::exp(sink - max);
        for (int i = 0; i < n; ++i) sum += row[i] = std::exp(row[i] - max);
        inv_denominator[static_cast<std::size_t>(h)] = 1.0f / sum;
    }

    // 3. o_h = sum_j p[h][j] v_j, again one pass over the values for the group.
    std::memset(out, 0, sizeof(float) * static_cast<std::size_t>(query.group * d));
    j = 0;
#ifdef GOSSAMER_ATTENTION_AVX512
    if (wide) {
        const std::size_t row_stride = static_cast<std::size_t>(cache.row_elements());
        for (int r = 0; r < run_count; ++r) {
            if (runs[r].count == 0) continue;
            const T* v = static_cast<const T*>(cache.value_slot(layer, runs[r].slot)) + offset;
            with_chunks(d / 16, [&](auto C) {
                values_run_avx512<decltype(C)::value>(
                    v, row_stride, runs[r].count, scores.data() + static_cast<std::size_t>(j),
                    static_cast<std::size_t>(n), query.group, out);
            });
            j += runs[r].count;
        }
    }
#endif
    if (!wide)
        for (int r = 0; r < run_count; ++r)
            for (int s = 0; s < runs[r].count; ++s, ++j) {
                const T* v =
                    static_cast<const T*>(cache.value_slot(layer, runs[r].slot + s)) + offset;
#ifdef GOSSAMER_ATTENTION_AVX512
                if (narrow) {
                    values_avx2(v, scores.data() + static_cast<std::size_t>(j),
                                static_cast<std::size_t>(n), query.group, d, out);
                    continue;
                }
#endif
                for (int h = 0; h < query.group; ++h)
                    axpy(scores[static_cast<std::size_t>(h) * static_cast<std::size_t>(n) +
                                static_cast<std::size_t>(j)],
                         v, out + h * d, d);
            }
    normalize(out, inv_denominator, query.group, d);
}

#ifdef GOSSAMER_ATTENTION_AVX512
// attend_tile on AVX-512. The scores live in one row per (token, head) indexed by position
// from the tile's first (the union of the tokens' ranges); each token's softmax and value pass
// run over its own range within that row, starting where attend() starts, so every 16-wide
// chunk and every sum is the same.
template <int C, class T>
GOSSAMER_AVX512_TARGET void attend_tile_avx512(const CpuKvCache& cache, int layer,
                                               const AttentionTile& tile, float* out,
                                               std::size_t out_stride, AttentionScratch& s) {
    constexpr int d = 16 * C;
    const int group = tile.group;
    const int first = first_attended(tile, 0), last = tile.position + tile.tokens - 1;
    const int n = last - first + 1;
    const auto stride = static_cast<std::size_t>((n + 31) / 32 * 32);
    const auto offset = static_cast<std::ptrdiff_t>(tile.kv_head) * d;
    const auto row_stride = static_cast<std::size_t>(cache.row_elements());
    CpuKvCache::Run runs[2];
    if (cache.runs(layer, first, last, runs) == 1) runs[1] = {0, 0};
    // Tile index j (position first + j) -> its slot's row of this KV head.
    auto row = [&](const void* base0, int j) {
        const int slot = j < runs[0].count ? runs[0].slot + j : runs[1].slot + (j - runs[0].count);
        return static_cast<const T*>(base0) + static_cast<std::size_t>(slot) * row_stride + offset;
    };
    const void* keys0 = cache.key_slot(layer, 0);
    const void* values0 = cache.value_slot(layer, 0);
    // Token t's range within the row: [begin(t), end(t)).
    auto begin = [&](int t) { return first_attended(tile, t) - first; };
    auto end = [&](int t) { return tile.position + t - first + 1; };

    // 1. Scores, 32 keys at a time, for the tokens whose range meets the block; after them in
    // the same buffer, each (token, head)'s 1 / denominator (as attend() keeps its own).
    const std::size_t score_count = stride * static_cast<std::size_t>(tile.tokens * group);
    s.scores.resize(score_count + static_cast<std::size_t>(tile.tokens * group));
    s.keys.resize(static_cast<std::size_t>(d) * 32);
    for (int b = 0; b < n; b += 32) {
        const int count = std::min(32, n - b);
        for (int k = 0; k < 32; ++k) {
            const T* key = row(keys0, b + std::min(k, count - 1));
            for (int e = 0; e < d; ++e)
                s.keys[static_cast<std::size_t>(e * 32 + k)] = element(key[e]);
        }
        for (int t = 0; t < tile.tokens; ++t) {
            if (end(t) <= b || begin(t) >= b + count) continue;
            const float* q = tile.q + static_cast<std::size_t>(t) * tile.q_stride;
            float* sc = s.scores.data() + static_cast<std::size_t>(t * group) * stride +
                        static_cast<std::size_t>(b);
            for (int h = 0; h < group; h += 2) {
                const int h2 = std::min(h + 1, group - 1);
                scores_block_avx512<C>(s.keys.data(), q + static_cast<std::ptrdiff_t>(h) * d,
                                       q + static_cast<std::ptrdiff_t>(h2) * d, tile.scale,
                                       sc + static_cast<std::size_t>(h) * stride,
                                       sc + static_cast<std::size_t>(h2) * stride);
            }
        }
    }

    // 2. Softmax over each token's range, the sink in the denominator.
    float* const inv_denominator = s.scores.data() + score_count;
    for (int t = 0; t < tile.tokens; ++t)
        for (int h = 0; h < group; ++h) {
            float* r = s.scores.data() + static_cast<std::size_t>(t * group + h) * stride;
            inv_denominator[static_cast<std::size_t>(t * group + h)] =
                1.0f / softmax_row_avx512(r + begin(t), end(t) - begin(t), tile.sinks[h]);
        }

    // 3. Values, in blocks of rows widened once for the tile.
    s.values.resize(static_cast<std::size_t>(kValueRows * d));
    for (int t = 0; t < tile.tokens; ++t)
        std::memset(out + static_cast<std::size_t>(t) * out_stride, 0,
                    sizeof(float) * static_cast<std::size_t>(group * d));
    for (int b = 0; b < n; b += kValueRows) {
        const int count = std::min(kValueRows, n - b);
        for (int j = 0; j < count; ++j) {
            const T* v = row(values0, b + j);
            float* to = s.values.data() + static_cast<std::ptrdiff_t>(j) * d;
            for (int i = 0; i < d; i += 16) _mm512_storeu_ps(to + i, widen16(v + i));
        }
        for (int t = 0; t < tile.tokens; ++t) {
            const int j0 = std::max(b, begin(t)), j1 = std::min(b + count, end(t));
            if (j0 >= j1) continue;
            values_c<C>(WideRows{s.values.data(), d, b}, j0, j1,
                        s.scores.data() + static_cast<std::size_t>(t * group) * stride, stride,
                        group, out + static_cast<std::size_t>(t) * out_stride);
        }
    }
    for (int t = 0; t < tile.tokens; ++t)
        normalize(out + static_cast<std::size_t>(t) * out_stride,
                  inv_denominator + static_cast<std::size_t>(t * group), group, d);
}
#endif

}  // namespace

void attend(const CpuKvCache& cache, int layer, int first, int last, const AttentionQuery& query,
            float* out, std::vector<float>& scores) {
    if (cache.precision() == KvPrecision::Bf16)
        attend_as<std::uint16_t>(cache, layer, first, last, query, out, scores);
    else
        attend_as<float>(cache, layer, first, last, query, out, scores);
}

void attend_tile(const CpuKvCache& cache, int layer, const AttentionTile& tile, float* out,
                 std::size_t out_stride, AttentionScratch& scratch) {
#ifdef GOSSAMER_ATTENTION_AVX512
    if (tile.tokens > 1 && wide_heads(tile.head_dim)) {
        with_chunks(tile.head_dim / 16, [&](auto C) {
            constexpr int c = decltype(C)::value;
            if (cache.precision() == KvPrecision::Bf16)
                attend_tile_avx512<c, std::uint16_t>(cache, layer, tile, out, out_stride, scratch);
            else
                attend_tile_avx512<c, float>(cache, layer, tile, out, out_stride, scratch);
        });
        return;
    }
#endif
    AttentionQuery query;
    query.sinks = tile.sinks;
    query.group = tile.group;
    query.head_dim = tile.head_dim;
    query.kv_head = tile.kv_head;
    query.scale = tile.scale;
    for (int t = 0; t < tile.tokens; ++t) {
        const int pos = tile.position + t;
        query.q = tile.q + static_cast<std::size_t>(t) * tile.q_stride;
        attend(cache, layer, first_attended(tile, t), pos, query,
               out + static_cast<std::size_t>(t) * out_stride, scratch.scores);
    }
}

}  // namespace gossamer::engine::cpu
