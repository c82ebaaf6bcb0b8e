// MoE routing after the router matmul: per token the top-k of the raw logits (ties: lower
// expert id first) and a softmax over the k selected, as cpu moe.cpp's route(); then the
// grouping of (token, slot) entries by expert exactly as plan_experts() (expert_plan.h), on
// the device so decode needs no host round trip.
#pragma once

#include <cuda_runtime.h>

namespace gossamer::engine::cuda {

// logits [tokens, experts] -> chosen [tokens, k], weights [tokens, k]. k <= 8.
void route_top_k(const float* logits, int tokens, int experts, int k, int* chosen, float* weights,
                 cudaStream_t stream);

// chosen [tokens, k] -> offsets [experts + 1], entries [tokens * k], active [experts] and
// active_count [1] (experts with entries, increasing). One block; deterministic.
void group_by_expert(const int* chosen, int entries_count, int experts, int* offsets, int* entries,
                     int* active, int* active_count, cudaStream_t stream);

}  // namespace gossamer::engine::cuda
