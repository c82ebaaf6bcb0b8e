// The attention cache of one sequence, as a backend keeps it. The interface is what the
// scheduler needs: how many positions are cached and how far back the cache can be cut for
// prefix reuse. Backends own the storage layout (CPU: cpu/cpu_kv_cache.h); nothing outside a
// backend reads keys or values.
#pragma once

namespace gossamer::engine {

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
};

}  // namespace gossamer::engine
