#include "engine/cuda/cuda_kv_cache.h"

#include <algorithm>
#include <string>

#include "engine/model_error.h"

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/random_fill.cuh"

namespace gossamer::engine::cuda {
namespace {

int full_layers(const ModelConfig& c) {
    return c.num_hidden_layers / 2;
}
int sliding_layers(const ModelConfig& c) {
    return (c.num_hidden_layers + 1) / 2;
}

int pool_pages(const ModelConfig& c, std::size_t page_bytes, std::uint64_t bytes) {
    if (page_bytes == 0) return c.max_context() / kKvPage * 1024;  // no full layers: free pages
    return static_cast<int>(std::min<std::uint64_t>(bytes / page_bytes, 1u << 30));
}

void fill(std::uint8_t* p, std::size_t bytes, std::size_t element_bytes, std::uint64_t seed,
          cudaStream_t stream) {
    if (element_bytes == 4)
        fill_f32(reinterpret_cast<float*>(p), bytes / 4, seed, 0.0f, 1.0f, stream);
    else
        fill_bf16(reinterpret_cast<std::uint16_t*>(p), bytes / 2, seed, 1.0f, stream);
}

}  // namespace

KvPool::KvPool(const ModelConfig& config, std::size_t element_bytes_, std::uint64_t bytes)
    : element_bytes(element_bytes_),
      page_bytes(static_cast<std::size_t>(full_layers(config)) * 2 * kKvPage *
                 static_cast<std::size_t>(config.kv_width()) * element_bytes_),
      pages(pool_pages(config, page_bytes, bytes)) {
    if (page_bytes > 0) storage.grow(static_cast<std::size_t>(pages.pages()) * page_bytes);
}

CudaKvCache::CudaKvCache(const ModelConfig& config, int max_tokens, int sliding_slack,
                         std::shared_ptr<KvPool> pool)
    : pool_(std::move(pool)),
      book_(config, max_tokens, sliding_slack, pool_->pages),
      layers_(config.num_hidden_layers),
      sliding_layers_(sliding_layers(config)),
      kv_heads_(config.num_key_value_heads),
      head_dim_(config.head_dim),
      kv_width_(static_cast<std::size_t>(config.kv_width())) {
    page_table_.grow(static_cast<std::size_t>(KvBook::pages_for(max_tokens)));
    ring_.grow(static_cast<std::size_t>(sliding_layers_) * 2 *
               static_cast<std::size_t>(book_.ring()) * kv_width_ * pool_->element_bytes);
    pool_->ring_bytes += ring_.bytes();
}

CudaKvCache::~CudaKvCache() {
    pool_->ring_bytes -= ring_.bytes();
}

unsigned long long CudaKvCache::bytes() const {
    return ring_.bytes() + book_.page_table().size() * pool_->page_bytes;
}

void CudaKvCache::grow(int new_size, cudaStream_t stream) {
    const std::size_t first = book_.grow(new_size);
    const auto& table = book_.page_table();
    // The host table may change after this returns: pageable copies are staged at the call.
    if (first < table.size())
        CUDA_CHECK(cudaMemcpyAsync(page_table_.get() + first, table.data() + first,
                                   (table.size() - first) * sizeof(int), cudaMemcpyHostToDevice,
                                   stream));
}

SeqKv CudaKvCache::view() const {
    SeqKv v;
    v.pool = pool_->storage.get();
    v.page_table = page_table_.get();
    v.ring = ring_.get();
    v.ring_slots = book_.ring();
    return v;
}

void CudaKvCache::fill_random(std::uint64_t seed, cudaStream_t stream) {
    fill(ring_.get(), ring_.bytes(), pool_->element_bytes, seed, stream);
    std::uint64_t salt = 0;
    for (int page : book_.page_table())
        fill(pool_->storage.get() + static_cast<std::size_t>(page) * pool_->page_bytes,
             pool_->page_bytes, pool_->element_bytes, seed + ++salt * 0x1000193ull, stream);
}

template <class F>
void CudaKvCache::runs(int layer, int first, int count, F&& f) const {
    // kv_view.h's addressing, as the kernels use it, with the host's copy of the page table.
    SeqKv host = view();
    host.page_table = book_.page_table().data();
    LayerShape shape;
    shape.kv_heads = kv_heads_;
    shape.head_dim = head_dim_;
    shape.full_layers = layers_ / 2;
    shape.layer_slot = layer / 2;
    shape.sliding = ModelConfig::is_sliding(layer) ? 1 : 0;
    std::uint8_t* base = kv_base<std::uint8_t>(host, shape);
    const std::size_t element = pool_->element_bytes;
    const int span = shape.sliding ? book_.ring() : kKvPage;  // consecutive rows end there
    for (int done = 0; done < count;) {
        const int p = first + done;
        const int rows = std::min(count - done, span - p % span);
        f(base + kv_offset(host, shape, 0, p) * element,
          base + kv_offset(host, shape, 1, p) * element, done,
          static_cast<std::size_t>(rows) * kv_width_ * element);
        done += rows;
    }
}

void CudaKvCache::check_range(int layer, int first, int count, const char* what) const {
    if (layer < 0 || layer >= layers_ || first < oldest(layer) || count < 0 ||
        first + count > size())
        throw ModelError(std::string("cuda kv cache: ") + what + " of positions outside the cache");
}

void CudaKvCache::read(int layer, int first, int count, void* keys, void* values) const {
    check_range(layer, first, count, "read");
    const std::size_t row = kv_width_ * pool_->element_bytes;
    runs(layer, first, count,
         [&](const std::uint8_t* key, const std::uint8_t* value, int index, std::size_t bytes) {
             const std::size_t at = static_cast<std::size_t>(index) * row;
             CUDA_CHECK(cudaMemcpy(static_cast<std::uint8_t*>(keys) + at, key, bytes,
                                   cudaMemcpyDeviceToHost));
             CUDA_CHECK(cudaMemcpy(static_cast<std::uint8_t*>(values) + at, value, bytes,
                                   cudaMemcpyDeviceToHost));
         });
}

void CudaKvCache::restore(int size, int sliding_from) {
    const std::size_t first = book_.restore(size, sliding_from);
    const auto& table = book_.page_table();
    if (first < table.size())
        CUDA_CHECK(cudaMemcpy(page_table_.get() + first, table.data() + first,
                              (table.size() - first) * sizeof(int), cudaMemcpyHostToDevice));
}

void CudaKvCache::write(int layer, int first, int count, const void* keys, const void* values) {
    check_range(layer, first, count, "write");
    const std::size_t row = kv_width_ * pool_->element_bytes;
    runs(layer, first, count,
         [&](std::uint8_t* key, std::uint8_t* value, int index, std::size_t bytes) {
             const std::size_t at = static_cast<std::size_t>(index) * row;
             CUDA_CHECK(cudaMemcpy(key, static_cast<const std::uint8_t*>(keys) + at, bytes,
                                   cudaMemcpyHostToDevice));
             CUDA_CHECK(cudaMemcpy(value, static_cast<const std::uint8_t*>(values) + at, bytes,
                                   cudaMemcpyHostToDevice));
         });
}

}  // namespace gossamer::engine::cuda
