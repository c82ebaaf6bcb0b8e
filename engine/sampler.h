// Turns one row of logits into the next token: temperature, top-k, top-p and a seeded
// generator, so the same seed and logits always give the same token. Also reports the
// chosen token's log-probability and the most likely alternatives. It sees logits only; it
// must not know about sequences, stop tokens or the backend (engine/scheduler.h).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/token_constraint.h"

namespace gossamer::engine {

struct SamplingParams {
    // The model card's defaults: temperature 1, top-p 1 (lower top-p makes gpt-oss loop).
    // temperature 0 is greedy decoding (ties go to the lowest id).
    float temperature = 1.0f;
    float top_p = 1.0f;  // in (0, 1]
    int top_k = 0;       // 0: no limit
    std::uint64_t seed = 0;
    int top_logprobs = 0;  // alternatives to report per token, at most 20
};

// Throws ModelError naming the field when a value is out of range (negative or non-finite
// temperature, top_p outside (0, 1], negative top_k, top_logprobs outside [0, 20]).
void validate(const SamplingParams& params);

struct TokenLogprob {
    std::int32_t token = 0;
    float logprob = 0;  // log-softmax of the raw logits (before temperature and truncation)
};

struct Sample {
    std::int32_t token = 0;
    float logprob = 0;
    std::vector<TokenLogprob> top;  // params.top_logprobs entries, most likely first
};

// A chain of small steps per token: (1) the row is checked and its log-softmax normaliser
// taken; (2) a token is picked: greedy, or temperature -> top-k -> top-p -> a seeded draw;
// with a TokenConstraint the pick is masked: a candidate it refuses is removed and the pick
// repeats (exactly the masked distribution), and after a few refusals the allowed tokens are
// found in logit order instead; (3) its logprob and the top alternatives are reported from
// the raw row. The sampler never calls the constraint's accept: its caller does.
class Sampler {
  public:
    explicit Sampler(const SamplingParams& params);
    Sample next(std::span<const float> logits, const TokenConstraint* constraint = nullptr);
    const SamplingParams& params() const { return params_; }

  private:
    struct RowStats {
        float max_logit;
        std::size_t argmax;
    };
    static RowStats row_stats(std::span<const float> logits);
    std::int32_t pick(std::span<const float> logits, const RowStats& stats);
    std::int32_t pick_allowed(std::span<const float> logits, const RowStats& stats,
                              const TokenConstraint& constraint);
    double uniform();            // [0, 1) from the seeded xoshiro256** state
    std::vector<float> masked_;  // scratch: the row with refused tokens at -inf

    SamplingParams params_;
    std::uint64_t state_[4];
    std::vector<std::int32_t> order_;  // scratch: candidate ids
    std::vector<float> weight_;        // scratch: candidate probabilities
};

}  // namespace gossamer::engine
