#include "engine/cpu/cpu_kv_cache.h"

#include <algorithm>
#include <cstring>

#include "engine/cpu/matmul.h"
#include "engine/model_error.h"

namespace gossamer::engine::cpu {

CpuKvCache::CpuKvCache(const ModelConfig& config, int max_tokens, int sliding_slack,
                       KvPrecision precision)
    : config_(config),
      precision_(precision),
      max_tokens_(max_tokens),
      ring_(std::min(max_tokens, config.sliding_window + std::max(sliding_slack, 0))),
      kv_width_(static_cast<std::size_t>(config.kv_width())),
      row_bytes_(kv_width_ * element_bytes(precision)),
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
        const auto want =
            static_cast<std::size_t>(std::min(new_size, capacity(layer))) * row_bytes_;
        auto& k = keys_[static_cast<std::size_t>(layer)];
        auto& v = values_[static_cast<std::size_t>(layer)];
        if (k.size() < want) {
            // Geometric growth so a long decode does not copy the cache at every token.
            const std::size_t limit = static_cast<std::size_t>(capacity(layer)) * row_bytes_;
            const std::size_t target = std::min(limit, std::max(want, k.size() * 3 / 2));
            k.resize(target);
            v.resize(target);
        }
    }
    size_ = new_size;
    ring_floor_ = std::max(ring_floor_, size_ - ring_);
}

std::uint8_t* CpuKvCache::at(Store& store, int layer, int pos) {
    const int index = ModelConfig::is_sliding(layer) ? pos % ring_ : pos;
    return store[static_cast<std::size_t>(layer)].data() +
           static_cast<std::size_t>(index) * row_bytes_;
}

const std::uint8_t* CpuKvCache::at(const Store& store, int layer, int pos) const {
    const int index = ModelConfig::is_sliding(layer) ? pos % ring_ : pos;
    return store[static_cast<std::size_t>(layer)].data() +
           static_cast<std::size_t>(index) * row_bytes_;
}

void CpuKvCache::store(int layer, int pos, const float* key, const float* value) {
    std::uint8_t* k = at(keys_, layer, pos);
    std::uint8_t* v = at(values_, layer, pos);
    if (precision_ == KvPrecision::Fp32) {
        std::memcpy(k, key, row_bytes_);
        std::memcpy(v, value, row_bytes_);
        return;
    }
    auto* k16 = reinterpret_cast<std::uint16_t*>(k);
    auto* v16 = reinterpret_cast<std::uint16_t*>(v);
    for (std::size_t i = 0; i < kv_width_; ++i) {
        k16[i] = float_to_bf16(key[i]);
        v16[i] = float_to_bf16(value[i]);
    }
}

const void* CpuKvCache::key_slot(int layer, int slot_index) const {
    return keys_[static_cast<std::size_t>(layer)].data() +
           static_cast<std::size_t>(slot_index) * row_bytes_;
}

const void* CpuKvCache::value_slot(int layer, int slot_index) const {
    return values_[static_cast<std::size_t>(layer)].data() +
           static_cast<std::size_t>(slot_index) * row_bytes_;
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

int CpuKvCache::oldest(int layer) const {
    return ModelConfig::is_sliding(layer) ? std::min(ring_floor_, size_) : 0;
}

void CpuKvCache::read(int layer, int first, int count, void* keys, void* values) const {
    if (layer < 0 || layer >= config_.num_hidden_layers || first < oldest(layer) || count < 0 ||
        first + count > size_)
        throw ModelError("kv cache: read of positions outside the cache");
    auto* k = static_cast<std::uint8_t*>(keys);
    auto* v = static_cast<std::uint8_t*>(values);
    for (int i = 0; i < count; ++i) {
        std::memcpy(k + static_cast<std::size_t>(i) * row_bytes_, at(keys_, layer, first + i),
                    row_bytes_);
        std::memcpy(v + static_cast<std::size_t>(i) * row_bytes_, at(values_, layer, first + i),
                    row_bytes_);
    }
}

void CpuKvCache::restore(int size, int sliding_from) {
    if (size < 0 || size > max_tokens_ || sliding_from > size || sliding_from < size - ring_)
        throw ModelError("kv cache: cannot restore " + std::to_string(size) + " positions");
    size_ = 0;
    ring_floor_ = 0;
    grow(size);
    ring_floor_ = std::max({ring_floor_, sliding_from, 0});
}

void CpuKvCache::write(int layer, int first, int count, const void* keys, const void* values) {
    if (layer < 0 || layer >= config_.num_hidden_layers || first < oldest(layer) || count < 0 ||
        first + count > size_)
        throw ModelError("kv cache: write of positions outside the cache");
    const auto* k = static_cast<const std::uint8_t*>(keys);
    const auto* v = static_cast<const std::uint8_t*>(values);
    for (int i = 0; i < count; ++i) {
        std::memcpy(at(keys_, layer, first + i), k + static_cast<std::size_t>(i) * row_bytes_,
                    row_bytes_);
        std::memcpy(at(values_, layer, first + i), v + static_cast<std::size_t>(i) * row_bytes_,
                    row_bytes_);
    }
}

unsigned long long CpuKvCache::bytes() const {
    unsigned long long total = 0;
    for (std::size_t l = 0; l < keys_.size(); ++l)
        total += keys_[l].capacity() + values_[l].capacity();
    return total;
}

}  // namespace gossamer::engine::cpu
