#include "engine/cuda/kv_pages.h"

#include <algorithm>
#include <functional>
#include <string>

#include "engine/model_error.h"

namespace gossamer::engine::cuda {

PagePool::PagePool(int pages) : pages_(pages) {
    if (pages < 0) throw ModelError("kv page pool: negative size");
    free_.reserve(static_cast<std::size_t>(pages));
    for (int p = pages - 1; p >= 0; --p) free_.push_back(p);
}

int PagePool::take() {
    if (free_.empty())
        throw ModelError("cuda kv cache: all " + std::to_string(pages_) + " pages of " +
                         std::to_string(kKvPage) +
                         " positions are in use (raise CudaOptions::kv_pool_bytes or close "
                         "sequences)");
    const int page = free_.back();
    free_.pop_back();
    return page;
}

void PagePool::give_back(int page) {
    // Keep the lowest id on top so allocation order does not depend on release order: a
    // sorted insert (a sort per page made freeing a 128K-token cache take seconds).
    free_.insert(std::upper_bound(free_.begin(), free_.end(), page, std::greater<>()), page);
}

KvBook::KvBook(const ModelConfig& config, int max_tokens, int sliding_slack, PagePool& pool)
    : pool_(pool),
      window_(config.sliding_window),
      max_tokens_(max_tokens),
      ring_(std::min(max_tokens, config.sliding_window + std::max(sliding_slack, 0))) {
    if (max_tokens <= 0 || max_tokens > config.max_context())
        throw ModelError("kv cache: max_tokens must be in 1.." +
                         std::to_string(config.max_context()) + ", got " +
                         std::to_string(max_tokens));
}

KvBook::~KvBook() {
    for (int page : pages_) pool_.give_back(page);
}

int KvBook::max_append() const {
    if (ring_ >= max_tokens_) return max_tokens_;
    return ring_ - window_ + 1;
}

int KvBook::reusable_prefix(int n) const {
    n = std::clamp(n, 0, size_);
    const int needed_from = std::max(0, n - window_);
    return needed_from >= ring_floor_ ? n : 0;
}

void KvBook::truncate(int n) {
    if (n < 0 || n > size_ || n != reusable_prefix(n))
        throw ModelError("kv cache: cannot truncate to " + std::to_string(n) +
                         " (cached: " + std::to_string(size_) + ")");
    size_ = n;
    if (n == 0) ring_floor_ = 0;
    const auto keep = static_cast<std::size_t>(pages_for(n));
    while (pages_.size() > keep) {
        pool_.give_back(pages_.back());
        pages_.pop_back();
    }
}

std::size_t KvBook::grow(int new_size) {
    if (new_size > max_tokens_)
        throw ModelError("kv cache: " + std::to_string(new_size) + " positions exceed max_tokens " +
                         std::to_string(max_tokens_));
    const std::size_t first_changed = pages_.size();
    if (new_size <= size_) return first_changed;
    const auto want = static_cast<std::size_t>(pages_for(new_size));
    try {
        while (pages_.size() < want) pages_.push_back(pool_.take());
    } catch (...) {
        while (pages_.size() > first_changed) {
            pool_.give_back(pages_.back());
            pages_.pop_back();
        }
        throw;
    }
    size_ = new_size;
    ring_floor_ = std::max(ring_floor_, size_ - ring_);
    return first_changed;
}

std::size_t KvBook::restore(int size, int sliding_from) {
    if (size < 0 || size > max_tokens_ || sliding_from > size || sliding_from < size - ring_)
        throw ModelError("kv cache: cannot restore " + std::to_string(size) + " positions");
    truncate(0);
    const std::size_t first = grow(size);
    ring_floor_ = std::max({ring_floor_, sliding_from, 0});
    return first;
}

}  // namespace gossamer::engine::cuda
