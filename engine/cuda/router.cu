#include "engine/cuda/common.cuh"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/router.cuh"

namespace gossamer::engine::cuda {
namespace {

constexpr int kMaxK = 8;
constexpr int kGroupThreads = 1024;

// One thread per token: k passes of selection over the experts (k * experts compares).
__global__ void top_k_kernel(const float* __restrict__ logits, int tokens, int experts, int k,
                             int* __restrict__ chosen, float* __restrict__ weights) {
    const int t = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
    if (t >= tokens) return;
    const float* row = logits + static_cast<std::size_t>(t) * experts;
    int picked[kMaxK];
    for (int i = 0; i < k; ++i) {
        int best = -1;
        float best_value = 0.0f;
        for (int e = 0; e < experts; ++e) {
            bool taken = false;
            for (int j = 0; j < i; ++j) taken = taken || picked[j] == e;
            if (taken) continue;
            const float v = row[e];
            if (best < 0 || v > best_value) {  // strict: ties keep the lower id
                best = e;
                best_value = v;
            }
        }
        picked[i] = best;
    }
    const float max = row[picked[0]];
    float w[kMaxK];
    float sum = 0.0f;
    for (int i = 0; i < k; ++i) {
        w[i] = expf(row[picked[i]] - max);
        sum += w[i];
    }
    for (int i = 0; i < k; ++i) {
        chosen[t * k + i] = picked[i];
        weights[t * k + i] = w[i] / sum;
    }
}

// Thread e (strided) counts and then lists expert e's entries in increasing order.
__global__ void __launch_bounds__(kGroupThreads)
    group_kernel(const int* __restrict__ chosen, int n, int experts, int* __restrict__ offsets,
                 int* __restrict__ entries, int* __restrict__ active,
                 int* __restrict__ active_count) {
    extern __shared__ int counts[];  // [experts + 1]
    for (int e = static_cast<int>(threadIdx.x); e < experts; e += kGroupThreads) {
        int c = 0;
        for (int r = 0; r < n; ++r) c += chosen[r] == e;
        counts[e + 1] = c;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        counts[0] = 0;
        int live = 0;
        for (int e = 0; e < experts; ++e) {
            if (counts[e + 1] > 0) active[live++] = e;
            counts[e + 1] += counts[e];
        }
        *active_count = live;
    }
    __syncthreads();
    for (int e = static_cast<int>(threadIdx.x); e <= experts; e += kGroupThreads)
        offsets[e] = counts[e];
    for (int e = static_cast<int>(threadIdx.x); e < experts; e += kGroupThreads) {
        int out = counts[e];
        for (int r = 0; r < n; ++r)
            if (chosen[r] == e) entries[out++] = r;
    }
}

}  // namespace

void route_top_k(const float* logits, int tokens, int experts, int k, int* chosen, float* weights,
                 cudaStream_t stream) {
    if (tokens <= 0) return;
    if (k > kMaxK || k > experts) throw ModelError("cuda router: experts_per_token must be <= 8");
    top_k_kernel<<<static_cast<unsigned>(ceil_div(tokens, 128)), 128, 0, stream>>>(
        logits, tokens, experts, k, chosen, weights);
    CUDA_CHECK_LAUNCH("top_k_kernel");
}

void group_by_expert(const int* chosen, int entries_count, int experts, int* offsets, int* entries,
                     int* active, int* active_count, cudaStream_t stream) {
    const std::size_t shared = static_cast<std::size_t>(experts + 1) * sizeof(int);
    group_kernel<<<1, kGroupThreads, shared, stream>>>(chosen, entries_count, experts, offsets,
                                                       entries, active, active_count);
    CUDA_CHECK_LAUNCH("group_kernel");
}

}  // namespace gossamer::engine::cuda
