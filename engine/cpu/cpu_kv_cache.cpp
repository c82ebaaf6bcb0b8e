#include "engine/cpu/cpu_kv_cache.h"

#include <algorithm>

#include "engine/model_error.h"

namespace gossamer::engine::cpu {

CpuKvCache::CpuKvCache(const ModelConfig& config, int max_tokens, int sliding_slack)
    : config_(config),
      max_tokens_(max_tokens),
      ring_(std::min(max_tokens, config.sliding_window + std::max(sliding_slack, 0))),
      kv_width_(static_cast<std::size_t>(config.kv_width())),
      keys_(static_cast<std::size_t>(config.num_hidden_layers)),
      values_(static_cast<std::size_t>(config.num_hidden_layers)) {
    if (max_tokens <= 0 || max_tokens > config.max_context())
        throw ModelError("kv cache: max_tokens must be in 1.." +
                         std::to_string(config.max_context()) + ", got " +
                         std::to_string(max_tokens));
}

int CpuKvCache::capacity(int layer) const {
    return ModelConfig::is_sliding(layer) ? ring_ : max_tokens_;
}

int CpuKvCache::max_append() const {
    if (ring_ >= max_tokens_) return max_tokens_;  // the ring never wraps
    return ring_ - config_.sliding_window + 1;
}

int CpuKvCache::reusable_prefix(int n) const {
    n = std::clamp(n, 0, size_);
    // The positions a query at n would look back on must still be in the rings.
    const int needed_from = std::max(0, n - config_.sliding_window);
    return needed_from >= ring_floor_ ? n : 0;
}

void CpuKvCache::truncate(int n) {
    if (n < 0 || n > size_ || n != reusable_prefix(n))
        throw ModelError("kv cache: cannot truncate to " + std::to_string(n) +
                         " (cached: " + std::to_string(size_) + ")");
    size_ = n;
    if (n == 0) ring_floor_ = 0;
}

void CpuKvCache::grow(int new_size) {
    if (new_size > max_tokens_)
        throw ModelError("kv cache: " + std::to_string(new_size) + " positions exceed max_tokens " +
                         std::to_string(max_tokens_));
    if (new_size <= size_) return;
    for (int layer = 0; layer < config_.num_hidden_layers; ++layer) {
        const auto want = static_cast<std::size_t>(std::min(new_size, capacity(layer))) * kv_width_;
        auto& k = keys_[static_cast<std::size_t>(layer)];
        auto& v = values_[static_cast<std::size_t>(layer)];
        if (k.size() < want) {
            // Geometric growth so a long decode does not copy the cache at every token.
            const std::size_t limit = static_cast<std::size_t>(capacity(layer)) * kv_width_;
            const std::size_t target = std::min(limit, std::max(want, k.size() * 3 / 2));
            k.resize(target);
            v.resize(target);
        }
    }
    size_ = new_size;
    ring_floor_ = std::max(ring_floor_, size_ - ring_);
}

float* CpuKvCache::slot(std::vector<std::vector<float>>& store, int layer, int pos) {
    const int index = ModelConfig::is_sliding(layer) ? pos % ring_ : pos;
    return store[static_cast<std::size_t>(layer)].data() +
           static_cast<std::size_t>(index) * kv_width_;
}

const float* CpuKvCache::key_slot(int layer, int slot_index) const {
    return keys_[static_cast<std::size_t>(layer)].data() +
           static_cast<std::size_t>(slot_index) * kv_width_;
}

const float* CpuKvCache::value_slot(int layer, int slot_index) const {
    return values_[static_cast<std::size_t>(layer)].data() +
           static_cast<std::size_t>(slot_index) * kv_width_;
}

int CpuKvCache::runs(int layer, int first, int last, Run out[2]) const {
    const int count = last - first + 1;
    if (count <= 0) return 0;
    if (!ModelConfig::is_sliding(layer)) {
        out[0] = {first, count};
        return 1;
    }
    const int start = first % ring_;
    const int head = std::min(count, ring_ - start);
    out[0] = {start, head};
    if (head == count) return 1;
    out[1] = {0, count - head};
    return 2;
}

unsigned long long CpuKvCache::bytes() const {
    unsigned long long total = 0;
    for (std::size_t l = 0; l < keys_.size(); ++l)
        total += (keys_[l].capacity() + values_[l].capacity()) * sizeof(float);
    return total;
}

}  // namespace gossamer::engine::cpu
