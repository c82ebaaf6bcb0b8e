#include <algorithm>

#include "engine/cuda/attention.cuh"
#include "engine/cuda/common.cuh"
#include "engine/cuda/cuda_check.h"

namespace gossamer::engine::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kChunk = 128;  // keys scored per step (one per thread)
constexpr int kD = kAttentionHeadDim;
constexpr int kMaxG = kAttentionMaxGroup;
constexpr int kOutPerThread = kMaxG * kD / kThreads;

template <typename KV>
__device__ __forceinline__ void load_row64(const KV* p, float out[kD]);

template <>
__device__ __forceinline__ void load_row64<std::uint16_t>(const std::uint16_t* p, float out[kD]) {
    const uint4* v = reinterpret_cast<const uint4*>(p);
#pragma unroll
    for (int i = 0; i < kD / 8; ++i) unpack_bf16x8(v[i], out + 8 * i);
}

template <>
__device__ __forceinline__ void load_row64<float>(const float* p, float out[kD]) {
    const float4* v = reinterpret_cast<const float4*>(p);
#pragma unroll
    for (int i = 0; i < kD / 4; ++i) {
        const float4 x = v[i];
        out[4 * i] = x.x;
        out[4 * i + 1] = x.y;
        out[4 * i + 2] = x.z;
        out[4 * i + 3] = x.w;
    }
}

template <typename KV>
__global__ void __launch_bounds__(kThreads)
    attention_partial_kernel(const float* __restrict__ qkv, float scale, int splits,
                             float* __restrict__ partial, RoundView round, LayerShape shape) {
    const int t = static_cast<int>(blockIdx.x);  // x: tokens may exceed 65535 (y, z may not)
    const int kvh = static_cast<int>(blockIdx.y);
    const int split = static_cast<int>(blockIdx.z);
    const int tid = static_cast<int>(threadIdx.x);
    const int lane = tid & 31, warp = tid / 32;
    const int group = shape.heads / shape.kv_heads;
    const int pos = round.positions[t];
    const int first = shape.sliding ? max(0, pos - shape.window + 1) : 0;
    const int per = (pos - first + 1 + splits - 1) / splits;
    const int begin = first + split * per;
    const int end = min(begin + per, pos + 1);

    __shared__ float q_s[kMaxG][kD];
    __shared__ float s_s[kMaxG][kChunk];
    __shared__ std::size_t v_off[kChunk];
    __shared__ float m_s[kMaxG], l_s[kMaxG], a_s[kMaxG];

    const float* q = qkv + static_cast<std::size_t>(t) * shape.qkv_width() + kvh * group * kD;
    for (int i = tid; i < group * kD; i += kThreads) q_s[i / kD][i % kD] = q[i];
    if (tid < group) {
        m_s[tid] = -INFINITY;
        l_s[tid] = 0.0f;
    }
    float o[kOutPerThread];
#pragma unroll
    for (int i = 0; i < kOutPerThread; ++i) o[i] = 0.0f;
    const SeqKv seq = round.seqs[round.seq_of[t]];
    const KV* base = kv_base<KV>(seq, shape);
    __syncthreads();

    for (int chunk = begin; chunk < end; chunk += kChunk) {
        const int count = min(kChunk, end - chunk);
        // 1. Scores: thread j scores key chunk + j against every head of the group.
        if (tid < count) {
            const int p = chunk + tid;
            float k[kD];
            load_row64<KV>(base + kv_offset(seq, shape, 0, p) + kvh * kD, k);
            v_off[tid] = kv_offset(seq, shape, 1, p) + static_cast<std::size_t>(kvh * kD);
            for (int h = 0; h < group; ++h) {
                float dot = 0.0f;
#pragma unroll
                for (int c = 0; c < kD; ++c) dot += q_s[h][c] * k[c];
                s_s[h][tid] = dot * scale;
            }
        }
        __syncthreads();
        // 2. Online softmax per head (one warp per head).
        for (int h = warp; h < group; h += kThreads / 32) {
            float mx = -INFINITY;
            for (int j = lane; j < count; j += 32) mx = fmaxf(mx, s_s[h][j]);
            mx = warp_max(mx);
            const float m_new = fmaxf(m_s[h], mx);
            float sum = 0.0f;
            for (int j = lane; j < count; j += 32) {
                const float e = expf(s_s[h][j] - m_new);
                s_s[h][j] = e;
                sum += e;
            }
            sum = warp_sum(sum);
            if (lane == 0) {
                const float alpha = expf(m_s[h] - m_new);
                a_s[h] = alpha;
                l_s[h] = l_s[h] * alpha + sum;
                m_s[h] = m_new;
            }
        }
        __syncthreads();
        // 3. o_h = o_h * alpha_h + sum_j p_hj v_j; thread owns (h, d) pairs.
#pragma unroll
        for (int i = 0; i < kOutPerThread; ++i) {
            const int idx = tid + i * kThreads;
            if (idx < group * kD) {
                const int h = idx / kD, d = idx % kD;
                float acc = o[i] * a_s[h];
                for (int j = 0; j < count; ++j) acc += s_s[h][j] * kv_load(base + v_off[j] + d);
                o[i] = acc;
            }
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < kOutPerThread; ++i) {
        const int idx = tid + i * kThreads;
        if (idx < group * kD) {
            const int h = idx / kD, d = idx % kD;
            const int qh = kvh * group + h;
            float* dst =
                partial +
                ((static_cast<std::size_t>(t) * shape.heads + qh) * splits + split) * (kD + 2);
            dst[d] = o[i];
            if (d == 0) {
                dst[kD] = m_s[h];
                dst[kD + 1] = l_s[h];
            }
        }
    }
}

// One block of head_dim threads per (token, head): merges the splits and the sink.
__global__ void attention_combine_kernel(const float* __restrict__ partial,
                                         const float* __restrict__ sinks, int heads, int splits,
                                         float* __restrict__ out) {
    const int t = static_cast<int>(blockIdx.x) / heads;
    const int qh = static_cast<int>(blockIdx.x) % heads;
    const int d = static_cast<int>(threadIdx.x);
    const float* src = partial + (static_cast<std::size_t>(t) * heads + qh) * splits * (kD + 2);
    const float sink = sinks[qh];
    float m = sink;
    for (int s = 0; s < splits; ++s) m = fmaxf(m, src[s * (kD + 2) + kD]);
    float denominator = expf(sink - m);
    float acc = 0.0f;
    for (int s = 0; s < splits; ++s) {
        const float* part = src + s * (kD + 2);
        const float w = expf(part[kD] - m);  // 0 for an empty split (m = -inf)
        denominator += part[kD + 1] * w;
        acc += part[d] * w;
    }
    out[static_cast<std::size_t>(t) * heads * kD + qh * kD + d] = acc / denominator;
}

}  // namespace

int attention_splits(int tokens, int kv_heads, int max_keys, int sms) {
    const int blocks = std::max(1, tokens * kv_heads);
    const int wanted = ceil_div(2 * sms * 4, blocks);
    const int most = std::max(1, ceil_div(max_keys, 256));
    return std::clamp(wanted, 1, most);
}

template <typename KV>
void attention(const AttentionArgs& args, const RoundView& round, const LayerShape& shape,
               cudaStream_t stream) {
    if (args.tokens <= 0) return;
    if (shape.head_dim != kD || shape.heads % shape.kv_heads != 0 ||
        shape.heads / shape.kv_heads > kMaxG)
        throw ModelError(
            "cuda attention: needs head_dim 64 and at most 16 query heads per KV head");
    if (args.splits < 1 || args.splits > 65535)
        throw ModelError("cuda attention: splits must be in 1..65535");
    const dim3 grid(static_cast<unsigned>(args.tokens), static_cast<unsigned>(shape.kv_heads),
                    static_cast<unsigned>(args.splits));
    attention_partial_kernel<KV><<<grid, kThreads, 0, stream>>>(args.qkv, args.scale, args.splits,
                                                                args.partial, round, shape);
    CUDA_CHECK_LAUNCH("attention_partial_kernel");
    attention_combine_kernel<<<static_cast<unsigned>(args.tokens * shape.heads), kD, 0, stream>>>(
        args.partial, args.sinks, shape.heads, args.splits, args.out);
    CUDA_CHECK_LAUNCH("attention_combine_kernel");
}

template void attention<float>(const AttentionArgs&, const RoundView&, const LayerShape&,
                               cudaStream_t);
template void attention<std::uint16_t>(const AttentionArgs&, const RoundView&, const LayerShape&,
                                       cudaStream_t);

}  // namespace gossamer::engine::cuda
