// The attention cache of one sequence, as a backend keeps it. The interface is what the
// scheduler needs: how many positions are cached and how far back the cache can be cut for
// prefix reuse, plus the copy in and out that engine/kv_file.h uses to keep a cache on disk.
// Backends own the storage layout (CPU: cpu/cpu_kv_cache.h); nothing outside a backend
// interprets keys or values (they leave and come back as opaque rows of the cache's
// precision).
#pragma once

#include <cstddef>

namespace gossamer::engine {

// How a cache stores each key and value element.
enum class KvPrecision { Bf16, Fp32 };
const char* to_string(KvPrecision precision);
inline std::size_t element_bytes(KvPrecision precision) {
    return precision == KvPrecision::Bf16 ? 2 : 4;
}

class KvCache {
  public:
    virtual ~KvCache() = default;
    // Positions 0..size()-1 are cached.
    virtual int size() const = 0;
    // The largest n' <= n such that truncate(n') keeps a valid cache. Sliding-window layers
    // keep a ring, so a cut deeper than the ring's slack can only go back to 0.
    virtual int reusable_prefix(int n) const = 0;
    // Forgets positions >= n. Precondition: n == reusable_prefix(n).
    virtual void truncate(int n) = 0;
    // Bytes of memory the cache holds now.
    virtual unsigned long long bytes() const = 0;

    // Copy out and in (engine/kv_file.h). A cache that cannot (a device cache without the
    // copies yet) says so and is never saved or restored.
    virtual bool copyable() const { return false; }
    virtual KvPrecision precision() const { return KvPrecision::Fp32; }
    // Elements of one position's keys (and of its values) in one layer: kv_heads * head_dim.
    virtual int row_elements() const { return 0; }
    // The lowest position `layer` still holds (0 for full layers; sliding layers keep a ring).
    virtual int oldest(int /*layer*/) const { return 0; }
    // How far back a query in `layer` looks: the sliding window, or 0 for the whole prefix.
    virtual int lookback(int /*layer*/) const { return 0; }
    // The most positions a sliding layer's ring holds (restore() loads no more than that).
    virtual int ring_positions() const { return 0; }
    virtual int layers() const { return 0; }
    // Keys and values of positions [first, first + count) of `layer`, each count rows of
    // row_elements() in precision(). Precondition: oldest(layer) <= first, first + count <= size().
    virtual void read(int /*layer*/, int /*first*/, int /*count*/, void* /*keys*/,
                      void* /*values*/) const {}
    // Empties the cache and makes it hold `size` positions whose sliding layers keep only
    // positions >= `sliding_from` (>= size - ring_positions()). The caller then write()s every
    // held position of every layer before the cache is used.
    virtual void restore(int /*size*/, int /*sliding_from*/) {}
    virtual void write(int /*layer*/, int /*first*/, int /*count*/, const void* /*keys*/,
                       const void* /*values*/) {}
};

}  // namespace gossamer::engine
