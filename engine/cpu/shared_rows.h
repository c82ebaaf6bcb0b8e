// The unembedding rows many tokens share: a model trained on part of the vocabulary (the
// bundled gpt-oss-nano leaves 198,701 of 201,088 rows at one constant value) has one row
// repeated bit for bit. Found once at load; the backend then computes each distinct row's
// logit once and gives the shared value to every token of the shared row. Exact: equal rows
// give equal logits. Official checkpoints have no such row and keep the plain path. Pure: no
// threads, no I/O; it must not change any weight.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace gossamer::engine::cpu {

struct SharedRows {
    std::vector<std::uint16_t> weights;  // [ids.size() + 1, cols] bf16: distinct rows, shared last
    std::vector<std::int32_t> ids;       // the token id of each distinct row, ascending
    int shared_count = 0;                // tokens whose row is the shared one
};

// `w` is [rows, cols] bf16. A SharedRows when one row value is held by at least
// `min_fraction` of the rows, else nullopt (then nothing is gained).
std::optional<SharedRows> find_shared_rows(const std::uint16_t* w, int rows, int cols,
                                           double min_fraction = 0.25);

// Spreads `compact` ([ids.size() + 1] logits of one token) over `out` ([vocab]).
void expand_shared_rows(const SharedRows& shared, const float* compact, float* out, int vocab);

}  // namespace gossamer::engine::cpu
