// The gpt-oss forward pass on one GPU (cuda_backend.h), step for step as cpu_backend.cpp: one
// call runs every item of the batch through each layer together, so weights are read once per
// step. Per layer: RMSNorm, fused QKV (+bias), RoPE + KV write, split-K attention with sinks,
// out projection with the residual add fused, RMSNorm, router, top-4 + grouping on the device,
// experts (fused MXFP4 GEMVs, or dequantise + cuBLAS for large batches), weighted combine with
// the residual add fused. Everything runs on one stream; forward() returns after the logits
// are on the host.
#include <algorithm>
#include <cmath>
#include <string>

#include "engine/cpu/rope.h"
#include "engine/cuda/attention.cuh"
#include "engine/cuda/cublas_loader.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_kv_cache.h"
#include "engine/cuda/device_weights.h"
#include "engine/cuda/matmul.cuh"
#include "engine/cuda/moe.cuh"
#include "engine/cuda/norm.cuh"
#include "engine/cuda/rope.cuh"
#include "engine/cuda/router.cuh"
#include "engine/forward_rounds.h"

namespace gossamer::engine::cuda {
namespace {

std::size_t z(int v) {
    return static_cast<std::size_t>(v);
}

// Batches with more entries (tokens * k) than this use the dequantise + GEMM expert path.
constexpr int kMoeGemmMinEntries = 512;

template <typename T>
void upload(DeviceBuffer<T>& dst, const std::vector<T>& src, cudaStream_t stream) {
    dst.grow(std::max<std::size_t>(src.size(), 1));
    if (!src.empty())
        CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.data(), src.size() * sizeof(T),
                                   cudaMemcpyHostToDevice, stream));
}

class CudaBackendImpl final : public CudaBackend {
  public:
    CudaBackendImpl(DeviceWeights weights, const CudaOptions& options);
    ~CudaBackendImpl() override;

    const ModelConfig& config() const override { return cfg_; }
    std::string name() const override { return name_; }
    std::unique_ptr<KvCache> new_cache(int max_tokens) override;
    void forward(std::span<const ForwardItem> items, std::vector<float>& logits) override;
    void fill_cache_random(KvCache& cache, int n, std::uint64_t seed) override;
    void set_logits_to_host(bool on) override { logits_to_host_ = on; }
    CudaMemory memory() const override;
    void synchronize() override { CUDA_CHECK(cudaStreamSynchronize(stream_)); }

  private:
    std::vector<CudaKvCache*> check(std::span<const ForwardItem> items) const;
    void round(std::span<const ForwardItem> items, std::span<CudaKvCache* const> caches,
               std::vector<float>& logits);
    template <typename KV>
    void layers(int tokens, const RoundView& view, int max_pos);
    void moe(int layer, int tokens);
    void unembed(int rows, std::vector<float>& logits);
    std::uint64_t workspace_bytes() const;

    DeviceWeights w_;
    const ModelConfig cfg_;
    CudaOptions options_;
    cudaStream_t stream_ = nullptr;
    cublasHandle_t cublas_ = nullptr;
    int sms_ = 1;
    std::string name_;
    std::shared_ptr<KvPool> pool_;
    DeviceBuffer<float> inv_freq_;
    float concentration_ = 1.0f;
    bool logits_to_host_ = true;
    MatmulContext mm_;
    MoeGemmScratch moe_scratch_;

    // Workspace, grown to the largest round seen. T = tokens of the round.
    DeviceBuffer<int> tokens_, positions_, seq_of_, logit_rows_;
    DeviceBuffer<SeqKv> seqs_;
    DeviceBuffer<float> x_;           // [T, hidden] residual stream
    DeviceBuffer<float> normed_;      // [T, hidden]
    DeviceBuffer<float> qkv_;         // [T, qkv_width]
    DeviceBuffer<float> attn_;        // [T, q_width]
    DeviceBuffer<float> cos_sin_;     // [T, head_dim]
    DeviceBuffer<float> partial_;     // attention splits
    DeviceBuffer<float> router_;      // [T, experts]
    DeviceBuffer<int> chosen_;        // [T, k]
    DeviceBuffer<float> gate_w_;      // [T, k]
    DeviceBuffer<int> offsets_;       // [experts + 1]
    DeviceBuffer<int> entries_;       // [T * k]
    DeviceBuffer<int> active_;        // [experts + 1]: active experts, then their count
    DeviceBuffer<float> act_;         // [T * k, intermediate]
    DeviceBuffer<float> expert_out_;  // [T * k, hidden]
    DeviceBuffer<float> logits_;      // [rows, vocab]
};

CudaBackendImpl::CudaBackendImpl(DeviceWeights weights, const CudaOptions& options)
    : w_(std::move(weights)), cfg_(w_.config), options_(options) {
    if (cfg_.head_dim != kAttentionHeadDim || cfg_.group_size() > kAttentionMaxGroup ||
        cfg_.hidden_size % 32 != 0 || cfg_.intermediate_size % 32 != 0 ||
        cfg_.experts_per_token > 8)
        throw ModelError(
            "cuda backend: needs head_dim 64, at most 16 query heads per KV head, hidden and "
            "intermediate sizes divisible by 32 and at most 8 experts per token");
    CUDA_CHECK(cudaSetDevice(options_.device));
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    const CublasApi& api = cublas_api();
    if (api.loaded) {
        CUBLAS_CHECK(api.create(&cublas_));
        CUBLAS_CHECK(api.set_stream(cublas_, stream_));
    }
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, options_.device));
    sms_ = prop.multiProcessorCount;
    name_ = std::string("cuda (") + prop.name + ", sm_" + std::to_string(prop.major) +
            std::to_string(prop.minor) + ", " + (options_.precise ? "fp32" : "bf16") + " kv" +
            (cublas_ ? "" : ", no cuBLAS: " + api.error) + ")";

    cpu::YarnRope rope(cfg_);
    inv_freq_.grow(rope.inv_freq().size());
    CUDA_CHECK(cudaMemcpy(inv_freq_.get(), rope.inv_freq().data(),
                          rope.inv_freq().size() * sizeof(float), cudaMemcpyHostToDevice));
    concentration_ = rope.concentration();

    mm_.cublas = cublas_;
    mm_.precise = options_.precise;
    mm_.gemv_max_tokens = std::max(1, options_.gemv_max_tokens);

    std::uint64_t pool_bytes = options_.kv_pool_bytes;
    if (pool_bytes == 0) {
        std::size_t free = 0, total = 0;
        CUDA_CHECK(cudaMemGetInfo(&free, &total));
        pool_bytes = free / 2;
    }
    pool_ = std::make_shared<KvPool>(cfg_, options_.precise ? 4 : 2, pool_bytes);
    // The copies above ran on the legacy stream, which stream_ (non-blocking) does not wait
    // for, and a pageable cudaMemcpy may return before its DMA lands.
    CUDA_CHECK(cudaDeviceSynchronize());
}

CudaBackendImpl::~CudaBackendImpl() {
    if (stream_) cudaStreamSynchronize(stream_);
    if (cublas_) cublas_api().destroy(cublas_);
    if (stream_) cudaStreamDestroy(stream_);
}

std::unique_ptr<KvCache> CudaBackendImpl::new_cache(int max_tokens) {
    CUDA_CHECK(cudaSetDevice(options_.device));
    return std::make_unique<CudaKvCache>(cfg_, max_tokens, options_.sliding_slack, pool_);
}

std::vector<CudaKvCache*> CudaBackendImpl::check(std::span<const ForwardItem> items) const {
    std::vector<CudaKvCache*> caches;
    for (std::size_t i = 0; i < items.size(); ++i) {
        auto* cache = dynamic_cast<CudaKvCache*>(items[i].cache);
        if (!cache || cache->pool() != pool_.get())
            throw ModelError("cuda forward: item " + std::to_string(i) +
                             " has no CUDA cache of this backend");
        if (std::find(caches.begin(), caches.end(), cache) != caches.end())
            throw ModelError("cuda forward: a cache appears twice in one batch");
        const auto end =
            static_cast<long long>(cache->size()) + static_cast<long long>(items[i].tokens.size());
        if (end > cache->max_tokens())
            throw ModelError("cuda forward: item " + std::to_string(i) + " needs " +
                             std::to_string(end) + " positions; its cache holds " +
                             std::to_string(cache->max_tokens()));
        for (TokenId id : items[i].tokens)
            if (id < 0 || id >= cfg_.vocab_size)
                throw ModelError("cuda forward: token id " + std::to_string(id) +
                                 " outside the vocabulary [0, " + std::to_string(cfg_.vocab_size) +
                                 ")");
        caches.push_back(cache);
    }
    // Pool pages for every item up front: a grow that failed half-way through the batch would
    // leave the earlier caches grown (the contract: unchanged when forward throws on input).
    long long pages = 0;
    for (std::size_t i = 0; i < items.size(); ++i)
        pages +=
            caches[i]->pages_to_grow(caches[i]->size() + static_cast<int>(items[i].tokens.size()));
    if (pages > pool_->pages.free_pages())
        throw ModelError("cuda forward: the batch needs " + std::to_string(pages) +
                         " KV pages of " + std::to_string(kKvPage) + " positions; " +
                         std::to_string(pool_->pages.free_pages()) + " of " +
                         std::to_string(pool_->pages.pages()) +
                         " are free (raise CudaOptions::kv_pool_bytes or close sequences)");
    return caches;
}

void CudaBackendImpl::forward(std::span<const ForwardItem> items, std::vector<float>& logits) {
    CUDA_CHECK(cudaSetDevice(options_.device));
    const auto caches = check(items);
    forward_in_rounds<CudaKvCache>(
        items, caches, z(cfg_.vocab_size),
        [this](auto part, auto part_caches, auto& out) { round(part, part_caches, out); }, logits);
}

void CudaBackendImpl::round(std::span<const ForwardItem> items,
                            std::span<CudaKvCache* const> caches, std::vector<float>& logits) {
    int tokens = 0;
    for (const auto& item : items) tokens += static_cast<int>(item.tokens.size());
    if (tokens == 0) return;

    std::vector<int> ids, positions, seq_of, logit_rows;
    std::vector<SeqKv> seqs;
    ids.reserve(z(tokens));
    positions.reserve(z(tokens));
    seq_of.reserve(z(tokens));
    int max_pos = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const int start = caches[i]->size();
        const int n = static_cast<int>(items[i].tokens.size());
        caches[i]->grow(start + n, stream_);
        seqs.push_back(caches[i]->view());
        for (int j = 0; j < n; ++j) {
            if (items[i].logits == LogitsWanted::All ||
                (items[i].logits == LogitsWanted::Last && j == n - 1))
                logit_rows.push_back(static_cast<int>(ids.size()));
            ids.push_back(items[i].tokens[z(j)]);
            positions.push_back(start + j);
            seq_of.push_back(static_cast<int>(i));
            max_pos = std::max(max_pos, start + j);
        }
    }
    upload(tokens_, ids, stream_);
    upload(positions_, positions, stream_);
    upload(seq_of_, seq_of, stream_);
    upload(seqs_, seqs, stream_);
    upload(logit_rows_, logit_rows, stream_);

    const auto T = z(tokens), H = z(cfg_.hidden_size), K = z(cfg_.experts_per_token);
    x_.grow(T * H);
    normed_.grow(std::max(T, logit_rows.size()) * H);
    qkv_.grow(T * z(cfg_.qkv_width()));
    attn_.grow(T * z(cfg_.q_width()));
    cos_sin_.grow(T * z(cfg_.head_dim));
    router_.grow(T * z(cfg_.num_experts));
    chosen_.grow(T * K);
    gate_w_.grow(T * K);
    offsets_.grow(z(cfg_.num_experts) + 1);
    entries_.grow(T * K);
    active_.grow(z(cfg_.num_experts) + 1);
    act_.grow(T * K * z(cfg_.intermediate_size));
    expert_out_.grow(T * K * H);

    embed_tokens(w_.embedding, tokens_.get(), tokens, cfg_.hidden_size, x_.get(), stream_);
    rope_table(positions_.get(), tokens, inv_freq_.get(), cfg_.head_dim / 2, concentration_,
               cos_sin_.get(), stream_);
    RoundView view;
    view.positions = positions_.get();
    view.seq_of = seq_of_.get();
    view.seqs = seqs_.get();
    if (options_.precise)
        layers<float>(tokens, view, max_pos);
    else
        layers<std::uint16_t>(tokens, view, max_pos);
    unembed(static_cast<int>(logit_rows.size()), logits);
}

template <typename KV>
void CudaBackendImpl::layers(int tokens, const RoundView& view, int max_pos) {
    const int hidden = cfg_.hidden_size, qw = cfg_.q_width(), width = cfg_.qkv_width();
    LayerShape shape;
    shape.heads = cfg_.num_attention_heads;
    shape.kv_heads = cfg_.num_key_value_heads;
    shape.head_dim = cfg_.head_dim;
    shape.full_layers = cfg_.num_hidden_layers / 2;
    shape.window = cfg_.sliding_window;
    const int full_keys = max_pos + 1, sliding_keys = std::min(full_keys, cfg_.sliding_window);
    const int full_splits = attention_splits(tokens, shape.kv_heads, full_keys, sms_);
    const int sliding_splits = attention_splits(tokens, shape.kv_heads, sliding_keys, sms_);
    partial_.grow(z(tokens) * z(shape.heads) * z(std::max(full_splits, sliding_splits)) *
                  z(kAttentionHeadDim + 2));

    for (int layer = 0; layer < cfg_.num_hidden_layers; ++layer) {
        const DeviceLayer& lw = w_.layers[z(layer)];
        shape.layer_slot = layer / 2;
        shape.sliding = ModelConfig::is_sliding(layer) ? 1 : 0;

        rms_norm(x_.get(), nullptr, tokens, hidden, lw.attn_norm, normed_.get(), stream_);
        dense_matmul(mm_, normed_.get(), hidden, tokens, lw.qkv, width, hidden, lw.qkv_bias,
                     qkv_.get(), width, false, stream_);
        rope_and_store_kv<KV>(qkv_.get(), tokens, cos_sin_.get(), view, layer, shape, stream_);
        AttentionArgs args;
        args.qkv = qkv_.get();
        args.sinks = lw.sinks;
        args.scale = 1.0f / std::sqrt(static_cast<float>(cfg_.head_dim));
        args.tokens = tokens;
        args.splits = shape.sliding ? sliding_splits : full_splits;
        args.partial = partial_.get();
        args.out = attn_.get();
        attention<KV>(args, view, shape, stream_);
        dense_matmul(mm_, attn_.get(), qw, tokens, lw.out, hidden, qw, lw.out_bias, x_.get(),
                     hidden, true, stream_);

        rms_norm(x_.get(), nullptr, tokens, hidden, lw.mlp_norm, normed_.get(), stream_);
        moe(layer, tokens);
    }
}

void CudaBackendImpl::moe(int layer, int tokens) {
    const DeviceLayer& lw = w_.layers[z(layer)];
    const int hidden = cfg_.hidden_size, experts = cfg_.num_experts, k = cfg_.experts_per_token;
    dense_matmul(mm_, normed_.get(), hidden, tokens, lw.gate, experts, hidden, lw.gate_bias,
                 router_.get(), experts, false, stream_);
    route_top_k(router_.get(), tokens, experts, k, chosen_.get(), gate_w_.get(), stream_);
    group_by_expert(chosen_.get(), tokens * k, experts, offsets_.get(), entries_.get(),
                    active_.get(), active_.get() + experts, stream_);

    MoeWeights mw;
    mw.mlp1_blocks = lw.mlp1_blocks;
    mw.mlp1_scales = lw.mlp1_scales;
    mw.mlp1_bias = lw.mlp1_bias;
    mw.mlp2_blocks = lw.mlp2_blocks;
    mw.mlp2_scales = lw.mlp2_scales;
    mw.mlp2_bias = lw.mlp2_bias;
    mw.experts = experts;
    mw.hidden = hidden;
    mw.inter = cfg_.intermediate_size;
    mw.limit = cfg_.swiglu_limit;
    MoeGroups groups;
    groups.offsets = offsets_.get();
    groups.entries = entries_.get();
    groups.active = active_.get();
    groups.active_count = active_.get() + experts;
    groups.k = k;

    if (options_.precise || !cublas_ || tokens * k < kMoeGemmMinEntries) {
        moe_experts_fused(mw, groups, normed_.get(), std::min(experts, tokens * k), act_.get(),
                          expert_out_.get(), stream_);
    } else {
        std::vector<int> offsets(z(experts) + 1);
        CUDA_CHECK(cudaMemcpyAsync(offsets.data(), offsets_.get(), offsets.size() * sizeof(int),
                                   cudaMemcpyDeviceToHost, stream_));
        CUDA_CHECK(cudaStreamSynchronize(stream_));
        moe_experts_gemm(mw, groups, offsets, normed_.get(), tokens, cublas_, moe_scratch_,
                         expert_out_.get(), stream_);
    }
    moe_combine(expert_out_.get(), gate_w_.get(), tokens, k, hidden, x_.get(), stream_);
}

void CudaBackendImpl::unembed(int rows, std::vector<float>& logits) {
    if (rows == 0) {
        CUDA_CHECK(cudaStreamSynchronize(stream_));
        return;
    }
    const int hidden = cfg_.hidden_size, vocab = cfg_.vocab_size;
    rms_norm(x_.get(), logit_rows_.get(), rows, hidden, w_.final_norm, normed_.get(), stream_);
    logits_.grow(z(rows) * z(vocab));
    dense_matmul(mm_, normed_.get(), hidden, rows, w_.unembedding, vocab, hidden, nullptr,
                 logits_.get(), vocab, false, stream_);
    if (logits_to_host_) {
        const std::size_t start = logits.size();
        logits.resize(start + z(rows) * z(vocab));
        CUDA_CHECK(cudaMemcpyAsync(logits.data() + start, logits_.get(),
                                   z(rows) * z(vocab) * sizeof(float), cudaMemcpyDeviceToHost,
                                   stream_));
    }
    CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void CudaBackendImpl::fill_cache_random(KvCache& cache, int n, std::uint64_t seed) {
    CUDA_CHECK(cudaSetDevice(options_.device));
    auto* c = dynamic_cast<CudaKvCache*>(&cache);
    if (!c || c->pool() != pool_.get())
        throw ModelError("cuda fill_cache_random: not a CUDA cache of this backend");
    c->grow(n, stream_);
    c->fill_random(seed, stream_);
    CUDA_CHECK(cudaStreamSynchronize(stream_));
}

std::uint64_t CudaBackendImpl::workspace_bytes() const {
    std::uint64_t total = 0;
    for (auto b : {x_.bytes(), normed_.bytes(), qkv_.bytes(), attn_.bytes(), cos_sin_.bytes(),
                   partial_.bytes(), router_.bytes(), gate_w_.bytes(), act_.bytes(),
                   expert_out_.bytes(), logits_.bytes(), chosen_.bytes(), entries_.bytes(),
                   moe_scratch_.x.bytes(), moe_scratch_.w.bytes(), moe_scratch_.up.bytes(),
                   moe_scratch_.act.bytes(), moe_scratch_.down.bytes(), mm_.x_bf16.bytes()})
        total += b;
    return total;
}

CudaMemory CudaBackendImpl::memory() const {
    CudaMemory m;
    m.weights = w_.bytes();
    m.kv_pool = pool_->storage.bytes();
    m.kv_rings = pool_->ring_bytes;
    m.workspace = workspace_bytes();
    std::size_t free = 0, total = 0;
    CUDA_CHECK(cudaMemGetInfo(&free, &total));
    m.device_free = free;
    m.device_total = total;
    return m;
}

}  // namespace

int cuda_device_count(std::string* why_none) {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        if (why_none) *why_none = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(err);
        return 0;
    }
    if (count == 0 && why_none) *why_none = "no CUDA device found";
    return count;
}

std::unique_ptr<CudaBackend> make_cuda_backend(const Weights& weights, const CudaOptions& options) {
    CUDA_CHECK(cudaSetDevice(options.device));
    return std::make_unique<CudaBackendImpl>(upload_weights(weights), options);
}

std::unique_ptr<CudaBackend> make_cuda_backend_random(const ModelConfig& config, std::uint64_t seed,
                                                      const CudaOptions& options) {
    CUDA_CHECK(cudaSetDevice(options.device));
    return std::make_unique<CudaBackendImpl>(random_device_weights(config, seed), options);
}

}  // namespace gossamer::engine::cuda
