// The CPU backend's attention cache for one sequence: fp32 keys and values per layer, laid
// out [position][kv_head][head_dim]. Full-attention layers grow with the sequence (up to
// max_tokens); sliding-window layers keep a ring of window + slack positions, the slack being
// what lets prefix reuse cut back without recomputing from 0. It stores; it must not compute.
#pragma once

#include <cstddef>
#include <vector>

#include "engine/kv_cache.h"
#include "engine/model_config.h"

namespace gossamer::engine::cpu {

class CpuKvCache final : public KvCache {
  public:
    CpuKvCache(const ModelConfig& config, int max_tokens, int sliding_slack);

    int size() const override { return size_; }
    int reusable_prefix(int n) const override;
    void truncate(int n) override;
    unsigned long long bytes() const override;

    int max_tokens() const { return max_tokens_; }
    // The most tokens one forward may append so that every query still finds its whole
    // window in the ring (the backend splits longer inputs into rounds).
    int max_append() const;

    // Makes room for positions < new_size and marks them cached. The backend then writes
    // the new positions' keys and values through key()/value().
    void grow(int new_size);

    // Slot of `pos` in `layer`: pos itself for full layers, pos % ring for sliding layers.
    // Keys (and values) of one slot: kv_width floats, [kv_head][head_dim].
    float* key(int layer, int pos) { return slot(keys_, layer, pos); }
    float* value(int layer, int pos) { return slot(values_, layer, pos); }
    // Positions [first, last] of `layer` as at most two runs of consecutive slots (a ring
    // wraps once). Returns the number of runs; runs[i] = {first slot index, count}.
    struct Run {
        int slot = 0;
        int count = 0;
    };
    int runs(int layer, int first, int last, Run out[2]) const;
    const float* key_slot(int layer, int slot_index) const;
    const float* value_slot(int layer, int slot_index) const;

  private:
    float* slot(std::vector<std::vector<float>>& store, int layer, int pos);
    int capacity(int layer) const;  // slots the layer's storage can hold

    ModelConfig config_;
    int max_tokens_ = 0;
    int ring_ = 0;        // slots of a sliding layer (window + slack, at most max_tokens)
    int size_ = 0;        // positions 0..size_-1 are cached
    int ring_floor_ = 0;  // lowest position still present in the rings
    std::size_t kv_width_ = 0;
    std::vector<std::vector<float>> keys_, values_;  // per layer
};

}  // namespace gossamer::engine::cpu
