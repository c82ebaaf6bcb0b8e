// The CPU cache's bookkeeping (growth, the sliding ring, how far prefix reuse may cut back)
// and the YaRN tables against the reference's closed-form values.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/cpu/cpu_kv_cache.h"
#include "engine/cpu/rope.h"
#include "engine/model_config.h"
#include "engine/model_error.h"

using gossamer::engine::ModelConfig;
using gossamer::engine::ModelError;
using gossamer::engine::cpu::CpuKvCache;
using gossamer::engine::cpu::YarnRope;

namespace {
ModelConfig small_config() {
    ModelConfig c;
    c.num_hidden_layers = 2;
    c.sliding_window = 16;
    c.num_key_value_heads = 2;
    c.head_dim = 4;
    return c;
}
}  // namespace

TEST_CASE("kv cache: full and sliding layers keep what attention needs") {
    CpuKvCache cache(small_config(), 1000, 8);  // ring of 16 + 8 slots
    CHECK(cache.size() == 0);
    CHECK(cache.max_append() == 24 - 16 + 1);
    cache.grow(20);
    // Position 3 of the sliding layer 0 and position 27 share a slot of the 24-slot ring.
    cache.grow(30);
    auto slot = [&](int layer, int pos) {
        CpuKvCache::Run run[2];
        cache.runs(layer, pos, pos, run);
        return cache.key_slot(layer, run[0].slot);
    };
    CHECK(slot(0, 27) == slot(0, 3));
    CHECK(slot(0, 26) != slot(0, 3));
    CHECK(slot(1, 27) != slot(1, 3));  // full layers never wrap
    // Ring now holds positions 6..29: a cut to n needs n-16..n-1.
    CHECK(cache.reusable_prefix(30) == 30);
    CHECK(cache.reusable_prefix(22) == 22);
    CHECK(cache.reusable_prefix(21) == 0);
    CHECK(cache.reusable_prefix(500) == 30);
    cache.truncate(22);
    CHECK(cache.size() == 22);
    // The positions 22..29 are gone even though their slots still hold data; appending
    // again does not bring back what the ring lost.
    cache.grow(25);
    CHECK(cache.reusable_prefix(22) == 22);
    CHECK(cache.reusable_prefix(21) == 0);
    CHECK_THROWS_AS(cache.truncate(21), ModelError);
    cache.truncate(0);
    CHECK(cache.size() == 0);
    CHECK_THROWS_AS(cache.grow(1001), ModelError);
}

TEST_CASE("kv cache: a cache shorter than the ring never wraps") {
    CpuKvCache cache(small_config(), 20, 4096);
    CHECK(cache.max_append() == 20);
    cache.grow(20);
    CHECK(cache.reusable_prefix(3) == 3);
    CHECK_THROWS_AS(CpuKvCache(small_config(), 0, 0), ModelError);
}

TEST_CASE("rope: YaRN inv_freq and concentration for the gpt-oss config") {
    ModelConfig config;  // 120b defaults: d 64, theta 150000, s 32, L0 4096, alpha 1, beta 32
    YarnRope rope(config);
    CHECK(rope.concentration() == doctest::Approx(1.0 + 0.1 * std::log(32.0)).epsilon(1e-7));
    const auto& inv = rope.inv_freq();
    REQUIRE(inv.size() == 32);
    for (int i = 0; i < 32; ++i) {
        const double extrapolation = std::pow(150000.0, -2.0 * i / 64.0);
        CAPTURE(i);
        if (i <= 8)
            CHECK(inv[static_cast<std::size_t>(i)] == doctest::Approx(extrapolation).epsilon(1e-6));
        if (i >= 18)
            CHECK(inv[static_cast<std::size_t>(i)] ==
                  doctest::Approx(extrapolation / 32).epsilon(1e-6));
        if (i > 8 && i < 18) {  // blended: strictly between the two
            CHECK(inv[static_cast<std::size_t>(i)] < extrapolation);
            CHECK(inv[static_cast<std::size_t>(i)] > extrapolation / 32);
        }
    }
    // Half-split rotation by position 1000 keeps each (i, i+32) pair's norm times m.
    float cos[32], sin[32], x[64];
    rope.angles(1000, cos, sin);
    for (int i = 0; i < 64; ++i) x[i] = static_cast<float>(i % 7) - 3.0f;
    float before[64];
    std::copy(x, x + 64, before);
    rope.rotate(x, 1, cos, sin);
    const double m = rope.concentration();
    for (int i = 0; i < 32; ++i) {
        double in = std::hypot(before[i], before[i + 32]), out = std::hypot(x[i], x[i + 32]);
        CHECK(out == doctest::Approx(in * m).epsilon(1e-5));
    }
    CHECK(cos[0] == doctest::Approx(m * std::cos(1000.0)).epsilon(1e-4));
}
