// The CUDA forward pass against the official reference's logits and the CPU backend:
// tests/data/golden/tiny-moe(-long), and a random checkpoint at the real 20b widths (2 layers,
// 16 experts, vocab 8192). Tolerances (max |a-b| / (1+|b|) over all logits):
//  - precise mode (fp32 KV, GEMV everywhere) vs golden fp32 logits: 1e-3 (as the CPU test);
//  - precise vs CPU: 1e-3; default (bf16 KV, bf16 activations into cuBLAS) vs CPU: 5e-2;
//  - decode == prefill, batched == single, prefix reuse == full: 1e-4 in precise mode.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "engine/checkpoint_writer.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/kv_file.h"
#include "engine/weights.h"
#include "tests/engine/cuda/gpu_support.h"
#include "tests/support/golden.h"

using namespace gossamer::engine;
using gossamer::test::golden;
using gossamer::test::read_raw;
using gossamer::test::gpu::max_rel_diff;

namespace {

const Weights& tiny(const std::string& name = "tiny-moe") {
    static Weights short_model = load_weights(golden("tiny-moe/model"));
    static Weights long_model = load_weights(golden("tiny-moe-long/model"));
    return name == "tiny-moe" ? short_model : long_model;
}

// 20b widths, 2 layers (one sliding, one full), 16 experts, a small vocabulary.
const Weights& wide() {
    static const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / "gossamer-cuda-test-wide";
    static Weights weights = [] {
        ModelConfig c = config_preset("20b");
        c.num_hidden_layers = 2;
        c.num_experts = 16;
        c.vocab_size = 8192;
        std::filesystem::remove_all(dir);
        CheckpointWriteOptions options;
        options.seed = 11;
        write_random_checkpoint(c, dir, options);
        return load_weights(dir);
    }();
    return weights;
}

std::unique_ptr<cuda::CudaBackend> gpu(const Weights& w, bool precise, int slack = 1024) {
    cuda::CudaOptions o;
    o.precise = precise;
    o.sliding_slack = slack;
    o.kv_pool_bytes = std::uint64_t{1} << 30;
    return cuda::make_cuda_backend(w, o);
}

std::vector<float> full_forward(Backend& backend, const std::vector<TokenId>& tokens) {
    auto cache = backend.new_cache(static_cast<int>(tokens.size()) + 64);
    std::vector<float> logits;
    ForwardItem item{cache.get(), tokens, LogitsWanted::All};
    backend.forward({&item, 1}, logits);
    return logits;
}

std::vector<TokenId> prompt() {
    const auto p = read_raw<std::int32_t>(golden("tiny-moe/prompt.i32"));
    return {p.begin(), p.end()};
}

int argmax(const float* row, int n) {
    return static_cast<int>(std::max_element(row, row + n) - row);
}

std::vector<TokenId> greedy(Backend& backend, std::vector<TokenId> next, int count) {
    const int vocab = backend.config().vocab_size;
    auto cache = backend.new_cache(static_cast<int>(next.size()) + count + 8);
    std::vector<float> logits;
    std::vector<TokenId> produced;
    for (int i = 0; i < count; ++i) {
        ForwardItem item{cache.get(), next, LogitsWanted::Last};
        backend.forward({&item, 1}, logits);
        next = {argmax(logits.data(), vocab)};
        produced.push_back(next[0]);
    }
    return produced;
}

}  // namespace

TEST_CASE("cuda forward: logits match the PyTorch reference (tiny-moe)") {
    const auto expected = read_raw<float>(golden("tiny-moe/logits_f32.f32"));
    for (bool precise : {true, false}) {
        CAPTURE(precise);
        auto backend = gpu(tiny(), precise);
        MESSAGE(backend->name());
        const auto logits = full_forward(*backend, prompt());
        const float diff = max_rel_diff(logits, expected);
        MESSAGE("precise=" << precise << ": max rel |logit - reference| = " << diff);
        CHECK(diff < (precise ? 1e-3f : 5e-2f));
    }
}

TEST_CASE("cuda forward: greedy continuation equals the reference's") {
    const auto expected = read_raw<std::int32_t>(golden("tiny-moe/greedy.i32"));
    const std::vector<TokenId> want(expected.begin(), expected.end());
    auto precise = gpu(tiny(), true);
    CHECK(greedy(*precise, prompt(), static_cast<int>(want.size())) == want);
    auto fast = gpu(tiny(), false);
    const auto got = greedy(*fast, prompt(), static_cast<int>(want.size()));
    int same = 0;
    for (std::size_t i = 0; i < want.size() && got[i] == want[i]; ++i) ++same;
    MESSAGE("bf16 path: first " << same << " of " << want.size() << " greedy tokens equal");
    CHECK(same >= 8);
}

TEST_CASE("cuda forward: decode token by token and in chunks equals one prefill") {
    for (bool precise : {true, false}) {
        CAPTURE(precise);
        auto backend = gpu(tiny(), precise);
        const auto tokens = prompt();
        const auto full = full_forward(*backend, tokens);
        const auto vocab = static_cast<std::size_t>(backend->config().vocab_size);
        auto cache = backend->new_cache(128);
        std::vector<float> stepwise, logits;
        for (std::size_t i = 0; i < tokens.size();) {
            const std::size_t n = std::min<std::size_t>(i < 20 ? 1 : 11, tokens.size() - i);
            ForwardItem item{cache.get(), std::span(tokens).subspan(i, n), LogitsWanted::All};
            backend->forward({&item, 1}, logits);
            stepwise.insert(stepwise.end(), logits.begin(), logits.end());
            i += n;
        }
        REQUIRE(stepwise.size() == tokens.size() * vocab);
        const float diff = max_rel_diff(stepwise, full);
        MESSAGE("precise=" << precise << ": decode vs prefill " << diff);
        CHECK(diff < (precise ? 1e-4f : 5e-2f));
    }
}

TEST_CASE("cuda forward: a batch equals its sequences run alone") {
    auto backend = gpu(tiny(), true);
    const auto tokens = prompt();
    const std::vector<TokenId> a(tokens.begin(), tokens.begin() + 40);
    const std::vector<TokenId> b(tokens.begin() + 10, tokens.end());
    const auto alone_a = full_forward(*backend, a);
    const auto alone_b = full_forward(*backend, b);
    auto ca = backend->new_cache(128), cb = backend->new_cache(128);
    ForwardItem items[2] = {{ca.get(), a, LogitsWanted::All}, {cb.get(), b, LogitsWanted::All}};
    std::vector<float> logits;
    backend->forward(items, logits);
    std::vector<float> want = alone_a;
    want.insert(want.end(), alone_b.begin(), alone_b.end());
    CHECK(max_rel_diff(logits, want) < 1e-4f);
    // and decode steps of both together
    const std::vector<TokenId> na{7}, nb{9};
    ForwardItem step[2] = {{ca.get(), na, LogitsWanted::Last}, {cb.get(), nb, LogitsWanted::Last}};
    backend->forward(step, logits);
    auto ra = a, rb = b;
    ra.push_back(7);
    rb.push_back(9);
    const auto fa = full_forward(*backend, ra), fb = full_forward(*backend, rb);
    const auto vocab = static_cast<std::ptrdiff_t>(backend->config().vocab_size);
    std::vector<float> last(fa.end() - vocab, fa.end());
    last.insert(last.end(), fb.end() - vocab, fb.end());
    CHECK(max_rel_diff(logits, last) < 1e-4f);
}

TEST_CASE("cuda forward: prefix reuse and truncate give the full forward's logits") {
    auto backend = gpu(tiny(), true, 8);  // a small ring: reuse is limited as on the CPU
    const auto tokens = prompt();
    const auto full = full_forward(*backend, tokens);
    const auto vocab = static_cast<std::size_t>(backend->config().vocab_size);
    auto cache = backend->new_cache(128);
    std::vector<float> logits;
    ForwardItem item{cache.get(), tokens, LogitsWanted::None};
    backend->forward({&item, 1}, logits);
    const int cut = cache->reusable_prefix(60);
    CHECK(cut == 60);
    CHECK(cache->reusable_prefix(20) == 0);  // behind the ring's slack: only 0 is valid
    cache->truncate(cut);
    ForwardItem rest{cache.get(), std::span(tokens).subspan(static_cast<std::size_t>(cut)),
                     LogitsWanted::All};
    backend->forward({&rest, 1}, logits);
    std::vector<float> want(full.begin() + static_cast<std::ptrdiff_t>(cut * vocab), full.end());
    CHECK(max_rel_diff(logits, want) < 1e-4f);
}

TEST_CASE("cuda forward: long inputs in rounds match the CPU (tiny-moe-long, small ring)") {
    const auto p = read_raw<std::int32_t>(golden("tiny-moe-long/prompt.i32"));
    const std::vector<TokenId> tokens(p.begin(), p.end());
    cpu::CpuOptions co;
    co.sliding_slack = 8;
    auto cpu_backend = cpu::make_cpu_backend(tiny("long"), co);
    auto backend = gpu(tiny("long"), true, 8);
    const auto want = full_forward(*cpu_backend, tokens);
    const auto got = full_forward(*backend, tokens);
    const float diff = max_rel_diff(got, want);
    MESSAGE(tokens.size() << " tokens: cuda vs cpu " << diff);
    CHECK(diff < 1e-3f);
}

TEST_CASE("cuda forward: real widths (20b shapes, 2 layers) match the CPU backend") {
    const Weights& w = wide();
    auto cpu_backend = cpu::make_cpu_backend(w);
    std::vector<TokenId> tokens;
    for (int i = 0; i < 48; ++i) tokens.push_back((i * 7919 + 13) % w.config.vocab_size);
    const auto want = full_forward(*cpu_backend, tokens);
    for (bool precise : {true, false}) {
        CAPTURE(precise);
        auto backend = gpu(w, precise);
        const auto got = full_forward(*backend, tokens);
        const float diff = max_rel_diff(got, want);
        MESSAGE("precise=" << precise << ": cuda vs cpu " << diff);
        CHECK(diff < (precise ? 1e-3f : 5e-2f));
        const auto vocab = static_cast<int>(w.config.vocab_size);
        int same = 0;
        for (std::size_t t = 0; t < tokens.size(); ++t)
            same += argmax(got.data() + t * static_cast<std::size_t>(vocab), vocab) ==
                    argmax(want.data() + t * static_cast<std::size_t>(vocab), vocab);
        MESSAGE("same argmax on " << same << " of " << tokens.size() << " positions");
        CHECK(same >= static_cast<int>(tokens.size()) - (precise ? 0 : 4));
    }
    // Large batches take the cuBLAS and dequantise + GEMM expert paths: 160 tokens x 4.
    std::vector<TokenId> many;
    for (int i = 0; i < 160; ++i) many.push_back((i * 104729 + 5) % w.config.vocab_size);
    const auto ref = full_forward(*cpu_backend, many);
    auto backend = gpu(w, false);
    const float diff = max_rel_diff(full_forward(*backend, many), ref);
    MESSAGE("160 tokens, GEMM paths: cuda vs cpu " << diff);
    CHECK(diff < 5e-2f);
}

TEST_CASE("cuda forward: random device weights run at the 20b preset (smoke)") {
    ModelConfig c = config_preset("20b");
    c.num_hidden_layers = 4;
    cuda::CudaOptions o;
    o.kv_pool_bytes = std::uint64_t{1} << 30;
    auto backend = cuda::make_cuda_backend_random(c, 5, o);
    auto cache = backend->new_cache(4096);
    backend->fill_cache_random(*cache, 3000, 1);
    CHECK(cache->size() == 3000);
    std::vector<float> logits;
    const std::vector<TokenId> one{42};
    ForwardItem item{cache.get(), one, LogitsWanted::Last};
    backend->forward({&item, 1}, logits);
    REQUIRE(logits.size() == static_cast<std::size_t>(c.vocab_size));
    CHECK(std::all_of(logits.begin(), logits.end(), [](float v) { return std::isfinite(v); }));
    const auto m = backend->memory();
    MESSAGE("weights " << m.weights << " B, kv pool " << m.kv_pool << " B, workspace "
                       << m.workspace << " B");
    CHECK(m.weights > 0);
}

TEST_CASE("cuda kv file: a saved cache restores into a new backend and continues exactly") {
    const auto dir = std::filesystem::temp_directory_path() / "gossamer-cuda-kv-file";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto tokens = prompt();
    const std::size_t saved = 50;
    const auto vocab = static_cast<std::size_t>(tiny().config.vocab_size);
    for (bool precise : {true, false}) {
        CAPTURE(precise);
        const auto path = dir / (precise ? "fp32.gkv" : "bf16.gkv");
        std::vector<std::uint8_t> rows_a;
        auto read_all = [&](const KvCache& c, int n) {  // every row every layer holds
            const std::size_t row =
                static_cast<std::size_t>(c.row_elements()) * element_bytes(c.precision());
            std::vector<std::uint8_t> out;
            for (int l = 0; l < c.layers(); ++l) {
                const int from =
                    c.lookback(l) == 0 ? 0 : std::max(c.oldest(l), n - c.ring_positions());
                std::vector<std::uint8_t> k(static_cast<std::size_t>(n - from) * row), v(k.size());
                c.read(l, from, n - from, k.data(), v.data());
                out.insert(out.end(), k.begin(), k.end());
                out.insert(out.end(), v.begin(), v.end());
            }
            return out;
        };
        std::string identity;
        {                                            // one process: the first 50 tokens, saved
            auto backend = gpu(tiny(), precise, 8);  // a small ring: sliding layers wrap
            auto cache = backend->new_cache(128);
            REQUIRE(cache->copyable());
            CHECK(cache->precision() == (precise ? KvPrecision::Fp32 : KvPrecision::Bf16));
            identity = kv_identity(fingerprint(tiny()), *backend, *cache);
            CHECK(identity.find("backend cuda") != std::string::npos);
            std::vector<float> logits;
            ForwardItem item{cache.get(), std::span(tokens).first(saved), LogitsWanted::None};
            backend->forward({&item, 1}, logits);
            rows_a = read_all(*cache, static_cast<int>(saved));
            KvFile file(path, identity);
            const auto s = file.save(*cache, std::span(tokens).first(saved));
            CHECK(s.warning.empty());
            CHECK(s.bytes > 0);
        }
        // Another process: the rows come back bit for bit and the rest of the prompt gives
        // the logits of one full forward.
        auto backend = gpu(tiny(), precise, 8);
        const auto full = full_forward(*backend, tokens);
        auto cache = backend->new_cache(128);
        KvFile file(path, identity);
        const auto restored = file.restore(*cache, tokens, static_cast<int>(tokens.size()) - 1);
        CHECK(restored.warning.empty());
        REQUIRE(restored.tokens.size() == saved);
        CHECK(cache->size() == static_cast<int>(saved));
        CHECK(read_all(*cache, static_cast<int>(saved)) == rows_a);
        std::vector<float> logits;
        ForwardItem rest{cache.get(), std::span(tokens).subspan(saved), LogitsWanted::All};
        backend->forward({&rest, 1}, logits);
        std::vector<float> want(full.begin() + static_cast<std::ptrdiff_t>(saved * vocab),
                                full.end());
        CHECK(max_rel_diff(logits, want) < (precise ? 1e-4f : 5e-2f));
        // A CPU backend's identity differs: the file is not used there (nor a CPU file here).
        auto cpu_backend = cpu::make_cpu_backend(tiny(), {});
        auto cpu_cache = cpu_backend->new_cache(128);
        KvFile foreign(path, kv_identity(fingerprint(tiny()), *cpu_backend, *cpu_cache));
        const auto none = foreign.restore(*cpu_cache, tokens, static_cast<int>(tokens.size()) - 1);
        CHECK(none.tokens.empty());
        CHECK_FALSE(none.warning.empty());
    }
    std::filesystem::remove_all(dir);
}
