// How the MoE groups a batch's (token, slot) pairs by expert: the plan the CUDA router's
// grouping kernel builds on the device, written here in plain C++ as its specification (the
// GPU test compares the two) and for host-side planning. No CUDA here.
#pragma once

#include <vector>

namespace gossamer::engine::cuda {

struct ExpertPlan {
    // Entries r = t*k + slot, grouped by expert in increasing expert id and, within an
    // expert, in increasing r: entries[offsets[e] .. offsets[e+1]) go to expert e.
    std::vector<int> offsets;  // [experts + 1]
    std::vector<int> entries;  // [tokens * k]
    // Experts with at least one entry, increasing.
    std::vector<int> active;
};

// chosen: [tokens, k] expert ids in [0, experts). Throws ModelError for ids out of range.
ExpertPlan plan_experts(const std::vector<int>& chosen, int tokens, int k, int experts);

}  // namespace gossamer::engine::cuda
