// Host-side bookkeeping of the CUDA KV cache (no CUDA here, tested on the CPU): a pool of
// fixed-size pages shared by all caches of a backend for the full-attention layers, and one
// sequence's state (size, sliding ring, pages in use) with exactly the reuse and truncation
// rules of cpu/cpu_kv_cache.h. Device memory is cuda_kv_cache's business.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/cuda/kv_view.h"
#include "engine/model_config.h"

namespace gossamer::engine::cuda {

// Page ids 0..pages-1; take() hands out the lowest free id first (deterministic for tests).
class PagePool {
  public:
    explicit PagePool(int pages);
    int pages() const { return pages_; }
    int free_pages() const { return static_cast<int>(free_.size()); }
    // Throws ModelError naming the pool size when no page is free.
    int take();
    void give_back(int page);

  private:
    int pages_ = 0;
    std::vector<int> free_;  // a stack, lowest id on top
};

// One sequence: positions 0..size()-1 cached. Full layers address position p through
// page_table()[p / kKvPage]; sliding layers through ring slot p % ring().
class KvBook {
  public:
    KvBook(const ModelConfig& config, int max_tokens, int sliding_slack, PagePool& pool);
    ~KvBook();
    KvBook(const KvBook&) = delete;
    KvBook& operator=(const KvBook&) = delete;

    int size() const { return size_; }
    int max_tokens() const { return max_tokens_; }
    int ring() const { return ring_; }
    int reusable_prefix(int n) const;
    void truncate(int n);  // releases pages no longer needed
    int max_append() const;
    int window() const { return window_; }
    // The lowest position the sliding layers' ring still holds (CpuKvCache::oldest).
    int oldest_sliding() const { return std::min(ring_floor_, size_); }
    // Empties the book and makes it hold `size` positions whose sliding layers keep only
    // positions >= sliding_from (CpuKvCache::restore's rules). Returns grow()'s answer.
    std::size_t restore(int size, int sliding_from);
    // Makes room for positions < new_size (taking pages) and marks them cached. Returns the
    // index of the first page-table entry that changed (page_table().size() if none).
    std::size_t grow(int new_size);
    const std::vector<int>& page_table() const { return pages_; }
    static int pages_for(int positions) { return (positions + kKvPage - 1) / kKvPage; }

  private:
    PagePool& pool_;
    int window_ = 0;
    int max_tokens_ = 0;
    int ring_ = 0;
    int size_ = 0;
    int ring_floor_ = 0;
    std::vector<int> pages_;
};

}  // namespace gossamer::engine::cuda
