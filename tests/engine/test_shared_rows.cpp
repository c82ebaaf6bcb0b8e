// Shared unembedding rows (engine/cpu/shared_rows.h): found only when one row value is held
// by many rows, the compact table keeps every distinct row, and the compact logits spread
// back are exactly the full matmul's, on the real bf16 kernel.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "engine/cpu/matmul.h"
#include "engine/cpu/shared_rows.h"
#include "engine/cpu/thread_pool.h"

using namespace gossamer::engine::cpu;

TEST_CASE("shared rows: found when common, absent otherwise, and the logits are exact") {
    constexpr int rows = 4096, cols = 64, tokens = 3;
    std::mt19937 random(7);
    std::uniform_int_distribution<int> bits(0x3c00, 0x3f80);  // bf16 values near 1
    std::vector<std::uint16_t> w(static_cast<std::size_t>(rows) * cols);
    for (auto& v : w) v = static_cast<std::uint16_t>(bits(random));
    CHECK_FALSE(find_shared_rows(w.data(), rows, cols));  // all distinct: the plain path

    std::vector<std::uint16_t> shared_row(w.begin(), w.begin() + cols);
    std::vector<int> distinct;
    for (int r = 0; r < rows; ++r) {
        if (r % 7 == 3) {
            distinct.push_back(r);
            continue;
        }
        std::copy(shared_row.begin(), shared_row.end(), w.begin() + static_cast<long>(r) * cols);
    }
    const auto shared = find_shared_rows(w.data(), rows, cols);
    REQUIRE(shared);
    CHECK(shared->shared_count == rows - static_cast<int>(distinct.size()));
    CHECK(shared->ids == std::vector<std::int32_t>(distinct.begin(), distinct.end()));

    std::vector<float> x(static_cast<std::size_t>(tokens) * cols);
    for (auto& v : x) v = std::uniform_real_distribution<float>(-1, 1)(random);
    ThreadPool pool(2);
    std::vector<float> full(static_cast<std::size_t>(tokens) * rows);
    matmul_bf16(x.data(), cols, tokens, w.data(), rows, cols, nullptr, full.data(), rows, pool);
    const int n = static_cast<int>(shared->ids.size()) + 1;
    std::vector<float> compact(static_cast<std::size_t>(tokens) * n);
    matmul_bf16(x.data(), cols, tokens, shared->weights.data(), n, cols, nullptr, compact.data(),
                static_cast<std::size_t>(n), pool);
    std::vector<float> spread(full.size());
    for (int t = 0; t < tokens; ++t)
        expand_shared_rows(*shared, compact.data() + static_cast<std::size_t>(t) * n,
                           spread.data() + static_cast<std::size_t>(t) * rows, rows);
    for (std::size_t i = 0; i < full.size(); ++i) REQUIRE(spread[i] == full[i]);

    // Too few sharers to be worth it.
    CHECK_FALSE(find_shared_rows(w.data(), rows, cols, 0.9));
}
