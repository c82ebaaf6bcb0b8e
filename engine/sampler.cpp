#include "engine/sampler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <string>

#include "engine/model_error.h"

namespace gossamer::engine {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr std::size_t kTopPFirstTry = 1024;  // candidates sorted before falling back to all

std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

// NaN counts as -inf so a broken row can never be sampled from silently.
float clean(float logit) {
    return std::isnan(logit) ? kNegInf : logit;
}

// e^x for x <= 0 in float, written so that the compiler vectorises it (no calls, no
// branches): x log2(e) = n + f with n an integer and |f| <= 1/2, 2^f by its Taylor series to
// degree 6 (relative error < 2e-7), 2^n by the exponent bits. Below -87 it is 0; NaN is 0.
inline float exp_nonpositive(float x) {
    const float t = std::max(-87.0f, x) * 1.44269504f;  // NaN and -inf -> -87
    const int n = -static_cast<int>(0.5f - t);          // round to nearest, t <= 0
    const float f = (t - static_cast<float>(n)) * 0.693147181f;
    float p = 1.0f / 720;
    p = p * f + 1.0f / 120;
    p = p * f + 1.0f / 24;
    p = p * f + 1.0f / 6;
    p = p * f + 0.5f;
    p = p * f + 1.0f;
    p = p * f + 1.0f;
    const float scale = std::bit_cast<float>(static_cast<std::uint32_t>(n + 127) << 23);
    return x < -87.0f || x != x ? 0.0f : p * scale;
}

// sum_i e^(logits[i] - max) in double, each term in float (exp_nonpositive): the log-softmax
// normaliser every sample reports, over the whole vocabulary, so it must be cheap.
double sum_exp(std::span<const float> logits, float max_logit) {
    double total = 0;
    constexpr std::size_t kBlock = 256;
    float terms[kBlock];
    for (std::size_t start = 0; start < logits.size(); start += kBlock) {
        const std::size_t n = std::min(kBlock, logits.size() - start);
        const float* l = logits.data() + start;
        for (std::size_t i = 0; i < n; ++i) terms[i] = exp_nonpositive(l[i] - max_logit);
        double block = 0;
        for (std::size_t i = 0; i < n; ++i) block += static_cast<double>(terms[i]);
        total += block;
    }
    return total;
}

// Orders ids by logit, highest first; equal logits by lower id (deterministic).
struct ByLogit {
    std::span<const float> logits;
    bool operator()(std::int32_t a, std::int32_t b) const {
        const float la = clean(logits[static_cast<std::size_t>(a)]);
        const float lb = clean(logits[static_cast<std::size_t>(b)]);
        return la > lb || (la == lb && a < b);
    }
};

// The `n` highest-logit ids, best first.
void top_ids(std::span<const float> logits, std::size_t n, std::vector<std::int32_t>& ids) {
    ids.resize(logits.size());
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>(i);
    n = std::min(n, ids.size());
    std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(),
                      ByLogit{logits});
    ids.resize(n);
}

}  // namespace

void validate(const SamplingParams& p) {
    if (!std::isfinite(p.temperature) || p.temperature < 0)
        throw ModelError("sampling: temperature must be a finite number >= 0, got " +
                         std::to_string(p.temperature));
    if (!(p.top_p > 0 && p.top_p <= 1))
        throw ModelError("sampling: top_p must be in (0, 1], got " + std::to_string(p.top_p));
    if (p.top_k < 0)
        throw ModelError("sampling: top_k must be >= 0 (0 = no limit), got " +
                         std::to_string(p.top_k));
    if (p.top_logprobs < 0 || p.top_logprobs > 20)
        throw ModelError("sampling: top_logprobs must be in [0, 20], got " +
                         std::to_string(p.top_logprobs));
}

Sampler::Sampler(const SamplingParams& params) : params_(params) {
    validate(params_);
    std::uint64_t seed = params_.seed;
    for (auto& s : state_) s = splitmix64(seed);
}

double Sampler::uniform() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return static_cast<double>(result >> 11) * 0x1.0p-53;
}

Sampler::RowStats Sampler::row_stats(std::span<const float> logits) {
    if (logits.empty()) throw ModelError("sampler: empty logits row");
    RowStats st{kNegInf, 0};
    for (std::size_t i = 0; i < logits.size(); ++i)
        if (clean(logits[i]) > st.max_logit) st.max_logit = clean(logits[i]), st.argmax = i;
    if (st.max_logit == std::numeric_limits<float>::infinity())
        throw ModelError("sampler: a logit is +inf (the forward pass overflowed)");
    return st;
}

Sample Sampler::next(std::span<const float> logits, const TokenConstraint* constraint) {
    // 1. The row and its log-softmax normaliser (what logprobs report).
    const RowStats st = row_stats(logits);
    if (st.max_logit == kNegInf) throw ModelError("sampler: every logit is NaN or -inf");
    const double raw_sum = sum_exp(logits, st.max_logit);
    const double log_norm = static_cast<double>(st.max_logit) + std::log(raw_sum);
    auto logprob = [&](std::size_t id) {
        return static_cast<float>(static_cast<double>(clean(logits[id])) - log_norm);
    };
    // 2. The pick, masked by the constraint when there is one.
    Sample out;
    out.token = constraint ? pick_allowed(logits, st, *constraint) : pick(logits, st);
    // 3. What is reported.
    out.logprob = logprob(static_cast<std::size_t>(out.token));
    if (params_.top_logprobs > 0) {
        top_ids(logits, static_cast<std::size_t>(params_.top_logprobs), order_);
        for (std::int32_t id : order_)
            out.top.push_back({id, logprob(static_cast<std::size_t>(id))});
    }
    return out;
}

std::int32_t Sampler::pick_allowed(std::span<const float> logits, const RowStats& stats,
                                   const TokenConstraint& constraint) {
    std::int32_t token = pick(logits, stats);
    if (constraint.allows(token)) return token;
    // Remove each refused token and pick again: the masked distribution exactly.
    masked_.assign(logits.begin(), logits.end());
    for (int attempt = 0; attempt < 16; ++attempt) {
        masked_[static_cast<std::size_t>(token)] = kNegInf;
        const RowStats st = row_stats(masked_);
        if (st.max_logit == kNegInf) break;
        token = pick(masked_, st);
        if (constraint.allows(token)) return token;
    }
    // Many refusals: find allowed tokens in logit order (at most 64, or 1 when greedy) and
    // pick among them.
    masked_.assign(logits.begin(), logits.end());
    top_ids(masked_, masked_.size(), order_);
    const std::size_t want = params_.temperature == 0 || params_.top_k == 1 ? 1 : 64;
    std::size_t allowed = 0;
    std::vector<char> keep(masked_.size(), 0);
    for (std::int32_t id : order_) {
        if (clean(masked_[static_cast<std::size_t>(id)]) == kNegInf) break;
        if (constraint.allows(id)) keep[static_cast<std::size_t>(id)] = 1, ++allowed;
        if (allowed == want) break;
    }
    if (allowed == 0) throw ModelError("sampler: the constraint allows no token here");
    for (std::size_t i = 0; i < masked_.size(); ++i)
        if (!keep[i]) masked_[i] = kNegInf;
    return pick(masked_, row_stats(masked_));
}

std::int32_t Sampler::pick(std::span<const float> logits, const RowStats& stats) {
    const float max_logit = stats.max_logit;
    const std::size_t argmax = stats.argmax;
    const float t = params_.temperature;
    const std::size_t vocab = logits.size();
    if (t == 0 || params_.top_k == 1) return static_cast<std::int32_t>(argmax);
    // Candidate set: everything, or the top-k / top-p head of the distribution.
    const double inv_t = 1.0 / static_cast<double>(t);
    auto weight = [&](std::size_t id) {
        return std::exp((static_cast<double>(clean(logits[id])) - max_logit) * inv_t);
    };
    const bool limit_k = params_.top_k > 0 && static_cast<std::size_t>(params_.top_k) < vocab;
    const bool limit_p = params_.top_p < 1.0f;
    if (!limit_k && !limit_p) {
        double total = 0;
        for (std::size_t i = 0; i < vocab; ++i) total += weight(i);
        double target = uniform() * total;
        std::size_t pick = argmax;
        for (std::size_t i = 0; i < vocab; ++i) {
            const double w = weight(i);
            if (w > 0) pick = i;  // the last positive weight absorbs rounding at the end
            if ((target -= w) < 0 && w > 0) break;
        }
        return static_cast<std::int32_t>(pick);
    }
    double total = 0;  // normaliser over all tokens, for the top-p cut
    if (limit_p)
        for (std::size_t i = 0; i < vocab; ++i) total += weight(i);
    std::size_t n = limit_k ? static_cast<std::size_t>(params_.top_k) : kTopPFirstTry;
    top_ids(logits, n, order_);
    if (limit_p) {
        // Smallest head whose probability reaches top_p (the crossing token included).
        auto cut = [&]() -> std::size_t {
            double cumulative = 0;
            for (std::size_t i = 0; i < order_.size(); ++i) {
                cumulative += weight(static_cast<std::size_t>(order_[i])) / total;
                if (cumulative >= params_.top_p) return i + 1;
            }
            return 0;
        };
        std::size_t keep = cut();
        if (keep == 0 && !limit_k && order_.size() < vocab) {
            top_ids(logits, vocab, order_);
            keep = cut();
        }
        if (keep > 0) order_.resize(keep);
    }
    weight_.resize(order_.size());
    double kept = 0;
    for (std::size_t i = 0; i < order_.size(); ++i)
        kept += weight_[i] = static_cast<float>(weight(static_cast<std::size_t>(order_[i])));
    double target = uniform() * kept;
    std::size_t pick = 0;
    for (std::size_t i = 0; i < order_.size(); ++i) {
        if (weight_[i] > 0) pick = i;
        if ((target -= weight_[i]) < 0 && weight_[i] > 0) break;
    }
    return order_[pick];
}

}  // namespace gossamer::engine
