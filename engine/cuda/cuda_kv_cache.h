// The CUDA backend's KV cache of one sequence: KvBook's bookkeeping (kv_pages.h) plus the
// device memory it describes: pages of the backend's shared pool for full-attention layers
// and a ring of its own for sliding layers (layouts in kv_view.h). Elements are bf16 bits or
// fp32 (precise). It stores; kernels read and write through view(); engine/kv_file.h copies
// rows out and in (read/restore/write) between forwards.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>

#include "engine/cuda/device_buffer.h"
#include "engine/cuda/kv_pages.h"
#include "engine/cuda/kv_view.h"
#include "engine/kv_cache.h"
#include "engine/model_config.h"

namespace gossamer::engine::cuda {

// The pages of all caches of one backend.
struct KvPool {
    KvPool(const ModelConfig& config, std::size_t element_bytes, std::uint64_t bytes);
    std::size_t element_bytes = 0;
    std::size_t page_bytes = 0;  // full_layers * 2 * kKvPage * kv_width * element_bytes
    DeviceBuffer<std::uint8_t> storage;
    PagePool pages;
    std::uint64_t ring_bytes = 0;  // rings of the live caches
};

class CudaKvCache final : public KvCache {
  public:
    CudaKvCache(const ModelConfig& config, int max_tokens, int sliding_slack,
                std::shared_ptr<KvPool> pool);
    ~CudaKvCache() override;

    int size() const override { return book_.size(); }
    int reusable_prefix(int n) const override { return book_.reusable_prefix(n); }
    void truncate(int n) override { book_.truncate(n); }
    unsigned long long bytes() const override;

    // Copy out and in for engine/kv_file.h (synchronous copies on the legacy stream: call
    // between forwards, which end synchronised).
    bool copyable() const override { return true; }
    KvPrecision precision() const override {
        return pool_->element_bytes == 2 ? KvPrecision::Bf16 : KvPrecision::Fp32;
    }
    int row_elements() const override { return static_cast<int>(kv_width_); }
    int oldest(int layer) const override {
        return ModelConfig::is_sliding(layer) ? book_.oldest_sliding() : 0;
    }
    int lookback(int layer) const override {
        return ModelConfig::is_sliding(layer) ? book_.window() : 0;
    }
    int ring_positions() const override { return book_.ring(); }
    int layers() const override { return layers_; }
    void read(int layer, int first, int count, void* keys, void* values) const override;
    void restore(int size, int sliding_from) override;
    void write(int layer, int first, int count, const void* keys, const void* values) override;

    int max_tokens() const { return book_.max_tokens(); }
    int max_append() const { return book_.max_append(); }
    // Pages grow(new_size) would take from the pool.
    int pages_to_grow(int new_size) const {
        const int have = static_cast<int>(book_.page_table().size());
        return new_size <= size() ? 0 : std::max(0, KvBook::pages_for(new_size) - have);
    }
    // Takes pages for positions < new_size and updates the device page table on `stream` (the
    // stream whose kernels read it next: a plain cudaMemcpy would run on the legacy stream,
    // which does not order with the backend's non-blocking one).
    void grow(int new_size, cudaStream_t stream);
    SeqKv view() const;
    const KvPool* pool() const { return pool_.get(); }
    // Random keys and values in every slot the cache holds (benchmarks).
    void fill_random(std::uint64_t seed, cudaStream_t stream);

  private:
    // Calls f(device key row, device value row, index of the first row, bytes of the run's
    // keys (and of its values)) for the runs of consecutive rows that hold positions
    // [first, first + count) of `layer`.
    template <class F>
    void runs(int layer, int first, int count, F&& f) const;
    void check_range(int layer, int first, int count, const char* what) const;

    std::shared_ptr<KvPool> pool_;  // declared before book_: outlives it
    KvBook book_;
    int layers_ = 0;
    int sliding_layers_ = 0;
    int kv_heads_ = 0, head_dim_ = 0;
    std::size_t kv_width_ = 0;
    DeviceBuffer<int> page_table_;
    DeviceBuffer<std::uint8_t> ring_;
};

}  // namespace gossamer::engine::cuda
