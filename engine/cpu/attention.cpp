#include "engine/cpu/attention.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

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

template <class T>
void attend_as(const CpuKvCache& cache, int layer, int first, int last, const AttentionQuery& query,
               float* out, std::vector<float>& scores) {
    const int n = last - first + 1;
    const int d = query.head_dim;
    const auto offset = static_cast<std::ptrdiff_t>(query.kv_head) * d;
    scores.resize(static_cast<std::size_t>(n) * static_cast<std::size_t>(query.group));
    CpuKvCache::Run runs[2];
    const int run_count = cache.runs(layer, first, last, runs);

    // 1. Scores s[h][j] = q_h . k_j * scale, reading each key once for the whole group.
    int j = 0;
    for (int r = 0; r < run_count; ++r)
        for (int s = 0; s < runs[r].count; ++s, ++j) {
            const T* k = static_cast<const T*>(cache.key_slot(layer, runs[r].slot + s)) + offset;
            for (int h = 0; h < query.group; ++h)
                scores[static_cast<std::size_t>(h) * static_cast<std::size_t>(n) +
                       static_cast<std::size_t>(j)] = dot(query.q + h * d, k, d) * query.scale;
        }

    // 2. Softmax with the sink in the denominator (max taken over scores and sink).
    std::vector<float> inv_denominator(static_cast<std::size_t>(query.group));
    for (int h = 0; h < query.group; ++h) {
        float* row = scores.data() + static_cast<std::ptrdiff_t>(h) * n;
        const float sink = query.sinks[h];
        const float max = std::max(sink, *std::max_element(row, row + n));
        float sum = std::exp(sink - max);
        for (int i = 0; i < n; ++i) sum += row[i] = std::exp(row[i] - max);
        inv_denominator[static_cast<std::size_t>(h)] = 1.0f / sum;
    }

    // 3. o_h = sum_j p[h][j] v_j, again one pass over the values for the group.
    std::memset(out, 0, sizeof(float) * static_cast<std::size_t>(query.group * d));
    j = 0;
    for (int r = 0; r < run_count; ++r)
        for (int s = 0; s < runs[r].count; ++s, ++j) {
            const T* v = static_cast<const T*>(cache.value_slot(layer, runs[r].slot + s)) + offset;
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
