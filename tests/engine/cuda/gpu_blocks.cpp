// The attention and MoE blocks alone against their CPU references, so a forward-pass mismatch
// can be pinned to one of them: RoPE + KV write + split-K attention (sliding and full layers,
// GQA, sinks, a ring that wraps, several splits) vs YarnRope + CpuKvCache + cpu::attend; and
// router + grouping + fused MXFP4 experts (+ the dequantise + cuBLAS path) + combine vs
// cpu::moe_forward, at the real hidden width (2880: 90 blocks per row, lanes left idle).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "engine/cpu/attention.h"
#include "engine/cpu/cpu_kv_cache.h"
#include "engine/cpu/matmul.h"
#include "engine/cpu/moe.h"
#include "engine/cpu/rope.h"
#include "engine/cpu/thread_pool.h"
#include "engine/cuda/attention.cuh"
#include "engine/cuda/cublas_loader.h"
#include "engine/cuda/cuda_kv_cache.h"
#include "engine/cuda/matmul.cuh"
#include "engine/cuda/moe.cuh"
#include "engine/cuda/rope.cuh"
#include "engine/cuda/router.cuh"
#include "tests/engine/cuda/gpu_support.h"

using namespace gossamer::engine;
using namespace gossamer::test::gpu;

namespace {

std::size_t z(int v) {
    return static_cast<std::size_t>(v);
}

}  // namespace

TEST_CASE("cuda blocks: RoPE + KV write + split-K attention equal the CPU (ring wraps)") {
    ModelConfig c = config_preset("tiny");
    c.num_attention_heads = 8;  // group 4
    c.num_key_value_heads = 2;
    c.sliding_window = 16;
    const int slack = 8, max_tokens = 80, total = 70;
    const int qw = c.q_width(), kvw = c.kv_width(), W = c.qkv_width(), d = c.head_dim;
    cpu::YarnRope rope(c);
    const auto sinks = random_floats(z(c.num_attention_heads), 21, 2.0f);
    Dev<float> dsinks(sinks), dinv(rope.inv_freq());

    for (int layer : {0, 1}) {  // sliding, full
        for (int splits : {1, 3}) {
            CAPTURE(layer);
            CAPTURE(splits);
            cpu::CpuKvCache ref(c, max_tokens, slack, KvPrecision::Fp32);
            auto pool = std::make_shared<cuda::KvPool>(c, 4, std::uint64_t{16} << 20);
            cuda::CudaKvCache cache(c, max_tokens, slack, pool);
            REQUIRE(cache.max_append() == ref.max_append());
            float worst = 0;
            for (int start = 0; start < total;) {
                const int n = std::min(cache.max_append(), total - start);
                const auto qkv =
                    random_floats(z(n) * z(W), static_cast<std::uint32_t>(100 + start));
                // CPU: rotate, store, attend, as cpu_backend's attention_block.
                ref.grow(start + n);
                auto cpu_qkv = qkv;
                std::vector<float> want(z(n) * z(qw)), cs(z(d / 2)), sn(z(d / 2)), scores;
                for (int t = 0; t < n; ++t) {
                    float* row = cpu_qkv.data() + z(t) * z(W);
                    rope.angles(start + t, cs.data(), sn.data());
                    rope.rotate(row, c.num_attention_heads, cs.data(), sn.data());
                    rope.rotate(row + qw, c.num_key_value_heads, cs.data(), sn.data());
                    ref.store(layer, start + t, row + qw, row + qw + kvw);
                }
                for (int t = 0; t < n; ++t)
                    for (int kvh = 0; kvh < c.num_key_value_heads; ++kvh) {
                        const int pos = start + t, group = c.group_size();
                        cpu::AttentionQuery q;
                        q.q = cpu_qkv.data() + z(t) * z(W) + z(kvh * group * d);
                        q.sinks = sinks.data() + kvh * group;
                        q.group = group;
                        q.head_dim = d;
                        q.kv_head = kvh;
                        q.scale = 0.125f;
                        const int first =
                            layer % 2 == 0 ? std::max(0, pos - c.sliding_window + 1) : 0;
                        cpu::attend(ref, layer, first, pos, q,
                                    want.data() + z(t) * z(qw) + z(kvh * group * d), scores);
                    }
                // GPU.
                cache.grow(start + n, nullptr);
                std::vector<int> positions(z(n)), seq_of(z(n), 0);
                for (int t = 0; t < n; ++t) positions[z(t)] = start + t;
                Dev<int> dpos(positions), dseq_of(seq_of);
                Dev<cuda::SeqKv> dseqs(std::vector<cuda::SeqKv>{cache.view()});
                Dev<float> dqkv(qkv), cos_sin(z(n) * z(d)), out(z(n) * z(qw));
                Dev<float> partial(z(n) * z(c.num_attention_heads) * z(splits) * z(d + 2));
                cuda::RoundView view;
                view.positions = dpos.ptr;
                view.seq_of = dseq_of.ptr;
                view.seqs = dseqs.ptr;
                cuda::LayerShape shape;
                shape.heads = c.num_attention_heads;
                shape.kv_heads = c.num_key_value_heads;
                shape.head_dim = d;
                shape.full_layers = c.num_hidden_layers / 2;
                shape.layer_slot = layer / 2;
                shape.sliding = layer % 2 == 0 ? 1 : 0;
                shape.window = c.sliding_window;
                cuda::rope_table(dpos.ptr, n, dinv.ptr, d / 2, rope.concentration(), cos_sin.ptr,
                                 nullptr);
                cuda::rope_and_store_kv<float>(dqkv.ptr, n, cos_sin.ptr, view, layer, shape,
                                               nullptr);
                cuda::AttentionArgs args;
                args.qkv = dqkv.ptr;
                args.sinks = dsinks.ptr;
                args.scale = 0.125f;
                args.tokens = n;
                args.splits = splits;
                args.partial = partial.ptr;
                args.out = out.ptr;
                cuda::attention<float>(args, view, shape, nullptr);
                worst = std::max(worst, max_rel_diff(dqkv.get(), cpu_qkv));  // rotated q, k
                worst = std::max(worst, max_rel_diff(out.get(), want));
                start += n;
            }
            MESSAGE("layer " << layer << ", splits " << splits << ": max rel diff " << worst);
            CHECK(worst < 1e-4f);  // an indexing error is O(0.1)
        }
    }
}

TEST_CASE("cuda blocks: router, grouping, MXFP4 experts and combine equal cpu::moe_forward") {
    ModelConfig c = config_preset("20b");
    c.num_experts = 8;
    c.intermediate_size = 960;  // 30 blocks per mlp2 row: lanes 30, 31 idle
    const int H = c.hidden_size, I = c.intermediate_size, E = c.num_experts;
    const int k = c.experts_per_token;
    std::mt19937 rng(5);
    auto bytes = [&](std::size_t n, int lo, int span) {
        std::vector<std::uint8_t> v(n);
        for (auto& b : v)
            b = static_cast<std::uint8_t>(lo +
                                          static_cast<int>(rng() % static_cast<unsigned>(span)));
        return v;
    };
    std::vector<std::uint16_t> gate(z(E) * z(H));
    for (std::size_t i = 0; i < gate.size(); ++i)
        gate[i] = cpu::float_to_bf16(0.05f * (static_cast<float>(rng() % 2001) / 1000.0f - 1.0f));
    const auto b1 = bytes(z(E) * z(2 * I) * z(H) / 2, 0, 256),
               s1 = bytes(z(E) * z(2 * I) * z(H) / 32, 119, 3);
    const auto b2 = bytes(z(E) * z(H) * z(I) / 2, 0, 256),
               s2 = bytes(z(E) * z(H) * z(I) / 32, 119, 3);
    LayerWeights lw;
    lw.gate = {gate.data(), E, H};
    lw.gate_bias = random_floats(z(E), 31, 0.1f);
    lw.mlp1 = {b1.data(), s1.data(), E, 2 * I, H};
    lw.mlp1_bias = random_floats(z(E) * z(2 * I), 32, 0.1f);
    lw.mlp2 = {b2.data(), s2.data(), E, H, I};
    lw.mlp2_bias = random_floats(z(E) * z(H), 33, 0.1f);

    Dev<std::uint16_t> dgate(gate);
    Dev<float> dgate_bias(lw.gate_bias), dbias1(lw.mlp1_bias), dbias2(lw.mlp2_bias);
    Dev<std::uint8_t> db1(b1), ds1(s1), db2(b2), ds2(s2);
    cuda::MoeWeights mw;
    mw.mlp1_blocks = db1.ptr;
    mw.mlp1_scales = ds1.ptr;
    mw.mlp1_bias = dbias1.ptr;
    mw.mlp2_blocks = db2.ptr;
    mw.mlp2_scales = ds2.ptr;
    mw.mlp2_bias = dbias2.ptr;
    mw.experts = E;
    mw.hidden = H;
    mw.inter = I;
    mw.limit = c.swiglu_limit;
    const auto& api = cuda::cublas_api();
    cpu::ThreadPool pool(2);
    cpu::MoeScratch scratch;

    for (int tokens : {1, 5, 40}) {
        CAPTURE(tokens);
        const auto h = random_floats(z(tokens) * z(H), static_cast<std::uint32_t>(tokens), 2.0f);
        std::vector<float> want(h.size());
        cpu::moe_forward(c, lw, h.data(), tokens, want.data(), pool, scratch);

        Dev<float> dh(h), router(z(tokens) * z(E)), weights(z(tokens) * z(k));
        Dev<int> chosen(z(tokens) * z(k)), offsets(z(E) + 1), entries(z(tokens) * z(k)),
            active(z(E) + 1);
        Dev<float> act(z(tokens) * z(k) * z(I)), out(z(tokens) * z(k) * z(H));
        cuda::gemv_bf16(dh.ptr, H, tokens, dgate.ptr, E, H, dgate_bias.ptr, router.ptr, E, false,
                        nullptr);
        cuda::route_top_k(router.ptr, tokens, E, k, chosen.ptr, weights.ptr, nullptr);
        cuda::group_by_expert(chosen.ptr, tokens * k, E, offsets.ptr, entries.ptr, active.ptr,
                              active.ptr + E, nullptr);
        cuda::MoeGroups g;
        g.offsets = offsets.ptr;
        g.entries = entries.ptr;
        g.active = active.ptr;
        g.active_count = active.ptr + E;
        g.k = k;
        CHECK(chosen.get() == scratch.chosen);
        cuda::moe_experts_fused(mw, g, dh.ptr, std::min(E, tokens * k), act.ptr, out.ptr, nullptr);
        Dev<float> x(std::vector<float>(h.size(), 0.0f));
        cuda::moe_combine(out.ptr, weights.ptr, tokens, k, H, x.ptr, nullptr);
        const float fused = max_rel_diff(x.get(), want);
        MESSAGE("fused experts vs cpu: " << fused);
        CHECK(fused < 1e-4f);  // an indexing error is O(0.1)

        if (!api.loaded) {
            MESSAGE("cuBLAS not loadable: " << api.error);
            continue;
        }
        cublasHandle_t handle = nullptr;
        REQUIRE(api.create(&handle) == CUBLAS_STATUS_SUCCESS);
        cuda::MoeGemmScratch gs;
        Dev<float> out2(z(tokens) * z(k) * z(H));
        cuda::moe_experts_gemm(mw, g, offsets.get(), dh.ptr, tokens, handle, gs, out2.ptr, nullptr);
        Dev<float> x2(std::vector<float>(h.size(), 0.0f));
        cuda::moe_combine(out2.ptr, weights.ptr, tokens, k, H, x2.ptr, nullptr);
        const float gemm = max_rel_diff(x2.get(), want);
        MESSAGE("dequantise + cuBLAS experts vs cpu: " << gemm);
        CHECK(gemm < 2e-2f);
        api.destroy(handle);
    }
}
