// The boundary between the model-independent engine (scheduler, sampler, CLI) and a compute
// backend (cpu/, cuda/). A backend runs the gpt-oss forward pass for a batch of sequences in
// one call, so weights are read once per step for all of them. It knows token ids and
// tensors only; it must not sample, schedule or know about harmony.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/expert_activations.h"
#include "engine/kv_cache.h"
#include "engine/model_config.h"

namespace gossamer::engine {

using TokenId = std::int32_t;

enum class LogitsWanted { None, Last, All };

// Append `tokens` to the sequence cached in `cache` (at positions cache->size() onwards).
struct ForwardItem {
    KvCache* cache = nullptr;
    std::span<const TokenId> tokens;
    LogitsWanted logits = LogitsWanted::Last;
};

class Backend {
  public:
    virtual ~Backend() = default;
    virtual const ModelConfig& config() const = 0;
    virtual std::string name() const = 0;  // "cpu (avx512, 16 threads)"
    // How its MXFP4 expert matmuls take their activations (a saved KV cache records it).
    virtual Mxfp4Activations expert_activations() const { return Mxfp4Activations::Fp32; }
    // How its bf16 dense matmuls take their activations (recorded the same way).
    virtual DenseActivations dense_activations() const { return DenseActivations::Fp32; }
    // A new, empty cache for one sequence that will hold at most `max_tokens` positions.
    virtual std::unique_ptr<KvCache> new_cache(int max_tokens) = 0;
    // Runs the items (each cache belongs to this backend and appears once) and writes logits
    // [rows, vocab] in item order: 1 row for Last, tokens.size() rows for All, none for None.
    // Throws ModelError for invalid input (token id >= vocab, a cache overflowing max_tokens);
    // caches are unchanged when it throws before computing.
    virtual void forward(std::span<const ForwardItem> items, std::vector<float>& logits) = 0;
};

}  // namespace gossamer::engine
