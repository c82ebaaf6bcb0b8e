#include "engine/cpu/moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "engine/cpu/matmul.h"

namespace gossamer::engine::cpu {
namespace {

constexpr float kSwigluAlpha = 1.702f;
// Routed rows whose expert products run as one parallel loop (the batch slab of
// matmul_mxfp4_batch): a decode step's k experts, or a short batch's, go together.
constexpr std::size_t kGroupRows = 256;

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
                 float* y, ThreadPool& pool, MoeScratch& s, Mxfp4Activations activations,
                 DenseActivations router_activations) {
    const int hidden = config.hidden_size, experts = config.num_experts;
    const int k = config.experts_per_token, inter = config.intermediate_size;
    const auto T = static_cast<std::size_t>(tokens);
    const auto H = static_cast<std::size_t>(hidden);

    // 1. Router: logits [T, E], then top-k and weights per token.
    s.router.resize(T * static_cast<std::size_t>(experts));
    matmul_bf16(h, H, tokens, layer.gate.data, experts, hidden, layer.gate_bias.data(),
                s.router.data(), static_cast<std::size_t>(experts), pool, router_activations);
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

    // 2. Each expert runs its tokens as one batch; results land at [t, slot, :]. Experts go in
    // groups of at most kGroupRows routed rows (or one larger expert), each group's products
    // as one parallel loop (matmul_mxfp4_batch); the scratch holds one group's rows.
    s.expert_out.resize(T * static_cast<std::size_t>(k) * H);
    const auto up_width = static_cast<std::size_t>(2 * inter);
    const auto I = static_cast<std::size_t>(inter);
    std::vector<Mxfp4Product> products;
    for (int e0 = 0; e0 < experts;) {
        int e1 = e0;
        std::size_t rows = 0;
        while (e1 < experts &&
               (rows == 0 || rows + s.rows_of[static_cast<std::size_t>(e1)].size() <= kGroupRows))
            rows += s.rows_of[static_cast<std::size_t>(e1++)].size();
        s.gathered.resize(rows * H);
        s.up.resize(rows * up_width);
        s.activated.resize(rows * I);
        s.down.resize(rows * H);
        // Expert e's rows occupy [first[e - e0], first[e - e0 + 1]) of the group's buffers;
        // group row g is routed entry slot[g] (t * k + i).
        std::vector<std::size_t> first{0};
        s.slot.clear();
        for (int e = e0; e < e1; ++e) {
            const auto& routed = s.rows_of[static_cast<std::size_t>(e)];
            s.slot.insert(s.slot.end(), routed.begin(), routed.end());
            first.push_back(first.back() + routed.size());
        }
        pool.parallel_for_work(rows, H, [&](std::size_t begin, std::size_t end) {
            for (std::size_t r = begin; r < end; ++r)
                std::memcpy(s.gathered.data() + r * H,
                            h + static_cast<std::size_t>(s.slot[r] / k) * H, H * sizeof(float));
        });
        auto each_expert = [&](auto&& product) {
            products.clear();
            for (int e = e0; e < e1; ++e) {
                const std::size_t begin = first[static_cast<std::size_t>(e - e0)];
                const std::size_t n = first[static_cast<std::size_t>(e - e0) + 1] - begin;
                if (n > 0) products.push_back(product(e, begin, static_cast<int>(n)));
            }
            matmul_mxfp4_batch(products, pool, activations);
        };
        each_expert([&](int e, std::size_t begin, int n) {
            return Mxfp4Product{s.gathered.data() + begin * H,
                                H,
                                n,
                                layer.mlp1.expert_blocks(e),
                                layer.mlp1.expert_scales(e),
                                2 * inter,
                                hidden,
                                layer.mlp1_bias.data() + static_cast<std::size_t>(e) * up_width,
                                s.up.data() + begin * up_width,
                                up_width,
                                layer.mlp1.tiled_rows};
        });
        pool.parallel_for_work(rows, 16 * I, [&](std::size_t begin, std::size_t end) {
            for (std::size_t r = begin; r < end; ++r)
                swiglu(s.up.data() + r * up_width, inter, config.swiglu_limit,
                       s.activated.data() + r * I);
        });
        each_expert([&](int e, std::size_t begin, int n) {
            return Mxfp4Product{s.activated.data() + begin * I,
                                I,
                                n,
                                layer.mlp2.expert_blocks(e),
                                layer.mlp2.expert_scales(e),
                                hidden,
                                inter,
                                layer.mlp2_bias.data() + static_cast<std::size_t>(e) * H,
                                s.down.data() + begin * H,
                                H,
                                layer.mlp2.tiled_rows};
        });
        pool.parallel_for_work(rows, H, [&](std::size_t begin, std::size_t end) {
            for (std::size_t r = begin; r < end; ++r)
                std::memcpy(s.expert_out.data() + static_cast<std::size_t>(s.slot[r]) * H,
                            s.down.data() + r * H, H * sizeof(float));
        });
        e0 = e1;
    }

    // 3. Weighted sum in each token's top-k order.
    pool.parallel_for_work(
        T, static_cast<std::size_t>(k) * H, [&](std::size_t begin, std::size_t end) {
            for (std::size_t t = begin; t < end; ++t) {
                float* out = y + t * H;
                std::memset(out, 0, H * sizeof(float));
                for (int i = 0; i < k; ++i) {
                    const float w =
                        s.weights[t * static_cast<std::size_t>(k) + static_cast<std::size_t>(i)];
                    const float* e =
                        s.expert_out.data() +
                        (t * static_cast<std::size_t>(k) + static_cast<std::size_t>(i)) * H;
                    for (std::size_t c = 0; c < H; ++c) out[c] += w * e[c];
                }
            }
        });
}

}  // namespace gossamer::engine::cpu
