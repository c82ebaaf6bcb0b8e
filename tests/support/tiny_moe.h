// Test support: the golden tiny-moe checkpoints (tests/data/golden) loaded once per test
// binary, their prompt, and greedy requests for the scheduler. Engine tests only.
#pragma once

#include <string>
#include <vector>

#include "engine/scheduler.h"
#include "engine/weights.h"
#include "tests/support/golden.h"

namespace gossamer::test {

// "tiny-moe" (64-token prompt) or "tiny-moe-long" (4200 tokens, past the sliding window).
inline const engine::Weights& tiny_moe(const std::string& name = "tiny-moe") {
    static const engine::Weights short_model = engine::load_weights(golden("tiny-moe/model"));
    static const engine::Weights long_model = engine::load_weights(golden("tiny-moe-long/model"));
    return name == "tiny-moe" ? short_model : long_model;
}

inline std::vector<engine::TokenId> tiny_moe_prompt(const std::string& name = "tiny-moe") {
    return read_raw<std::int32_t>(golden(name + "/prompt.i32"));
}

inline engine::GenerateRequest greedy_request(std::vector<engine::TokenId> tokens, int max_tokens) {
    engine::GenerateRequest r;
    r.prompt = std::move(tokens);
    r.max_tokens = max_tokens;
    r.sampling.temperature = 0;
    return r;
}

inline std::vector<engine::TokenId> tokens_of(const engine::GenerateResult& r) {
    std::vector<engine::TokenId> out;
    for (const auto& s : r.samples) out.push_back(s.token);
    return out;
}

}  // namespace gossamer::test
