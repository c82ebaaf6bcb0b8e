// The CPU backend's attention cache for one sequence: keys and values per layer in bf16 (the
// default) or fp32, laid out [position][kv_head][head_dim]. Full-attention layers grow with the
// sequence (up to max_tokens); sliding-window layers keep a ring of window + slack positions,
// the slack being what lets prefix reuse cut back without recomputing from 0. It stores and
// converts on the way in; it must not compute attention.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/kv_cache.h"
#include "engine/model_config.h"

namespace gossamer::engine::cpu {

class CpuKvCache final : public KvCache {
  public:
    CpuKvCache(const ModelConfig& config, int max_tokens, int sliding_slack,
               KvPrecision precision = KvPrecision::Bf16);

    int size() const override { return size_; }
    int reusable_prefix(int n) const override;
    void truncate(int n) override;
    unsigned long long bytes() const override;

    bool copyable() const override { return true; }
    KvPrecision precision() const override { return precision_; }
    int row_elements() const override { return static_cast<int>(kv_width_); }
    int oldest(int layer) const override;
    int ring_positions() const override { return ring_; }
    int lookback(int layer) const override {
        return ModelConfig::is_sliding(layer) ? config_.sliding_window : 0;
    }
    int layers() const override { return config_.num_hidden_layers; }
    void read(int layer, int first, int count, void* keys, void* values) const override;
    void restore(int size, int sliding_from) override;
    void write(int layer, int first, int count, const void* keys, const void* values) override;

    int max_tokens() const { return max_tokens_; }
    // The most tokens one forward may append so that every query still finds its whole
    // window in the ring (the backend splits longer inputs into rounds).
    int max_append() const;

    // Makes room for positions < new_size and marks them cached. The backend then stores
    // the new positions' keys and values with store().
    void grow(int new_size);
    // Keys and values of `pos` in `layer` (kv_width floats each), rounded to the precision.
    void store(int layer, int pos, const float* key, const float* value);

    // Positions [first, last] of `layer` as at most two runs of consecutive slots (a ring
    // wraps once). Returns the number of runs; runs[i] = {first slot index, count}.
    struct Run {
        int slot = 0;
        int count = 0;
    };
    int runs(int layer, int first, int last, Run out[2]) const;
    // The slot's kv_width elements: float for Fp32, bf16 bits (std::uint16_t) for Bf16.
    const void* key_slot(int layer, int slot_index) const;
    const void* value_slot(int layer, int slot_index) const;

  private:
    using Store = std::vector<std::vector<std::uint8_t>>;  // per layer, raw elements
    std::uint8_t* at(Store& store, int layer, int pos);
    const std::uint8_t* at(const Store& store, int layer, int pos) const;
    int capacity(int layer) const;  // slots the layer's storage can hold

    ModelConfig config_;
    KvPrecision precision_ = KvPrecision::Bf16;
    int max_tokens_ = 0;
    int ring_ = 0;        // slots of a sliding layer (window + slack, at most max_tokens)
    int size_ = 0;        // positions 0..size_-1 are cached
    int ring_floor_ = 0;  // lowest position still present in the rings
    std::size_t kv_width_ = 0;
    std::size_t row_bytes_ = 0;  // kv_width_ * element bytes
    Store keys_, values_;
};

}  // namespace gossamer::engine::cpu
