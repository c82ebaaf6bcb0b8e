// The gpt-oss forward pass on the CPU (gpt_oss/torch/model.py, in fp32 activations). One call
// runs every item of the batch through each layer together, so each weight is read once per
// step; attention is the only part that looks at one sequence at a time.
#include "engine/cpu/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>

#include "engine/cpu/attention.h"
#include "engine/cpu/cpu_kv_cache.h"
#include "engine/cpu/matmul.h"
#include "engine/cpu/moe.h"
#include "engine/cpu/norm.h"
#include "engine/cpu/rope.h"
#include "engine/cpu/shared_rows.h"
#include "engine/cpu/thread_pool.h"
#include "engine/forward_rounds.h"
#include "engine/model_error.h"

namespace gossamer::engine::cpu {
namespace {

std::size_t z(int v) {
    return static_cast<std::size_t>(v);
}

// The most consecutive positions of one sequence attended as one tile (attend_tile).
constexpr int kAttentionTile = 16;

// Activations of one round, reused between calls. T = tokens in the round.
struct Workspace {
    std::vector<float> x;                    // [T, hidden] the residual stream
    std::vector<float> normed;               // [T, hidden]
    std::vector<float> qkv;                  // [T, qkv_width]
    std::vector<float> attn;                 // [T, q_width]
    std::vector<float> delta;                // [T, hidden] a block's output before the residual add
    std::vector<float> compact_logits;       // [rows, distinct + 1] with shared unembedding rows
    std::vector<int> position;               // [T]
    std::vector<CpuKvCache*> cache_of;       // [T]
    std::vector<std::pair<int, int>> tiles;  // attention: (first token, tokens)
    MoeScratch moe;
};

class CpuBackend final : public Backend {
  public:
    CpuBackend(const Weights& weights, const CpuOptions& options)
        : w_(weights),
          cfg_(weights.config),
          options_(options),
          pool_(options.threads),
          rope_(weights.config),
          shared_(find_shared_rows(weights.unembedding.data, weights.config.vocab_size,
                                   weights.config.hidden_size)) {}

    const ModelConfig& config() const override { return cfg_; }
    std::string name() const override {
        return std::string("cpu (") + matmul_isa() + ", " + std::to_string(pool_.size()) +
               " threads, kv " + to_string(options_.kv_precision) +
               (options_.expert_activations == Mxfp4Activations::Int8 ? ", int8 experts" : "") +
               (options_.dense_activations == DenseActivations::Bf16 ? ", bf16 dense" : "") + ")";
    }
    Mxfp4Activations expert_activations() const override { return options_.expert_activations; }
    DenseActivations dense_activations() const override { return options_.dense_activations; }
    std::unique_ptr<KvCache> new_cache(int max_tokens) override {
        return std::make_unique<CpuKvCache>(cfg_, max_tokens, options_.sliding_slack,
                                            options_.kv_precision);
    }
    void forward(std::span<const ForwardItem> items, std::vector<float>& logits) override;

  private:
    std::vector<CpuKvCache*> check(std::span<const ForwardItem> items) const;
    // One pass through the model for items whose tokens all fit their caches' max_append().
    void round(std::span<const ForwardItem> items, std::span<CpuKvCache* const> caches,
               std::vector<float>& logits);
    void attention_block(int layer, int tokens);
    void unembed(const std::vector<int>& rows, std::vector<float>& logits);

    const Weights& w_;
    const ModelConfig cfg_;
    CpuOptions options_;
    ThreadPool pool_;
    YarnRope rope_;
    std::optional<SharedRows> shared_;  // unembedding rows many tokens share (shared_rows.h)
    Workspace ws_;
};

std::vector<CpuKvCache*> CpuBackend::check(std::span<const ForwardItem> items) const {
    std::vector<CpuKvCache*> caches;
    for (std::size_t i = 0; i < items.size(); ++i) {
        auto* cache = dynamic_cast<CpuKvCache*>(items[i].cache);
        if (!cache)
            throw ModelError("cpu forward: item " + std::to_string(i) + " has no CPU cache");
        if (std::find(caches.begin(), caches.end(), cache) != caches.end())
            throw ModelError("cpu forward: a cache appears twice in one batch");
        const auto end =
            static_cast<long long>(cache->size()) + static_cast<long long>(items[i].tokens.size());
        if (end > cache->max_tokens())
            throw ModelError("cpu forward: item " + std::to_string(i) + " needs " +
                             std::to_string(end) + " positions; its cache holds " +
                             std::to_string(cache->max_tokens()));
        for (TokenId id : items[i].tokens)
            if (id < 0 || id >= cfg_.vocab_size)
                throw ModelError("cpu forward: token id " + std::to_string(id) +
                                 " outside the vocabulary [0, " + std::to_string(cfg_.vocab_size) +
                                 ")");
        caches.push_back(cache);
    }
    return caches;
}

void CpuBackend::forward(std::span<const ForwardItem> items, std::vector<float>& logits) {
    const auto caches = check(items);
    forward_in_rounds<CpuKvCache>(
        items, caches, z(cfg_.vocab_size),
        [this](auto part, auto part_caches, auto& out) { round(part, part_caches, out); }, logits);
}

void CpuBackend::round(std::span<const ForwardItem> items, std::span<CpuKvCache* const> caches,
                       std::vector<float>& logits) {
    const int hidden = cfg_.hidden_size;
    const auto H = z(hidden);
    int tokens = 0;
    for (const auto& item : items) tokens += static_cast<int>(item.tokens.size());
    if (tokens == 0) return;

    // Positions and the embedding rows; the caches grow to hold the new positions.
    ws_.x.resize(z(tokens) * H);
    ws_.position.resize(z(tokens));
    ws_.cache_of.resize(z(tokens));
    std::vector<int> logit_rows;
    int t = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const int start = caches[i]->size();
        const int n = static_cast<int>(items[i].tokens.size());
        caches[i]->grow(start + n);
        for (int j = 0; j < n; ++j, ++t) {
            ws_.position[z(t)] = start + j;
            ws_.cache_of[z(t)] = caches[i];
            const std::uint16_t* row = w_.embedding.row(items[i].tokens[z(j)]);
            for (std::size_t c = 0; c < H; ++c) ws_.x[z(t) * H + c] = bf16_to_float(row[c]);
            if (items[i].logits == LogitsWanted::All ||
                (items[i].logits == LogitsWanted::Last && j == n - 1))
                logit_rows.push_back(t);
        }
    }

    ws_.normed.resize(z(tokens) * H);
    ws_.delta.resize(z(tokens) * H);
    // x += delta (unless `add` is false), then normed = rms_norm(x) with `gain`, token by token.
    auto add_then_norm = [&](bool add, const float* gain) {
        pool_.parallel_for_work(z(tokens), 4 * H, [&](std::size_t begin, std::size_t end) {
            float* x = ws_.x.data() + begin * H;
            if (add)
                for (std::size_t i = 0; i < (end - begin) * H; ++i)
                    x[i] += ws_.delta[begin * H + i];
            rms_norm(x, static_cast<int>(end - begin), hidden, gain, ws_.normed.data() + begin * H);
        });
    };
    for (int layer = 0; layer < cfg_.num_hidden_layers; ++layer) {
        const LayerWeights& lw = w_.layers[z(layer)];
        add_then_norm(layer > 0, lw.attn_norm.data());
        attention_block(layer, tokens);
        add_then_norm(true, lw.mlp_norm.data());
        moe_forward(cfg_, lw, ws_.normed.data(), tokens, ws_.delta.data(), pool_, ws_.moe,
                    options_.expert_activations, options_.dense_activations);
    }
    pool_.parallel_for_work(z(tokens) * H, 1, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) ws_.x[i] += ws_.delta[i];
    });
    unembed(logit_rows, logits);
}

// normed -> delta: QKV projection, RoPE, cache append, attention with sinks, out projection.
void CpuBackend::attention_block(int layer, int tokens) {
    const LayerWeights& lw = w_.layers[z(layer)];
    const int hidden = cfg_.hidden_size, d = cfg_.head_dim;
    const int qw = cfg_.q_width(), kvw = cfg_.kv_width(), width = cfg_.qkv_width();
    const auto W = z(width);
    ws_.qkv.resize(z(tokens) * W);
    float* qkv = ws_.qkv.data();
    const float* bias = lw.qkv_bias.data();
    const DenseActivations dense = options_.dense_activations;
    if (lw.k.data == lw.q.row(qw) && lw.v.data == lw.k.row(kvw)) {
        // The original layout's one qkv tensor: one product, one parallel loop.
        matmul_bf16(ws_.normed.data(), z(hidden), tokens, lw.q.data, width, hidden, bias, qkv, W,
                    pool_, dense);
    } else {
        matmul_bf16(ws_.normed.data(), z(hidden), tokens, lw.q.data, qw, hidden, bias, qkv, W,
                    pool_, dense);
        matmul_bf16(ws_.normed.data(), z(hidden), tokens, lw.k.data, kvw, hidden, bias + qw,
                    qkv + qw, W, pool_, dense);
        matmul_bf16(ws_.normed.data(), z(hidden), tokens, lw.v.data, kvw, hidden, bias + qw + kvw,
                    qkv + qw + kvw, W, pool_, dense);
    }

    // RoPE on q and k at each token's absolute position; k and v go into the cache (a round's
    // positions fill distinct slots: they fit the caches' max_append).
    pool_.parallel_for_work(z(tokens), 2 * W, [&](std::size_t begin, std::size_t end) {
        thread_local std::vector<float> cos, sin;
        cos.resize(z(rope_.half()));
        sin.resize(z(rope_.half()));
        for (std::size_t t = begin; t < end; ++t) {
            float* row = qkv + t * W;
            const int pos = ws_.position[t];
            rope_.angles(pos, cos.data(), sin.data());
            rope_.rotate(row, cfg_.num_attention_heads, cos.data(), sin.data());
            rope_.rotate(row + qw, cfg_.num_key_value_heads, cos.data(), sin.data());
            ws_.cache_of[t]->store(layer, pos, row + qw, row + qw + kvw);
        }
    });

    // Attention per (tile, kv head): a tile is up to kAttentionTile consecutive positions of
    // one sequence past options_.attention_tile_from (a long prompt chunk's; otherwise a tile
    // is one token), and the group of query heads shares the keys. Tiling never changes a
    // result (attention.h).
    const int kv_heads = cfg_.num_key_value_heads, group = cfg_.group_size();
    ws_.attn.resize(z(tokens) * z(qw));
    const bool sliding = ModelConfig::is_sliding(layer);
    ws_.tiles.clear();
    for (int t = 0; t < tokens;) {
        int n = 1;
        while (t + n < tokens && n < kAttentionTile &&
               ws_.position[z(t)] >= options_.attention_tile_from &&
               ws_.cache_of[z(t + n)] == ws_.cache_of[z(t)] &&
               ws_.position[z(t + n)] == ws_.position[z(t)] + n)
            ++n;
        ws_.tiles.push_back({t, n});
        t += n;
    }
    // A task reads at most this many positions per token; small tasks share a chunk (see
    // matmul.cpp).
    int longest = 0, widest = 1;
    for (int t = 0; t < tokens; ++t) longest = std::max(longest, ws_.position[z(t)] + 1);
    if (sliding) longest = std::min(longest, cfg_.sliding_window);
    for (const auto& tile : ws_.tiles) widest = std::max(widest, tile.second);
    const std::size_t task_work = z(longest) * z(widest) * z(group) * z(d) * 2;
    const std::size_t grain =
        std::max<std::size_t>(1, (std::size_t{1} << 16) / std::max<std::size_t>(task_work, 1));
    pool_.parallel_for(
        ws_.tiles.size() * z(kv_heads), grain, [&](std::size_t begin, std::size_t end) {
            thread_local AttentionScratch scratch;
            for (std::size_t task = begin; task < end; ++task) {
                const auto [t, n] = ws_.tiles[task / z(kv_heads)];
                const int kvh = static_cast<int>(task % z(kv_heads));
                AttentionTile tile;
                tile.q = qkv + z(t) * W + z(kvh * group * d);
                tile.q_stride = W;
                tile.sinks = lw.sinks.data() + kvh * group;
                tile.group = group;
                tile.head_dim = d;
                tile.kv_head = kvh;
                tile.scale = 1.0f / std::sqrt(static_cast<float>(d));
                tile.tokens = n;
                tile.position = ws_.position[z(t)];
                tile.window = sliding ? cfg_.sliding_window : 0;
                attend_tile(*ws_.cache_of[z(t)], layer, tile,
                            ws_.attn.data() + z(t) * z(qw) + z(kvh * group * d), z(qw), scratch);
            }
        });
    matmul_bf16(ws_.attn.data(), z(qw), tokens, lw.out.data, hidden, qw, lw.out_bias.data(),
                ws_.delta.data(), z(hidden), pool_, dense);
}

// Final norm and the untied unembedding for the rows that want logits.
void CpuBackend::unembed(const std::vector<int>& rows, std::vector<float>& logits) {
    if (rows.empty()) return;
    const auto H = z(cfg_.hidden_size);
    std::vector<float> picked(rows.size() * H), normed(rows.size() * H);
    for (std::size_t r = 0; r < rows.size(); ++r)
        std::memcpy(picked.data() + r * H, ws_.x.data() + z(rows[r]) * H, H * sizeof(float));
    rms_norm(picked.data(), static_cast<int>(rows.size()), cfg_.hidden_size, w_.final_norm.data(),
             normed.data());
    const std::size_t start = logits.size();
    logits.resize(start + rows.size() * z(cfg_.vocab_size));
    if (shared_) {  // each distinct row once, then spread (exact: equal rows, equal logits)
        const int n = static_cast<int>(shared_->ids.size()) + 1;
        ws_.compact_logits.resize(rows.size() * z(n));
        matmul_bf16(normed.data(), H, static_cast<int>(rows.size()), shared_->weights.data(), n,
                    cfg_.hidden_size, nullptr, ws_.compact_logits.data(), z(n), pool_,
                    options_.dense_activations);
        for (std::size_t r = 0; r < rows.size(); ++r)
            expand_shared_rows(*shared_, ws_.compact_logits.data() + r * z(n),
                               logits.data() + start + r * z(cfg_.vocab_size), cfg_.vocab_size);
        return;
    }
    matmul_bf16(normed.data(), H, static_cast<int>(rows.size()), w_.unembedding.data,
                cfg_.vocab_size, cfg_.hidden_size, nullptr, logits.data() + start,
                z(cfg_.vocab_size), pool_, options_.dense_activations);
}

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const Weights& weights, const CpuOptions& options) {
    if (options.expert_activations == Mxfp4Activations::Fp32)
        for (const LayerWeights& l : weights.layers)
            if (l.mlp1.tiled_rows > 0 || l.mlp2.tiled_rows > 0)
                throw ModelError(
                    "backend cpu: fp32 expert activations need the experts as stored, and these "
                    "were loaded in 16-row tiles for int8 ones (load without tile_experts)");
    return std::make_unique<CpuBackend>(weights, options);
}

}  // namespace gossamer::engine::cpu
