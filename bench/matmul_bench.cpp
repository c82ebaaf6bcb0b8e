// Times the CPU matmuls (engine/cpu/matmul.h) for gpt-oss-20b shapes on every implementation
// this CPU supports, and the machine's memory read bandwidth as the bound for decode. The
// MXFP4 runs with fp32 activations and with int8 ones (mlp1_mxfp4_int8; _tiled: on experts in
// the 16-row tiles the CLI loads them in, engine/mxfp4_tiles.h), and the bf16 ones with fp32
// activations and with bf16 ones (_bf16act: DenseActivations::Bf16). The
// weights are spread over enough copies (>= 256 MiB) that each timed pass streams them from
// memory rather than the last-level cache. Prints one line of key=value pairs per case.
//   gossamer_bench_matmul [--threads N] [--runs R] [--isa NAME] [--big] [--membw-only]
// --membw-only prints only `membw_gb_s=<GB/s>` (sum of a 1 GiB buffer, all threads, median
// of 5); --big adds the unembedding ([201088 x 2880] bf16).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cpu/matmul.h"
#include "engine/cpu/thread_pool.h"
#include "engine/mxfp4_tiles.h"

namespace {

using namespace gossamer::engine::cpu;
using gossamer::engine::mxfp4_tiled_rows;
using gossamer::engine::tile_mxfp4_expert;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kStreamBytes = std::size_t{256} << 20;  // per timed pass, at least

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

struct Options {
    int threads = 0, runs = 5;
    bool big = false, membw_only = false;
    std::string isa;  // empty: all supported
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(
        stderr,
        "gossamer_bench_matmul: %s\nusage: gossamer_bench_matmul [--threads N] "
        "[--runs R] [--isa portable|avx2|avx512|avx512vnni|avx512bf16] [--big] [--membw-only]\n",
        why);
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage("missing value after an option");
            return argv[++i];
        };
        if (arg == "--threads")
            o.threads = std::atoi(value());
        else if (arg == "--runs")
            o.runs = std::max(1, std::atoi(value()));
        else if (arg == "--isa")
            o.isa = value();
        else if (arg == "--big")
            o.big = true;
        else if (arg == "--membw-only")
            o.membw_only = true;
        else
            usage("unknown option");
    }
    return o;
}

// Read bandwidth: every thread sums its share of a 1 GiB buffer; median of 5 passes.
double membw_gb_s(ThreadPool& pool) {
    const std::size_t n = (std::size_t{1} << 30) / sizeof(std::uint64_t);
    std::vector<std::uint64_t> buffer(n);
    pool.parallel_for(n, 1 << 16, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) buffer[i] = i;  // first touch by the readers
    });
    std::vector<double> times;
    volatile std::uint64_t sink = 0;
    for (int run = 0; run < 6; ++run) {
        std::vector<std::uint64_t> sums(static_cast<std::size_t>(pool.size()) * 64);
        const auto t0 = Clock::now();
        pool.parallel_for(n, 1 << 16, [&](std::size_t b, std::size_t e) {
            std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            std::size_t i = b;
            for (; i + 4 <= e; i += 4) {
                s0 += buffer[i];
                s1 += buffer[i + 1];
                s2 += buffer[i + 2];
                s3 += buffer[i + 3];
            }
            for (; i < e; ++i) s0 += buffer[i];
            sink = sink + (s0 + s1 + s2 + s3);  // racy on purpose: only defeats elimination
        });
        if (run > 0) times.push_back(seconds_since(t0));  // the first pass warms up
    }
    return static_cast<double>(n * sizeof(std::uint64_t)) / median(times) / 1e9;
}

struct Case {
    const char* name;
    bool mxfp4;
    int rows, cols;
    bool int8 = false;   // MXFP4 with int8 activations (matmul_mxfp4_int8)
    bool tiled = false;  // ... on experts in 16-row tiles (engine/mxfp4_tiles.h), as loaded
    bool bf16_activations = false;  // bf16 with DenseActivations::Bf16
};

struct Weights {
    std::size_t bytes_per_copy = 0;
    int copies = 0;
    std::vector<std::uint16_t> bf16;           // copies x [rows, cols]
    std::vector<std::uint8_t> blocks, scales;  // copies x MXFP4
};

Weights make_weights(const Case& c, ThreadPool& pool) {
    Weights w;
    const auto elems = static_cast<std::size_t>(c.rows) * static_cast<std::size_t>(c.cols);
    w.bytes_per_copy = c.mxfp4 ? elems / 2 + elems / 32 : elems * 2;
    w.copies = static_cast<int>(
        std::max<std::size_t>(1, (kStreamBytes + w.bytes_per_copy - 1) / w.bytes_per_copy));
    const std::size_t copies = static_cast<std::size_t>(w.copies);
    auto fill = [&](auto& v, std::size_t n, auto make) {
        v.resize(n);
        pool.parallel_for(n, 1 << 16, [&](std::size_t b, std::size_t e) {
            std::minstd_rand rng(static_cast<unsigned>(b) + 1);
            for (std::size_t i = b; i < e; ++i) v[i] = make(rng);
        });
    };
    if (c.mxfp4) {
        fill(w.blocks, copies * elems / 2,
             [](auto& rng) { return static_cast<std::uint8_t>(rng()); });
        fill(w.scales, copies * elems / 32,
             [](auto& rng) { return static_cast<std::uint8_t>(120 + rng() % 15); });
        if (c.tiled)
            for (std::size_t k = 0; k < copies; ++k)
                tile_mxfp4_expert(w.blocks.data() + k * elems / 2, w.scales.data() + k * elems / 32,
                                  c.rows, c.cols);
    } else {
        fill(w.bf16, copies * elems, [](auto& rng) {
            const float v = static_cast<float>(static_cast<int>(rng() % 2001) - 1000) / 1000.0f;
            return float_to_bf16(v);
        });
    }
    return w;
}

// Seconds per matmul: a pass calls it once per weight copy; median over `runs` passes.
double time_case(const Case& c, const Weights& w, int tokens, int runs, ThreadPool& pool) {
    const auto cols = static_cast<std::size_t>(c.cols), rows = static_cast<std::size_t>(c.rows);
    std::vector<float> x(static_cast<std::size_t>(tokens) * cols),
        y(static_cast<std::size_t>(tokens) * rows);
    std::vector<float> bias(rows, 0.25f);
    std::minstd_rand rng(11);
    for (float& v : x) v = static_cast<float>(static_cast<int>(rng() % 2001) - 1000) / 1000.0f;
    auto pass = [&] {
        for (std::size_t k = 0; k < static_cast<std::size_t>(w.copies); ++k) {
            if (c.mxfp4 && c.int8)
                matmul_mxfp4_int8(x.data(), cols, tokens, w.blocks.data() + k * rows * cols / 2,
                                  w.scales.data() + k * rows * cols / 32, c.rows, c.cols,
                                  bias.data(), y.data(), rows, pool,
                                  c.tiled ? mxfp4_tiled_rows(c.rows) : 0);
            else if (c.mxfp4)
                matmul_mxfp4(x.data(), cols, tokens, w.blocks.data() + k * rows * cols / 2,
                             w.scales.data() + k * rows * cols / 32, c.rows, c.cols, bias.data(),
                             y.data(), rows, pool);
            else
                matmul_bf16(x.data(), cols, tokens, w.bf16.data() + k * rows * cols, c.rows, c.cols,
                            bias.data(), y.data(), rows, pool,
                            c.bf16_activations ? DenseActivations::Bf16 : DenseActivations::Fp32);
        }
    };
    pass();  // warm-up
    std::vector<double> times;
    for (int r = 0; r < runs; ++r) {
        const auto t0 = Clock::now();
        pass();
        times.push_back(seconds_since(t0) / w.copies);
    }
    return median(times);
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse(argc, argv);
    ThreadPool pool(opt.threads);
    if (opt.membw_only) {
        std::printf("membw_gb_s=%.2f\n", membw_gb_s(pool));
        return 0;
    }
    std::vector<std::string> isas = supported_matmul_isas();
    if (!opt.isa.empty()) {
        if (!select_matmul_isa(opt.isa)) usage("that --isa is unknown or unsupported here");
        isas = {opt.isa};
    }
    std::printf("threads=%d isas=", pool.size());
    for (const auto& isa : isas)
        std::printf("%s%s", isa.c_str(), &isa == &isas.back() ? "\n" : ",");
    std::printf("membw_gb_s=%.2f\n", membw_gb_s(pool));
    std::fflush(stdout);

    std::vector<Case> cases = {{"qkv_bf16", false, 5120, 2880},
                               {"qkv_bf16_bf16act", false, 5120, 2880, false, false, true},
                               {"mlp1_mxfp4", true, 5760, 2880},
                               {"mlp1_mxfp4_int8", true, 5760, 2880, true},
                               {"mlp1_mxfp4_int8_tiled", true, 5760, 2880, true, true}};
    if (opt.big) {
        cases.push_back({"unembedding_bf16", false, 201088, 2880});
        cases.push_back({"unembedding_bf16_bf16act", false, 201088, 2880, false, false, true});
    }
    for (const Case& c : cases) {
        const Weights w = make_weights(c, pool);
        for (int tokens : {1, 2, 4, 8, 32, 128}) {
            double portable_s = 0;
            for (auto it = isas.rbegin(); it != isas.rend(); ++it) {  // portable first
                const std::string& isa = *it;
                select_matmul_isa(isa);
                const double s = time_case(c, w, tokens, opt.runs, pool);
                if (isa == "portable") portable_s = s;
                const double flops = 2.0 * c.rows * static_cast<double>(c.cols) * tokens;
                std::printf(
                    "matrix=%s rows=%d cols=%d tokens=%d isa=%s ms=%.3f weight_gb_s=%.2f "
                    "gflop_s=%.2f",
                    c.name, c.rows, c.cols, tokens, isa.c_str(), s * 1e3,
                    static_cast<double>(w.bytes_per_copy) / s / 1e9, flops / s / 1e9);
                if (isa != "portable" && portable_s > 0)
                    std::printf(" vs_portable=%.2fx", portable_s / s);
                std::printf("\n");
                std::fflush(stdout);
            }
        }
    }
    return 0;
}
