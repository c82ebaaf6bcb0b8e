#include "engine/cuda/expert_plan.h"

#include <string>

#include "engine/model_error.h"

namespace gossamer::engine::cuda {

ExpertPlan plan_experts(const std::vector<int>& chosen, int tokens, int k, int experts) {
    const auto n = static_cast<std::size_t>(tokens) * static_cast<std::size_t>(k);
    if (chosen.size() != n) throw ModelError("plan_experts: chosen must hold tokens*k ids");
    ExpertPlan plan;
    plan.offsets.assign(static_cast<std::size_t>(experts) + 1, 0);
    for (int e : chosen) {
        if (e < 0 || e >= experts)
            throw ModelError("plan_experts: expert id " + std::to_string(e) + " outside [0, " +
                             std::to_string(experts) + ")");
        ++plan.offsets[static_cast<std::size_t>(e) + 1];
    }
    for (std::size_t e = 0; e < static_cast<std::size_t>(experts); ++e) {
        if (plan.offsets[e + 1] > 0) plan.active.push_back(static_cast<int>(e));
        plan.offsets[e + 1] += plan.offsets[e];
    }
    plan.entries.resize(n);
    std::vector<int> cursor(plan.offsets.begin(), plan.offsets.end() - 1);
    for (std::size_t r = 0; r < n; ++r)
        plan.entries[static_cast<std::size_t>(cursor[static_cast<std::size_t>(chosen[r])]++)] =
            static_cast<int>(r);
    return plan;
}

}  // namespace gossamer::engine::cuda
