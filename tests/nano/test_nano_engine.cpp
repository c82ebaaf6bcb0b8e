// The shipped gpt-oss-nano checkpoint (models/gpt-oss-nano.tar.xz, unpacked by the build) in the
// C++ engine against the training code's own forward pass: train/train.py wrote the exported
// checkpoint's last-position logits on held-out prompts (reference/), so what was evaluated in
// training is what runs here.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/weights.h"
#include "tests/support/golden.h"

using namespace gossamer::engine;
using gossamer::test::read_raw;

namespace {

std::filesystem::path nano(const char* file) {
    return std::filesystem::path(GOSSAMER_NANO_DIR) / file;
}

}  // namespace

TEST_CASE("nano: the engine reproduces the training code's logits on held-out prompts") {
    const Weights weights = load_weights(GOSSAMER_NANO_DIR);
    auto backend =
        cpu::make_cpu_backend(weights, {.threads = 2, .kv_precision = KvPrecision::Fp32});
    const auto prompts = read_raw<std::int32_t>(nano("reference/prompts.i32"));
    const auto lengths = read_raw<std::int32_t>(nano("reference/lengths.i32"));
    const auto expected = read_raw<float>(nano("reference/logits.f32"));
    const int vocab = backend->config().vocab_size;
    REQUIRE(vocab == 201088);
    REQUIRE(!lengths.empty());
    REQUIRE(expected.size() == lengths.size() * static_cast<std::size_t>(vocab));

    std::size_t offset = 0;
    for (std::size_t p = 0; p < lengths.size(); ++p) {
        std::vector<TokenId> prompt(
            prompts.begin() + static_cast<std::ptrdiff_t>(offset),
            prompts.begin() + static_cast<std::ptrdiff_t>(offset + lengths[p]));
        offset += static_cast<std::size_t>(lengths[p]);
        auto cache = backend->new_cache(static_cast<int>(prompt.size()) + 1);
        std::vector<float> logits;
        ForwardItem item{cache.get(), prompt, LogitsWanted::Last};
        backend->forward({&item, 1}, logits);
        REQUIRE(logits.size() == static_cast<std::size_t>(vocab));
        const float* want = expected.data() + p * static_cast<std::size_t>(vocab);
        float worst = 0;
        for (int i = 0; i < vocab; ++i) worst = std::max(worst, std::fabs(logits[i] - want[i]));
        const auto top = std::max_element(logits.begin(), logits.end()) - logits.begin();
        const auto top_want = std::max_element(want, want + vocab) - want;
        MESSAGE("prompt " << p << " (" << prompt.size()
                          << " tokens): max |engine - training| = " << worst);
        CHECK(worst < 1e-3f);
        CHECK(top == top_want);
    }
}

TEST_CASE("nano: bf16 KV stays close to fp32 KV on the held-out prompts (stated, not exact)") {
    const Weights weights = load_weights(GOSSAMER_NANO_DIR);
    auto exact = cpu::make_cpu_backend(weights, {.threads = 2, .kv_precision = KvPrecision::Fp32});
    auto bf16 = cpu::make_cpu_backend(weights, {.threads = 2});
    const auto prompts = read_raw<std::int32_t>(nano("reference/prompts.i32"));
    const auto lengths = read_raw<std::int32_t>(nano("reference/lengths.i32"));
    std::size_t offset = 0;
    float worst = 0;
    int same_top = 0;
    for (std::size_t p = 0; p < lengths.size(); ++p) {
        std::vector<TokenId> prompt(
            prompts.begin() + static_cast<std::ptrdiff_t>(offset),
            prompts.begin() + static_cast<std::ptrdiff_t>(offset + lengths[p]));
        offset += static_cast<std::size_t>(lengths[p]);
        std::vector<float> a, b;
        for (auto* backend : {exact.get(), bf16.get()}) {
            auto cache = backend->new_cache(static_cast<int>(prompt.size()) + 1);
            ForwardItem item{cache.get(), prompt, LogitsWanted::Last};
            backend->forward({&item, 1}, backend == exact.get() ? a : b);
        }
        for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
        same_top += std::max_element(a.begin(), a.end()) ==
                    a.begin() + (std::max_element(b.begin(), b.end()) - b.begin());
    }
    MESSAGE("nano, " << lengths.size() << " prompts: max |bf16 KV - fp32 KV| logit = " << worst
                     << ", same argmax on " << same_top);
    CHECK(worst < 0.25f);
    CHECK(same_top == static_cast<int>(lengths.size()));
}
