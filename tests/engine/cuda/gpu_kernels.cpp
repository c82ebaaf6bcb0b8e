// CUDA kernels one by one against the CPU references, on random inputs with NaN-poisoned
// outputs. Tolerances: GEMV, norm, dequant and grouping agree to fp32 rounding (1e-5
// relative) or exactly; the cuBLAS path rounds activations to bf16 (2e-2 relative).
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "engine/cpu/matmul.h"
#include "engine/cpu/norm.h"
#include "engine/cpu/rope.h"
#include "engine/cpu/thread_pool.h"
#include "engine/cuda/cublas_loader.h"
#include "engine/cuda/expert_plan.h"
#include "engine/cuda/matmul.cuh"
#include "engine/cuda/moe.cuh"
#include "engine/cuda/norm.cuh"
#include "engine/cuda/rope.cuh"
#include "engine/cuda/router.cuh"
#include "engine/model_config.h"
#include "tests/engine/cuda/gpu_support.h"

using namespace gossamer::engine;
using namespace gossamer::test::gpu;

namespace {

std::vector<std::uint16_t> random_bf16(std::size_t n, std::uint32_t seed) {
    const auto f = random_floats(n, seed, 0.05f);
    std::vector<std::uint16_t> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = cpu::float_to_bf16(f[i]);
    return out;
}

}  // namespace

TEST_CASE("cuda kernels: GEMV and cuBLAS matmuls equal cpu::matmul_bf16") {
    cpu::ThreadPool pool(2);
    const int rows = 520, cols = 2880;
    const auto w = random_bf16(static_cast<std::size_t>(rows) * cols, 1);
    const auto bias = random_floats(rows, 2);
    Dev<std::uint16_t> dw(w);
    Dev<float> dbias(bias);
    for (int tokens : {1, 2, 3, 5, 8, 13, 64}) {
        CAPTURE(tokens);
        const auto x = random_floats(static_cast<std::size_t>(tokens) * cols, 3);
        std::vector<float> ref(static_cast<std::size_t>(tokens) * rows);
        cpu::matmul_bf16(x.data(), cols, tokens, w.data(), rows, cols, bias.data(), ref.data(),
                         rows, pool);
        Dev<float> dx(x);
        Dev<float> dy(ref.size());
        cuda::gemv_bf16(dx.ptr, cols, tokens, dw.ptr, rows, cols, dbias.ptr, dy.ptr, rows, false,
                        nullptr);
        CHECK(max_rel_diff(dy.get(), ref) < 1e-5f);
        // accumulate: y += W x + b
        cuda::gemv_bf16(dx.ptr, cols, tokens, dw.ptr, rows, cols, dbias.ptr, dy.ptr, rows, true,
                        nullptr);
        auto twice = ref;
        for (float& v : twice) v *= 2;
        CHECK(max_rel_diff(dy.get(), twice) < 1e-5f);

        const auto& api = cuda::cublas_api();
        if (!api.loaded) {
            MESSAGE("cuBLAS not loadable: " << api.error);
            continue;
        }
        cuda::MatmulContext ctx;
        REQUIRE(api.create(&ctx.cublas) == CUBLAS_STATUS_SUCCESS);
        ctx.gemv_max_tokens = 0;  // force cuBLAS
        Dev<float> dg(ref.size());
        cuda::dense_matmul(ctx, dx.ptr, cols, tokens, dw.ptr, rows, cols, dbias.ptr, dg.ptr, rows,
                           false, nullptr);
        CHECK(max_rel_diff(dg.get(), ref) < 2e-2f);
        api.destroy(ctx.cublas);
    }
}

TEST_CASE("cuda kernels: rms_norm (with row selection) equals cpu::rms_norm") {
    const int rows = 7, width = 2880;
    const auto x = random_floats(static_cast<std::size_t>(rows) * width, 4, 3.0f);
    const auto gain = random_floats(width, 5);
    std::vector<float> ref(x.size());
    cpu::rms_norm(x.data(), rows, width, gain.data(), ref.data());
    Dev<float> dx(x), dgain(gain), dy(x.size());
    cuda::rms_norm(dx.ptr, nullptr, rows, width, dgain.ptr, dy.ptr, nullptr);
    CHECK(max_rel_diff(dy.get(), ref) < 1e-6f);
    Dev<int> pick(std::vector<int>{5, 2});
    Dev<float> dsel(2 * static_cast<std::size_t>(width));
    cuda::rms_norm(dx.ptr, pick.ptr, 2, width, dgain.ptr, dsel.ptr, nullptr);
    const auto sel = dsel.get();
    std::vector<float> want(ref.begin() + 5 * width, ref.begin() + 6 * width);
    want.insert(want.end(), ref.begin() + 2 * width, ref.begin() + 3 * width);
    CHECK(max_rel_diff(sel, want) < 1e-6f);
}

TEST_CASE("cuda kernels: the RoPE table equals cpu::YarnRope::angles bit for bit") {
    const ModelConfig c = config_preset("20b");
    cpu::YarnRope rope(c);
    const std::vector<int> positions{0, 1, 127, 4096, 65535, 131071};
    Dev<int> dpos(positions);
    Dev<float> dinv(rope.inv_freq());
    const int hd = rope.half();
    Dev<float> table(positions.size() * 2 * static_cast<std::size_t>(hd));
    cuda::rope_table(dpos.ptr, static_cast<int>(positions.size()), dinv.ptr, hd,
                     rope.concentration(), table.ptr, nullptr);
    const auto got = table.get();
    std::vector<float> cos(static_cast<std::size_t>(hd)), sin(static_cast<std::size_t>(hd));
    int mismatches = 0;
    for (std::size_t t = 0; t < positions.size(); ++t) {
        rope.angles(positions[t], cos.data(), sin.data());
        for (int i = 0; i < hd; ++i) {
            const std::size_t base = t * 2 * static_cast<std::size_t>(hd);
            mismatches +=
                got[base + static_cast<std::size_t>(i)] != cos[static_cast<std::size_t>(i)];
            mismatches +=
                got[base + static_cast<std::size_t>(hd + i)] != sin[static_cast<std::size_t>(i)];
        }
    }
    CHECK(mismatches == 0);
}

TEST_CASE("cuda kernels: MXFP4 dequantisation equals cpu::mxfp4_value for every scale") {
    const int rows = 256, cols = 64;  // row r uses scale byte r (0..255), every nibble
    std::vector<std::uint8_t> blocks(static_cast<std::size_t>(rows) * cols / 2);
    std::vector<std::uint8_t> scales(static_cast<std::size_t>(rows) * cols / 32);
    for (std::size_t i = 0; i < blocks.size(); ++i) blocks[i] = static_cast<std::uint8_t>(i * 37);
    for (int r = 0; r < rows; ++r)
        for (int g = 0; g < cols / 32; ++g)
            scales[static_cast<std::size_t>(r * cols / 32 + g)] = static_cast<std::uint8_t>(r);
    Dev<std::uint8_t> db(blocks), ds(scales);
    Dev<std::uint16_t> dw(static_cast<std::size_t>(rows) * cols);
    cuda::dequant_mxfp4(db.ptr, ds.ptr, rows, cols, dw.ptr, nullptr);
    const auto got = dw.get();
    int mismatches = 0;
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) {
            const std::uint8_t byte = blocks[static_cast<std::size_t>(r * cols / 2 + c / 2)];
            const float v =
                cpu::mxfp4_value(c % 2 ? byte >> 4 : byte & 15,
                                 scales[static_cast<std::size_t>(r * cols / 32 + c / 32)]);
            const std::uint16_t want = cpu::float_to_bf16(v);
            const std::uint16_t have = got[static_cast<std::size_t>(r * cols + c)];
            const bool both_nan = std::isnan(v) && std::isnan(cpu::bf16_to_float(have));
            mismatches += !(have == want || both_nan);
        }
    CHECK(mismatches == 0);
}

TEST_CASE("cuda kernels: top-k routing and expert grouping equal the CPU rules") {
    const int tokens = 300, experts = 32, k = 4;
    auto logits = random_floats(static_cast<std::size_t>(tokens) * experts, 9);
    logits[5] = logits[6];  // a tie: the lower id must win
    Dev<float> dl(logits);
    Dev<int> chosen(static_cast<std::size_t>(tokens) * k);
    Dev<float> weights(static_cast<std::size_t>(tokens) * k);
    cuda::route_top_k(dl.ptr, tokens, experts, k, chosen.ptr, weights.ptr, nullptr);
    const auto got = chosen.get();
    const auto got_w = weights.get();
    for (int t = 0; t < tokens; ++t) {
        std::vector<int> order(experts);
        std::iota(order.begin(), order.end(), 0);
        const float* row = logits.data() + static_cast<std::ptrdiff_t>(t) * experts;
        std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) {
            return row[a] > row[b] || (row[a] == row[b] && a < b);
        });
        float sum = 0;
        std::vector<float> w(k);
        for (int i = 0; i < k; ++i)
            sum += w[static_cast<std::size_t>(i)] =
                std::exp(row[order[static_cast<std::size_t>(i)]] - row[order[0]]);
        for (int i = 0; i < k; ++i) {
            REQUIRE(got[static_cast<std::size_t>(t * k + i)] == order[static_cast<std::size_t>(i)]);
            CHECK(std::fabs(got_w[static_cast<std::size_t>(t * k + i)] -
                            w[static_cast<std::size_t>(i)] / sum) < 1e-6f);
        }
    }
    Dev<int> offsets(experts + 1), entries(static_cast<std::size_t>(tokens) * k),
        active(experts + 1);
    cuda::group_by_expert(chosen.ptr, tokens * k, experts, offsets.ptr, entries.ptr, active.ptr,
                          active.ptr + experts, nullptr);
    const auto plan = cuda::plan_experts(got, tokens, k, experts);
    CHECK(offsets.get() == plan.offsets);
    CHECK(entries.get() == plan.entries);
    auto act = active.get();
    REQUIRE(act[static_cast<std::size_t>(experts)] == static_cast<int>(plan.active.size()));
    act.resize(plan.active.size());
    CHECK(act == plan.active);
}
