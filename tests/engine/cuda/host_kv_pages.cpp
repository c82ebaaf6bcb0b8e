// The CUDA KV cache's host-side bookkeeping (engine/cuda/kv_pages.h), on the CPU: the page
// pool, and KvBook against CpuKvCache's reuse/truncate rules on random operation sequences.
#include <doctest/doctest.h>

#include <random>

#include "engine/cpu/cpu_kv_cache.h"
#include "engine/cuda/kv_pages.h"
#include "engine/model_error.h"

using namespace gossamer::engine;

TEST_CASE("cuda kv pages: the pool hands out the lowest free page and refuses when empty") {
    cuda::PagePool pool(3);
    CHECK(pool.take() == 0);
    CHECK(pool.take() == 1);
    pool.give_back(0);
    CHECK(pool.take() == 0);
    CHECK(pool.take() == 2);
    CHECK(pool.free_pages() == 0);
    CHECK_THROWS_AS(pool.take(), ModelError);
}

TEST_CASE("cuda kv pages: pages follow the size; a failed grow takes nothing") {
    ModelConfig c = config_preset("tiny");
    cuda::PagePool pool(4);
    {
        cuda::KvBook book(c, 1000, 1000, pool);  // the ring never wraps
        book.grow(1);
        CHECK(book.page_table().size() == 1);
        book.grow(cuda::kKvPage * 2 + 1);
        CHECK(book.page_table().size() == 3);
        CHECK(pool.free_pages() == 1);
        CHECK_THROWS_AS(book.grow(cuda::kKvPage * 6), ModelError);  // needs 6 pages, pool has 4
        CHECK(book.size() == cuda::kKvPage * 2 + 1);
        CHECK(pool.free_pages() == 1);
        book.truncate(book.reusable_prefix(cuda::kKvPage));
        CHECK(book.page_table().size() == 1);
        CHECK(pool.free_pages() == 3);
    }
    CHECK(pool.free_pages() == 4);  // the destructor gives every page back
}

TEST_CASE("cuda kv pages: reuse, truncation and restore rules equal the CPU cache's") {
    ModelConfig c = config_preset("tiny");
    std::mt19937 rng(7);
    for (int slack : {0, 5, 40}) {
        for (int max_tokens : {c.sliding_window / 2, 100, 300}) {
            cuda::PagePool pool(1000);
            cuda::KvBook book(c, max_tokens, slack, pool);
            cpu::CpuKvCache ref(c, max_tokens, slack);
            CHECK(book.max_append() == ref.max_append());
            for (int step = 0; step < 200; ++step) {
                const int op = static_cast<int>(rng() % 4);
                if (op == 3) {  // restore (engine/kv_file.h) at a random size and ring start
                    const int size =
                        static_cast<int>(rng() % static_cast<unsigned>(max_tokens + 1));
                    const int low = std::max(0, size - ref.ring_positions());
                    const int from =
                        low + static_cast<int>(rng() % static_cast<unsigned>(size - low + 1));
                    book.restore(size, from);
                    ref.restore(size, from);
                } else if (op < 2) {
                    const int add = 1 + static_cast<int>(rng() % static_cast<unsigned>(std::max(
                                                                     1, book.max_append())));
                    const int target = std::min(max_tokens, book.size() + add);
                    book.grow(target);
                    ref.grow(target);
                } else {
                    const int n = static_cast<int>(rng() % static_cast<unsigned>(book.size() + 1));
                    REQUIRE(book.reusable_prefix(n) == ref.reusable_prefix(n));
                    const int cut = book.reusable_prefix(n);
                    book.truncate(cut);
                    ref.truncate(cut);
                }
                REQUIRE(book.size() == ref.size());
                REQUIRE(book.oldest_sliding() == ref.oldest(0));
                for (int n = 0; n <= book.size(); n += 7)
                    REQUIRE(book.reusable_prefix(n) == ref.reusable_prefix(n));
                REQUIRE(book.page_table().size() ==
                        static_cast<std::size_t>(cuda::KvBook::pages_for(book.size())));
            }
            CHECK_THROWS_AS(book.restore(max_tokens + 1, 0), ModelError);
            if (ref.ring_positions() < max_tokens)  // a ring cannot start that far back
                CHECK_THROWS_AS(book.restore(max_tokens, 0), ModelError);
        }
    }
}
