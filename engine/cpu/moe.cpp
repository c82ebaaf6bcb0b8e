#include "engine/cpu/moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "engine/cpu/matmul.h"

namespace gossamer::engine::cpu {
namespace {

constexpr float kSwigluAlpha = 1.702f;

// Top-k of one row of router logits, sorted descending (ties: lower expert id first), and the
// softmax over the selected logits.
void route(const float* logits, int experts, int k, int* chosen, float* weights) {
    std::vector<int> order(static_cast<std::size_t>(experts));
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) {
        return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    const float max = logits[order[0]];
    float sum = 0;
    for (int i = 0; i < k; ++i) {
        chosen[i] = order[static_cast<std::size_t>(i)];
        weights[i] = std::exp(logits[chosen[i]] - max);
        sum += weights[i];
    }
    for (int i = 0; i < k; ++i) weights[i] /= sum;
}

}  // namespace

void swiglu(const float* u, int n, float limit, float* out) {
    for (int i = 0; i < n; ++i) {
        const float glu = std::min(u[2 * i], limit);
        const float lin = std::clamp(u[2 * i + 1], -limit, limit);
        out[i] = glu / (1.0f + std::exp(-kSwigluAlpha * glu)) * (lin + 1.0f);
    }
}

void moe_forward(const ModelConfig& config, const LayerWeights& layer, const float* h, int tokens,
                 float* y, ThreadPool& pool, MoeScratch& s) {
    const int hidden = config.hidden_size, experts = config.num_experts;
    const int k = config.experts_per_token, inter = config.intermediate_size;
    const auto T = static_cast<std::size_t>(tokens);
    const auto H = static_cast<std::size_t>(hidden);

    // 1. Router: logits [T, E], then top-k and weights per token.
    s.router.resize(T * static_cast<std::size_t>(experts));
    matmul_bf16(h, H, tokens, layer.gate.data, experts, hidden, layer.gate_bias.data(),
                s.router.data(), static_cast<std::size_t>(experts), pool);
    s.chosen.resize(T * static_cast<std::size_t>(k));
    s.weights.resize(T * static_cast<std::size_t>(k));
    s.rows_of.resize(static_cast<std::size_t>(experts));
    for (auto& rows : s.rows_of) rows.clear();
    for (int t = 0; t < tokens; ++t) {
        int* chosen = s.chosen.data() + t * k;
        route(s.router.data() + static_cast<std::ptrdiff_t>(t) * experts, experts, k, chosen,
              s.weights.data() + t * k);
        for (int i = 0; i < k; ++i)
            s.rows_of[static_cast<std::size_t>(chosen[i])].push_back(t * k + i);
    }

    // 2. Each expert runs its tokens as one batch; results land at [t, slot, :].
    s.expert_out.resize(T * static_cast<std::size_t>(k) * H);
    for (int e = 0; e < experts; ++e) {
        const auto& rows = s.rows_of[static_cast<std::size_t>(e)];
        if (rows.empty()) continue;
        const int n = static_cast<int>(rows.size());
        const auto N = rows.size();
        s.gathered.resize(N * H);
        for (std::size_t r = 0; r < N; ++r)
            std::memcpy(s.gathered.data() + r * H, h + static_cast<std::size_t>(rows[r] / k) * H,
                        H * sizeof(float));
        const auto up_width = static_cast<std::size_t>(2 * inter);
        s.up.resize(N * up_width);
        matmul_mxfp4(s.gathered.data(), H, n, layer.mlp1.expert_blocks(e),
                     layer.mlp1.expert_scales(e), 2 * inter, hidden,
                     layer.mlp1_bias.data() + static_cast<std::size_t>(e) * up_width, s.up.data(),
                     up_width, pool);
        s.activated.resize(N * static_cast<std::size_t>(inter));
        for (std::size_t r = 0; r < N; ++r)
            swiglu(s.up.data() + r * up_width, inter, config.swiglu_limit,
                   s.activated.data() + r * static_cast<std::size_t>(inter));
        s.down.resize(N * H);
        matmul_mxfp4(s.activated.data(), static_cast<std::size_t>(inter), n,
                     layer.mlp2.expert_blocks(e), layer.mlp2.expert_scales(e), hidden, inter,
                     layer.mlp2_bias.data() + static_cast<std::size_t>(e) * H, s.down.data(), H,
                     pool);
        for (std::size_t r = 0; r < N; ++r)
            std::memcpy(s.expert_out.data() + static_cast<std::size_t>(rows[r]) * H,
                        s.down.data() + r * H, H * sizeof(float));
    }

    // 3. Weighted sum in each token's top-k order.
    for (std::size_t t = 0; t < T; ++t) {
        float* out = y + t * H;
        std::memset(out, 0, H * sizeof(float));
        for (int i = 0; i < k; ++i) {
            const float w =
                s.weights[t * static_cast<std::size_t>(k) + static_cast<std::size_t>(i)];
            const float* e = s.expert_out.data() +
                             (t * static_cast<std::size_t>(k) + static_cast<std::size_t>(i)) * H;
            for (std::size_t c = 0; c < H; ++c) out[c] += w * e[c];
        }
    }
}

}  // namespace gossamer::engine::cpu
