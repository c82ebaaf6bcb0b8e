// The expert grouping plan (engine/cuda/expert_plan.h), the specification the device's
// grouping kernel is tested against.
#include <doctest/doctest.h>

#include <random>

#include "engine/cuda/expert_plan.h"
#include "engine/model_error.h"

using namespace gossamer::engine;

TEST_CASE("cuda expert plan: entries grouped by expert, in order, with the active list") {
    // tokens 0..2, k = 2: t0 -> {3, 1}, t1 -> {1, 0}, t2 -> {3, 0}
    const auto plan = cuda::plan_experts({3, 1, 1, 0, 3, 0}, 3, 2, 5);
    CHECK(plan.offsets == std::vector<int>{0, 2, 4, 4, 6, 6});
    CHECK(plan.entries == std::vector<int>{3, 5, 1, 2, 0, 4});
    CHECK(plan.active == std::vector<int>{0, 1, 3});
    CHECK_THROWS_AS(cuda::plan_experts({0, 5}, 1, 2, 5), ModelError);
}

TEST_CASE("cuda expert plan: every entry appears once under its expert (random)") {
    std::mt19937 rng(3);
    const int tokens = 97, k = 4, experts = 32;
    std::vector<int> chosen(tokens * k);
    for (int& e : chosen) e = static_cast<int>(rng() % experts);
    const auto plan = cuda::plan_experts(chosen, tokens, k, experts);
    std::vector<int> seen(chosen.size(), 0);
    for (int e = 0; e < experts; ++e)
        for (int i = plan.offsets[static_cast<std::size_t>(e)];
             i < plan.offsets[static_cast<std::size_t>(e) + 1]; ++i) {
            const int r = plan.entries[static_cast<std::size_t>(i)];
            CHECK(chosen[static_cast<std::size_t>(r)] == e);
            ++seen[static_cast<std::size_t>(r)];
        }
    for (int s : seen) CHECK(s == 1);
}
