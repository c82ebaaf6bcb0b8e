// Prompt-lookup drafts for speculative decoding: agents copy from their context (tool output,
// code, file contents), so the tokens that followed the last occurrence of the sequence's
// newest n tokens are a cheap guess at what comes next. The scheduler feeds the guess with
// the last sampled token in one forward and keeps the longest prefix the sampler agrees with
// (engine/scheduler.h). Pure: no model, no state.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace gossamer::engine {

struct DraftOptions {
    int max_tokens = 8;  // at most this many drafted tokens
    int min_ngram = 2;   // the suffix that must match, longest tried first
    int max_ngram = 4;
    int window = 1 << 16;  // how far back the lookup searches (tokens)
};

// Up to max_tokens tokens that followed the most recent earlier occurrence of the longest
// suffix of `tokens` (between max_ngram and min_ngram long); empty when there is none.
std::vector<std::int32_t> ngram_draft(std::span<const std::int32_t> tokens,
                                      const DraftOptions& options);

}  // namespace gossamer::engine
