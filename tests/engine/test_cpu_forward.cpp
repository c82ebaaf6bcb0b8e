// The CPU forward pass against the official PyTorch reference (tests/data/golden: a random
// checkpoint in the original layout and the reference's fp32 logits), and the cache paths
// (token-by-token decode, chunked prefill, prefix reuse, batching, long inputs in rounds)
// against one full forward, with fp32 and with int8 expert activations; the distance of bf16
// KV and of int8 expert activations from fp32, stated.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/model_error.h"
#include "engine/weights.h"
#include "tests/support/golden.h"

using namespace gossamer::engine;
using gossamer::test::golden;
using gossamer::test::read_raw;

namespace {

// The activation modes batch invariance is checked in: exact, int8 experts, and the CLI's
// defaults (int8 experts, bf16 dense).
constexpr std::pair<Mxfp4Activations, DenseActivations> kActivationModes[] = {
    {Mxfp4Activations::Fp32, DenseActivations::Fp32},
    {Mxfp4Activations::Int8, DenseActivations::Fp32},
    {Mxfp4Activations::Int8, DenseActivations::Bf16}};

const Weights& tiny(const std::string& name = "tiny-moe") {
    static Weights short_model = load_weights(golden("tiny-moe/model"));
    static Weights long_model = load_weights(golden("tiny-moe-long/model"));
    return name == "tiny-moe" ? short_model : long_model;
}

float max_abs_diff(const float* a, const float* b, std::size_t n) {
    float worst = 0;
    for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
    return worst;
}

std::vector<float> full_forward(Backend& backend, const std::vector<TokenId>& tokens) {
    auto cache = backend.new_cache(static_cast<int>(tokens.size()) + 64);
    std::vector<float> logits;
    ForwardItem item{cache.get(), tokens, LogitsWanted::All};
    backend.forward({&item, 1}, logits);
    return logits;
}

int argmax(const float* row, int n) {
    return static_cast<int>(std::max_element(row, row + n) - row);
}

// Rows (of `vocab` logits each) whose argmax a and b agree on.
int same_argmax(const float* a, const float* b, std::size_t rows, int vocab) {
    int same = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t at = r * static_cast<std::size_t>(vocab);
        same += argmax(a + at, vocab) == argmax(b + at, vocab);
    }
    return same;
}

}  // namespace

TEST_CASE("cpu forward: logits match the PyTorch reference (tiny-moe, fp32 and bf16 KV)") {
    const auto prompt = read_raw<std::int32_t>(golden("tiny-moe/prompt.i32"));
    const auto expected = read_raw<float>(golden("tiny-moe/logits_f32.f32"));
    REQUIRE(prompt.size() == 64);
    // fp32 KV is the reference's arithmetic; bf16 KV (the default) rounds each key and value
    // to 8 bits of mantissa: its distance is stated (docs/BENCHMARKS.md) and bounded here.
    for (auto precision : {KvPrecision::Fp32, KvPrecision::Bf16}) {
        const std::string kv = to_string(precision);
        CAPTURE(kv);
        auto backend = cpu::make_cpu_backend(tiny(), {.kv_precision = precision});
        const auto logits = full_forward(*backend, prompt);
        REQUIRE(logits.size() == expected.size());
        const float diff = max_abs_diff(logits.data(), expected.data(), logits.size());
        float scale = 0;
        for (float v : expected) scale = std::max(scale, std::fabs(v));
        MESSAGE("kv " << kv << ": max |logit - reference| = " << diff << " (logits up to " << scale
                      << ")");
        CHECK(diff < (precision == KvPrecision::Fp32 ? 1e-3f : 0.5f));
        const int same_top = same_argmax(logits.data(), expected.data(), prompt.size(), 512);
        MESSAGE("kv " << kv << ": same argmax at " << same_top << " of 64");
        CHECK(same_top >= (precision == KvPrecision::Fp32 ? 64 : 62));
    }
}

TEST_CASE("cpu forward: int8 expert activations against the PyTorch reference (stated)") {
    // The experts' activations quantised per 32 columns (llama.cpp's q8_0 precision): alone
    // (fp32 KV) and with bf16 KV (the CLI's defaults). Bounded here, stated in BENCHMARKS.md.
    const auto prompt = read_raw<std::int32_t>(golden("tiny-moe/prompt.i32"));
    const auto expected = read_raw<float>(golden("tiny-moe/logits_f32.f32"));
    for (auto precision : {KvPrecision::Fp32, KvPrecision::Bf16}) {
        const std::string kv = to_string(precision);
        CAPTURE(kv);
        auto backend = cpu::make_cpu_backend(
            tiny(), {.kv_precision = precision, .expert_activations = Mxfp4Activations::Int8});
        const auto logits = full_forward(*backend, prompt);
        REQUIRE(logits.size() == expected.size());
        const float diff = max_abs_diff(logits.data(), expected.data(), logits.size());
        const int same_top = same_argmax(logits.data(), expected.data(), prompt.size(), 512);
        MESSAGE("int8 experts, kv " << kv << ": max |logit - reference| = " << diff
                                    << ", same argmax at " << same_top << " of 64");
        CHECK(diff > 0.0f);  // it is a different arithmetic
        CHECK(diff < 0.5f);
        CHECK(same_top >= 60);
    }
}

TEST_CASE("cpu forward: bf16 dense activations against the PyTorch reference (stated)") {
    // The dense matmuls' activations rounded to bf16 (as llama.cpp and the bf16 reference
    // model): alone, then with int8 experts and bf16 KV (the CLI's defaults). Bounded here,
    // stated in BENCHMARKS.md.
    const auto prompt = read_raw<std::int32_t>(golden("tiny-moe/prompt.i32"));
    const auto expected = read_raw<float>(golden("tiny-moe/logits_f32.f32"));
    struct Mode {
        cpu::CpuOptions options;
        float bound;  // measured 0.018 and 0.24 (avx512bf16)
    };
    const Mode modes[] = {
        {{.kv_precision = KvPrecision::Fp32, .dense_activations = DenseActivations::Bf16}, 0.1f},
        {{.kv_precision = KvPrecision::Bf16,
          .expert_activations = Mxfp4Activations::Int8,
          .dense_activations = DenseActivations::Bf16},
         0.5f}};
    for (const auto& [options, bound] : modes) {
        auto backend = cpu::make_cpu_backend(tiny(), options);
        const auto logits = full_forward(*backend, prompt);
        REQUIRE(logits.size() == expected.size());
        const float diff = max_abs_diff(logits.data(), expected.data(), logits.size());
        const int same_top = same_argmax(logits.data(), expected.data(), prompt.size(), 512);
        MESSAGE(backend->name() << ": max |logit - reference| = " << diff << ", same argmax at "
                                << same_top << " of 64");
        CHECK(diff > 0.0f);  // it is a different arithmetic
        CHECK(diff < bound);
        CHECK(same_top >= 60);
    }
}

TEST_CASE("cpu forward: greedy continuation equals the reference's") {
    auto backend = cpu::make_cpu_backend(tiny(), {.kv_precision = KvPrecision::Fp32});
    auto tokens = read_raw<std::int32_t>(golden("tiny-moe/prompt.i32"));
    const auto expected = read_raw<std::int32_t>(golden("tiny-moe/greedy.i32"));
    const int vocab = backend->config().vocab_size;
    auto cache = backend->new_cache(256);
    std::vector<float> logits;
    std::vector<TokenId> next(tokens.begin(), tokens.end()), produced;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        ForwardItem item{cache.get(), next, LogitsWanted::Last};
        backend->forward({&item, 1}, logits);
        next = {argmax(logits.data(), vocab)};
        produced.push_back(next[0]);
    }
    CHECK(produced == std::vector<TokenId>(expected.begin(), expected.end()));
}

TEST_CASE("cpu forward: decode, chunked prefill and prefix reuse equal one full forward") {
    for (const auto& mode : kActivationModes) {
        const Mxfp4Activations activations = mode.first;  // not a binding: CAPTURE's lambda
        const DenseActivations dense = mode.second;       // (clang 14) cannot capture one
        CAPTURE(std::string(to_string(activations)));
        CAPTURE(std::string(to_string(dense)));
        auto backend = cpu::make_cpu_backend(
            tiny(), {.expert_activations = activations, .dense_activations = dense});
        const auto prompt = read_raw<std::int32_t>(golden("tiny-moe/prompt.i32"));
        const int vocab = backend->config().vocab_size;
        const auto V = static_cast<std::size_t>(vocab);
        const auto full = full_forward(*backend, prompt);

        for (int chunk : {1, 7, 16, 63}) {
            CAPTURE(chunk);
            auto cache = backend->new_cache(64);
            std::vector<float> all, part;
            for (std::size_t start = 0; start < prompt.size();
                 start += static_cast<std::size_t>(chunk)) {
                const std::size_t n =
                    std::min<std::size_t>(static_cast<std::size_t>(chunk), prompt.size() - start);
                ForwardItem item{cache.get(), std::span<const TokenId>(prompt).subspan(start, n),
                                 LogitsWanted::All};
                backend->forward({&item, 1}, part);
                all.insert(all.end(), part.begin(), part.end());
            }
            REQUIRE(all.size() == full.size());
            CHECK(max_abs_diff(all.data(), full.data(), all.size()) < 1e-4f);
        }

        // Prefix reuse: cut the cache back to 40 and recompute the rest with different tokens,
        // then with the original ones: the last rows must again equal the full forward's.
        auto cache = backend->new_cache(64);
        std::vector<float> logits;
        ForwardItem first{cache.get(), prompt, LogitsWanted::None};
        backend->forward({&first, 1}, logits);
        CHECK(logits.empty());
        std::vector<TokenId> other(prompt.begin() + 40, prompt.end());
        std::reverse(other.begin(), other.end());
        REQUIRE(cache->reusable_prefix(40) == 40);
        cache->truncate(40);
        ForwardItem detour{cache.get(), other, LogitsWanted::Last};
        backend->forward({&detour, 1}, logits);
        cache->truncate(40);
        ForwardItem back{cache.get(), std::span<const TokenId>(prompt).subspan(40),
                         LogitsWanted::All};
        backend->forward({&back, 1}, logits);
        REQUIRE(logits.size() == 24 * V);
        CHECK(max_abs_diff(logits.data(), full.data() + 40 * V, logits.size()) < 1e-4f);
    }
}

TEST_CASE("cpu forward: a batch of sequences equals each run alone") {
    for (const auto& mode : kActivationModes) {
        const Mxfp4Activations activations = mode.first;  // not a binding: CAPTURE's lambda
        const DenseActivations dense = mode.second;       // (clang 14) cannot capture one
        CAPTURE(std::string(to_string(activations)));
        CAPTURE(std::string(to_string(dense)));
        auto backend = cpu::make_cpu_backend(
            tiny(), {.expert_activations = activations, .dense_activations = dense});
        const auto prompt = read_raw<std::int32_t>(golden("tiny-moe/prompt.i32"));
        const auto V = static_cast<std::size_t>(backend->config().vocab_size);
        std::vector<TokenId> a(prompt.begin(), prompt.end()), b(prompt.begin() + 10, prompt.end()),
            c(prompt.rbegin(), prompt.rend());
        c.resize(33);
        const auto fa = full_forward(*backend, a), fb = full_forward(*backend, b),
                   fc = full_forward(*backend, c);

        auto ca = backend->new_cache(128), cb = backend->new_cache(128),
             cc = backend->new_cache(128);
        // Prefill b and c first, then one batched step: a's whole prompt, b's last token, c all.
        std::vector<float> logits;
        std::vector<TokenId> b_head(b.begin(), b.end() - 1);
        ForwardItem pre{cb.get(), b_head, LogitsWanted::None};
        backend->forward({&pre, 1}, logits);
        std::vector<TokenId> b_tail(b.end() - 1, b.end());
        ForwardItem items[] = {{ca.get(), a, LogitsWanted::Last},
                               {cb.get(), b_tail, LogitsWanted::Last},
                               {cc.get(), c, LogitsWanted::All}};
        backend->forward(items, logits);
        REQUIRE(logits.size() == (2 + c.size()) * V);
        CHECK(max_abs_diff(logits.data(), fa.data() + (a.size() - 1) * V, V) < 1e-4f);
        CHECK(max_abs_diff(logits.data() + V, fb.data() + (b.size() - 1) * V, V) < 1e-4f);
        CHECK(max_abs_diff(logits.data() + 2 * V, fc.data(), c.size() * V) < 1e-4f);
    }
}

TEST_CASE("cpu forward: bad input is refused before anything is computed") {
    auto backend = cpu::make_cpu_backend(tiny());
    auto cache = backend->new_cache(8);
    std::vector<float> logits;
    std::vector<TokenId> bad = {1, 2, 512};
    ForwardItem item{cache.get(), bad, LogitsWanted::Last};
    CHECK_THROWS_AS(backend->forward({&item, 1}, logits), ModelError);
    CHECK(cache->size() == 0);
    std::vector<TokenId> too_long(9, 1);
    ForwardItem overflow{cache.get(), too_long, LogitsWanted::Last};
    CHECK_THROWS_AS(backend->forward({&overflow, 1}, logits), ModelError);
    ForwardItem twice[] = {{cache.get(), {}, LogitsWanted::None},
                           {cache.get(), {}, LogitsWanted::None}};
    CHECK_THROWS_AS(backend->forward(twice, logits), ModelError);
}

TEST_CASE("cpu forward: past the sliding window and position 4096 (tiny-moe-long)") {
    const auto prompt = read_raw<std::int32_t>(golden("tiny-moe-long/prompt.i32"));
    const auto expected = read_raw<float>(golden("tiny-moe-long/logits_f32.f32"));
    REQUIRE(prompt.size() == 4200);
    const std::size_t V = 512, tail = 64;
    // A small ring slack forces the backend to run the prompt in rounds.
    for (int slack : {4096, 100, -1}) {
        CAPTURE(slack);
        cpu::CpuOptions options;
        options.sliding_slack = slack < 0 ? 4096 : slack;
        // The last pass keeps the default bf16 KV: its distance over 4200 positions is stated.
        options.kv_precision = slack < 0 ? KvPrecision::Bf16 : KvPrecision::Fp32;
        auto backend = cpu::make_cpu_backend(tiny("tiny-moe-long"), options);
        auto cache = backend->new_cache(4200);
        std::vector<float> logits, rows;
        const std::size_t head = prompt.size() - tail;
        ForwardItem first{cache.get(), std::span<const TokenId>(prompt).first(head),
                          LogitsWanted::None};
        backend->forward({&first, 1}, logits);
        ForwardItem rest{cache.get(), std::span<const TokenId>(prompt).subspan(head),
                         LogitsWanted::All};
        backend->forward({&rest, 1}, rows);
        REQUIRE(rows.size() == expected.size());
        const float diff = max_abs_diff(rows.data(), expected.data(), rows.size());
        MESSAGE("kv " << std::string(to_string(options.kv_precision))
                      << ": max |logit - reference| over the last 64 positions = " << diff);
        CHECK(diff < (options.kv_precision == KvPrecision::Fp32 ? 1e-3f : 0.5f));
        (void)V;
    }
}

TEST_CASE("cpu forward: attention in tiles of tokens changes no logit (tiny-moe-long)") {
    // Tiles everywhere against one token at a time, over 4200 positions in rounds (a small
    // ring): every logit bit for bit, bf16 and fp32 KV.
    const auto prompt = read_raw<std::int32_t>(golden("tiny-moe-long/prompt.i32"));
    for (KvPrecision kv : {KvPrecision::Bf16, KvPrecision::Fp32}) {
        CAPTURE(std::string(to_string(kv)));
        std::vector<float> runs[2];
        for (int tiled = 0; tiled < 2; ++tiled) {
            cpu::CpuOptions options;
            options.sliding_slack = 100;
            options.kv_precision = kv;
            options.attention_tile_from = tiled ? 0 : 1 << 30;
            auto backend = cpu::make_cpu_backend(tiny("tiny-moe-long"), options);
            auto cache = backend->new_cache(4200);
            ForwardItem item{cache.get(), prompt, LogitsWanted::All};
            backend->forward({&item, 1}, runs[tiled]);
        }
        REQUIRE(runs[0].size() == runs[1].size());
        REQUIRE(!runs[0].empty());
        CHECK(std::memcmp(runs[0].data(), runs[1].data(), runs[0].size() * sizeof(float)) == 0);
    }
}

TEST_CASE("cpu forward: bf16 KV and int8 experts against fp32 over a 6000-token prompt (stated)") {
    // tiny-moe-long's 4200-token prompt, continued with its own first 1800 tokens.
    auto prompt = read_raw<std::int32_t>(golden("tiny-moe-long/prompt.i32"));
    prompt.insert(prompt.end(), prompt.begin(), prompt.begin() + 1800);
    REQUIRE(prompt.size() == 6000);
    const std::size_t V = 512, rows = 64;
    // fp32 throughout; bf16 KV; bf16 KV with int8 expert activations (the CLI's defaults).
    std::vector<float> at[3];
    int i = 0;
    const cpu::CpuOptions options[] = {
        {.kv_precision = KvPrecision::Fp32},
        {.kv_precision = KvPrecision::Bf16},
        {.kv_precision = KvPrecision::Bf16, .expert_activations = Mxfp4Activations::Int8}};
    for (const auto& option : options) {
        auto backend = cpu::make_cpu_backend(tiny("tiny-moe-long"), option);
        auto cache = backend->new_cache(6000);
        std::vector<float> none;
        ForwardItem head{cache.get(), std::span<const TokenId>(prompt).first(6000 - rows),
                         LogitsWanted::None};
        backend->forward({&head, 1}, none);
        ForwardItem tail{cache.get(), std::span<const TokenId>(prompt).subspan(6000 - rows),
                         LogitsWanted::All};
        backend->forward({&tail, 1}, at[i++]);
    }
    REQUIRE(at[0].size() == rows * V);
    const float diff = max_abs_diff(at[0].data(), at[1].data(), at[0].size());
    const int same_top = same_argmax(at[0].data(), at[1].data(), rows, 512);
    MESSAGE("6000 tokens, last 64 positions: max |bf16 KV - fp32 KV| = "
            << diff << ", same argmax at " << same_top << " of 64");
    CHECK(diff < 0.1f);
    CHECK(same_top >= 60);
    const float int8_diff = max_abs_diff(at[0].data(), at[2].data(), at[0].size());
    const int int8_same = same_argmax(at[0].data(), at[2].data(), rows, 512);
    MESSAGE("6000 tokens, last 64 positions: max |bf16 KV + int8 experts - fp32| = "
            << int8_diff << ", same argmax at " << int8_same << " of 64");
    CHECK(int8_diff < 0.5f);
    CHECK(int8_same >= 56);
}
