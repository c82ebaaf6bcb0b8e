#include "engine/cpu/attention.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

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
template <class T>
GOSSAMER_AVX512_TARGET void scores2_avx512(const T* k0, const T* k1, const float* q, int group,
                                           int d, float scale, float* scores, std::size_t stride) {
    __m512 kf0[8], kf1[8];
    const int c = d / 16;
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

// out_h += sum_j p[h * stride + j] * v_j over `count` value rows (slots `row_stride` elements
// apart), each output the same multiply-adds in the same order as a row-by-row pass, but with the
// outputs of up to 16 / (d / 16) heads held in registers across a block of rows (each row
// widened once per such set of heads, the block read from L1), instead of loaded and stored
// for every row.
template <class T>
GOSSAMER_AVX512_TARGET void values_run_avx512(const T* v, std::size_t row_stride, int count,
                                              const float* p, std::size_t stride, int group, int d,
                                              float* out) {
    constexpr int kBlock = 128;  // rows: 16 KB of bf16 values at d = 64
    const int c = d / 16;
    const int per_pass = std::max(1, 16 / c);
    for (int j0 = 0; j0 < count; j0 += kBlock) {
        const int j1 = std::min(count, j0 + kBlock);
        for (int h0 = 0; h0 < group; h0 += per_pass) {
            const int heads = std::min(per_pass, group - h0);
            __m512 acc[16];
            for (int h = 0; h < heads; ++h)
                for (int i = 0; i < c; ++i)
                    acc[h * c + i] =
                        _mm512_loadu_ps(out + static_cast<std::ptrdiff_t>(h0 + h) * d + 16 * i);
            for (int j = j0; j < j1; ++j) {
                const T* row = v + static_cast<std::size_t>(j) * row_stride;
                __m512 vf[8];
                for (int i = 0; i < c; ++i) vf[i] = widen16(row + 16 * i);
                for (int h = 0; h < heads; ++h) {
                    const __m512 ph = _mm512_set1_ps(
                        p[static_cast<std::size_t>(h0 + h) * stride + static_cast<std::size_t>(j)]);
                    for (int i = 0; i < c; ++i)
                        acc[h * c + i] = _mm512_fmadd_ps(ph, vf[i], acc[h * c + i]);
                }
            }
            for (int h = 0; h < heads; ++h)
                for (int i = 0; i < c; ++i)
                    _mm512_storeu_ps(out + static_cast<std::ptrdiff_t>(h0 + h) * d + 16 * i,
                                     acc[h * c + i]);
        }
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

template <class T>
void attend_as(const CpuKvCache& cache, int layer, int first, int last, const AttentionQuery& query,
               float* out, std::vector<float>& scores) {
    const int n = last - first + 1;
    const int d = query.head_dim;
    const auto offset = static_cast<std::ptrdiff_t>(query.kv_head) * d;
    scores.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(query.group));
    CpuKvCache::Run runs[2];
    const int run_count = cache.runs(layer, first, last, runs);

#ifdef GOSSAMER_ATTENTION_AVX512
    static const bool avx512 = cpu_features().avx512;
    static const bool avx2 = cpu_features().avx2_fma;
    const bool wide = avx512 && d % 16 == 0 && d <= 128;
    const bool narrow = !wide && avx2 && d % 8 == 0 && d <= 64;
#else
    const bool wide = false, narrow = false;
#endif
    // 1. Scores s[h][j] = q_h . k_j * scale, reading each key once for the whole group.
    int j = 0;
#ifdef GOSSAMER_ATTENTION_AVX512
    if (wide) {
        const std::size_t row_stride = static_cast<std::size_t>(cache.row_elements());
        for (int r = 0; r < run_count; ++r) {
            if (runs[r].count == 0) continue;
            const T* k = static_cast<const T*>(cache.key_slot(layer, runs[r].slot)) + offset;
            for (int s = 0; s < runs[r].count; s += 2) {
                const T* k0 = k + static_cast<std::size_t>(s) * row_stride;
                const T* k1 = s + 1 < runs[r].count ? k0 + row_stride : k0;
                scores2_avx512(k0, k1, query.q, query.group, d, query.scale,
                               scores.data() + static_cast<std::size_t>(j + s),
                               static_cast<std::size_t>(n));
            }
            j += runs[r].count;
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
    std::vector<float> inv_denominator(static_cast<std::size_t>(query.group));
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
            values_run_avx512(v, row_stride, runs[r].count,
                              scores.data() + static_cast<std::size_t>(j),
                              static_cast<std::size_t>(n), query.group, d, out);
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
    for (int h = 0; h < query.group; ++h)
        for (int i = 0; i < d; ++i) out[h * d + i] *= inv_denominator[static_cast<std::size_t>(h)];
}

}  // namespace

void attend(const CpuKvCache& cache, int layer, int first, int last, const AttentionQuery& query,
            float* out, std::vector<float>& scores) {
    if (cache.precision() == KvPrecision::Bf16)
        attend_as<std::uint16_t>(cache, layer, first, last, query, out, scores);
    else
        attend_as<float>(cache, layer, first, last, query, out, scores);
}

}  // namespace gossamer::engine::cpu
