// A streaming 64-bit non-cryptographic hash: checksums of what the engine writes to disk
// (engine/kv_file.h) and the sampled fingerprint of a checkpoint (engine/weights.h). It finds
// torn writes, flipped bytes and a swapped model; it must not be used where an adversary
// chooses the bytes (it is not a MAC).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace gossamer::engine {

class Hash64 {
  public:
    explicit Hash64(std::uint64_t seed = 0x9e3779b97f4a7c15ull) : h_(seed) {}

    void update(const void* data, std::size_t n) {
        const auto* p = static_cast<const unsigned char*>(data);
        length_ += n;
        while (n > 0 && fill_ > 0) {
            pending_[fill_++] = *p++;
            --n;
            if (fill_ == 8) mix(load(pending_)), fill_ = 0;
        }
        for (; n >= 8; n -= 8, p += 8) mix(load(p));
        while (n-- > 0) pending_[fill_++] = *p++;
    }
    template <class T>
    void add(const T& value) {
        update(&value, sizeof(T));
    }
    void add(const std::string& text) {
        add(static_cast<std::uint64_t>(text.size()));
        update(text.data(), text.size());
    }

    std::uint64_t digest() const {
        std::uint64_t h = h_;
        unsigned char last[8] = {};
        std::memcpy(last, pending_, fill_);
        h = step(h, load(last) ^ (static_cast<std::uint64_t>(fill_) << 56));
        h ^= length_;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 33;
        return h;
    }

  private:
    static std::uint64_t load(const unsigned char* p) {
        std::uint64_t v;
        std::memcpy(&v, p, 8);
        return v;
    }
    static std::uint64_t step(std::uint64_t h, std::uint64_t w) {
        w *= 0x87c37b91114253d5ull;
        w = (w << 31) | (w >> 33);
        h ^= w * 0x4cf5ad432745937full;
        h = (h << 27) | (h >> 37);
        return h * 5 + 0x52dce729;
    }
    void mix(std::uint64_t w) { h_ = step(h_, w); }

    std::uint64_t h_;
    std::uint64_t length_ = 0;
    unsigned char pending_[8] = {};
    std::size_t fill_ = 0;
};

}  // namespace gossamer::engine
