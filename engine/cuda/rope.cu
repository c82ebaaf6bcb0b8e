#include "engine/cuda/common.cuh"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/rope.cuh"

namespace gossamer::engine::cuda {
namespace {

__global__ void rope_table_kernel(const int* __restrict__ positions, int tokens,
                                  const float* __restrict__ inv_freq, int half, float concentration,
                                  float* __restrict__ cos_sin) {
    const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    if (i >= tokens * half) return;
    const int t = i / half, f = i % half;
    const float angle = __fmul_rn(static_cast<float>(positions[t]), inv_freq[f]);
    float* row = cos_sin + static_cast<std::size_t>(t) * 2 * half;
    row[f] = __fmul_rn(static_cast<float>(cos(static_cast<double>(angle))), concentration);
    row[half + f] = __fmul_rn(static_cast<float>(sin(static_cast<double>(angle))), concentration);
}

// One block per token; threads over (head, i < half) of the q and k heads, then v copied.
template <typename KV>
__global__ void rope_store_kernel(float* __restrict__ qkv, const float* __restrict__ cos_sin,
                                  RoundView round, int layer, LayerShape shape) {
    const int t = static_cast<int>(blockIdx.x);
    const int d = shape.head_dim, half = d / 2;
    float* row = qkv + static_cast<std::size_t>(t) * shape.qkv_width();
    const float* cs = cos_sin + static_cast<std::size_t>(t) * d;
    const int pos = round.positions[t];
    const SeqKv seq = round.seqs[round.seq_of[t]];
    KV* base = kv_base<KV>(seq, shape);
    KV* key = base + kv_offset(seq, shape, 0, pos);
    KV* value = base + kv_offset(seq, shape, 1, pos);
    const int rotate_heads = shape.heads + shape.kv_heads;
    for (int j = static_cast<int>(threadIdx.x); j < rotate_heads * half;
         j += static_cast<int>(blockDim.x)) {
        const int h = j / half, i = j % half;
        float* x1 = row + h * d + i;  // k heads follow the q heads in the row
        float* x2 = x1 + half;
        const float a = *x1, b = *x2, c = cs[i], s = cs[half + i];
        const float r1 = __fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s));
        const float r2 = __fadd_rn(__fmul_rn(b, c), __fmul_rn(a, s));
        *x1 = r1;
        *x2 = r2;
        if (h >= shape.heads) {
            const int kv = (h - shape.heads) * d + i;
            kv_store(key + kv, r1);
            kv_store(key + kv + half, r2);
        }
    }
    const float* v = row + shape.q_width() + shape.kv_width();
    for (int j = static_cast<int>(threadIdx.x); j < shape.kv_width();
         j += static_cast<int>(blockDim.x))
        kv_store(value + j, v[j]);
}

}  // namespace

void rope_table(const int* positions, int tokens, const float* inv_freq, int half,
                float concentration, float* cos_sin, cudaStream_t stream) {
    if (tokens <= 0) return;
    const int n = tokens * half;
    rope_table_kernel<<<static_cast<unsigned>(ceil_div(n, 256)), 256, 0, stream>>>(
        positions, tokens, inv_freq, half, concentration, cos_sin);
    CUDA_CHECK_LAUNCH("rope_table_kernel");
}

template <typename KV>
void rope_and_store_kv(float* qkv, int tokens, const float* cos_sin, const RoundView& round,
                       int layer, const LayerShape& shape, cudaStream_t stream) {
    if (tokens <= 0) return;
    rope_store_kernel<KV>
        <<<static_cast<unsigned>(tokens), 256, 0, stream>>>(qkv, cos_sin, round, layer, shape);
    CUDA_CHECK_LAUNCH("rope_store_kernel");
}

template void rope_and_store_kv<float>(float*, int, const float*, const RoundView&, int,
                                       const LayerShape&, cudaStream_t);
template void rope_and_store_kv<std::uint16_t>(float*, int, const float*, const RoundView&, int,
                                               const LayerShape&, cudaStream_t);

}  // namespace gossamer::engine::cuda
