// Times the CPU backend on a checkpoint (usually a random one written by `gossamer model
// init`): prefill tok/s for a prompt, decode tok/s at batch 1 and at larger batches, peak RSS,
// and the weight bytes a batch-1 decode step reads, as achieved GB/s. Prints one JSON object.
//   gossamer_bench_engine --model DIR [--prompt N] [--decode N] [--batch B,...] [--runs R]
//                         [--threads T] [--weights memory|mmap] [--expert-activations int8|fp32]
//                         [--dense-activations bf16|fp32]
// --expert-activations and --dense-activations default to the CLI's defaults (cli/cli_args.h).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/matmul.h"
#include "engine/cpu/thread_pool.h"
#include "engine/weights.h"

namespace {

using namespace gossamer::engine;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

double peak_rss_mib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Weight bytes one batch-1 decode step reads: every dense matrix of every layer, the k
// chosen experts' MXFP4 blocks and scales, and the unembedding.
double decode_weight_bytes(const ModelConfig& c) {
    const double H = c.hidden_size, I = c.intermediate_size;
    const double attention = (static_cast<double>(c.qkv_width()) * H + H * c.q_width()) * 2;
    const double router = c.num_experts * H * 2;
    const double expert = (2 * I * H + H * I) * (0.5 + 1.0 / 32);
    const double per_layer = attention + router + c.experts_per_token * expert;
    return per_layer * c.num_hidden_layers + static_cast<double>(c.vocab_size) * H * 2;
}

struct Options {
    std::string model;
    int prompt = 128, decode = 32, runs = 3, threads = 0;
    std::vector<int> batches = {1, 4, 16};
    Residency residency = Residency::Memory;                       // as the CLI's --weights default
    Mxfp4Activations expert_activations = Mxfp4Activations::Int8;  // as the CLI's default
    DenseActivations dense_activations = DenseActivations::Bf16;   // as the CLI's default
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::runtime_error(std::string(a) + " needs a value");
            return argv[++i];
        };
        if (a == "--model")
            o.model = value();
        else if (a == "--prompt")
            o.prompt = std::stoi(value());
        else if (a == "--decode")
            o.decode = std::stoi(value());
        else if (a == "--runs")
            o.runs = std::stoi(value());
        else if (a == "--threads")
            o.threads = std::stoi(value());
        else if (a == "--weights") {
            const std::string w = value();
            if (w != "memory" && w != "mmap")
                throw std::runtime_error("--weights must be memory or mmap");
            o.residency = w == "mmap" ? Residency::Mapped : Residency::Memory;
        } else if (a == "--expert-activations") {
            const std::string e = value();
            if (e != "int8" && e != "fp32")
                throw std::runtime_error("--expert-activations must be int8 or fp32");
            o.expert_activations = e == "int8" ? Mxfp4Activations::Int8 : Mxfp4Activations::Fp32;
        } else if (a == "--dense-activations") {
            const std::string e = value();
            if (e != "bf16" && e != "fp32")
                throw std::runtime_error("--dense-activations must be bf16 or fp32");
            o.dense_activations = e == "bf16" ? DenseActivations::Bf16 : DenseActivations::Fp32;
        } else if (a == "--batch") {
            o.batches.clear();
            std::string list = value();
            for (std::size_t p = 0; p < list.size();) {
                auto comma = list.find(',', p);
                o.batches.push_back(std::stoi(list.substr(p, comma - p)));
                p = comma == std::string::npos ? list.size() : comma + 1;
            }
        } else
            throw std::runtime_error("unknown option " + std::string(a));
    }
    if (o.model.empty()) throw std::runtime_error("--model DIR is required");
    return o;
}

std::vector<TokenId> random_tokens(int n, int vocab, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> pick(0, std::min(vocab, 199997) - 1);
    std::vector<TokenId> t(static_cast<std::size_t>(n));
    for (auto& id : t) id = pick(rng);
    return t;
}

// Prefill `prompt` tokens into each of `batch` fresh caches (not timed), then `steps` decode
// steps serving all of them at once. Returns {prefill s per sequence, decode s per step}.
std::pair<double, double> run_once(Backend& backend, const Options& o, int batch, unsigned seed) {
    const int vocab = backend.config().vocab_size;
    std::vector<std::unique_ptr<KvCache>> caches;
    std::vector<float> logits;
    double prefill = 0;
    for (int b = 0; b < batch; ++b) {
        caches.push_back(backend.new_cache(o.prompt + o.decode + 1));
        auto prompt = random_tokens(o.prompt, vocab, seed + static_cast<unsigned>(b));
        ForwardItem item{caches.back().get(), prompt, LogitsWanted::Last};
        auto t0 = Clock::now();
        backend.forward({&item, 1}, logits);
        prefill += seconds_since(t0);
    }
    std::vector<std::vector<TokenId>> next(static_cast<std::size_t>(batch),
                                           std::vector<TokenId>(1, 1));
    auto t0 = Clock::now();
    for (int s = 0; s < o.decode; ++s) {
        std::vector<ForwardItem> items;
        for (int b = 0; b < batch; ++b)
            items.push_back({caches[static_cast<std::size_t>(b)].get(),
                             next[static_cast<std::size_t>(b)], LogitsWanted::Last});
        backend.forward(items, logits);
        for (std::size_t b = 0; b < static_cast<std::size_t>(batch); ++b) {
            const float* row = logits.data() + b * static_cast<std::size_t>(vocab);
            next[b][0] = static_cast<TokenId>(std::max_element(row, row + vocab) - row);
        }
    }
    return {prefill / batch, seconds_since(t0) / o.decode};
}

// The unembedding alone for `batch` rows (median of 5): a decode step minus this, divided by
// the layer count, is the per-layer cost, so a checkpoint with few layers still tells what
// the full model would cost.
double unembed_seconds(const Weights& w, int batch, int threads, DenseActivations activations) {
    cpu::ThreadPool pool(threads);
    const auto H = static_cast<std::size_t>(w.config.hidden_size);
    const auto V = static_cast<std::size_t>(w.config.vocab_size);
    std::vector<float> x(static_cast<std::size_t>(batch) * H, 0.01f),
        y(static_cast<std::size_t>(batch) * V);
    std::vector<double> times;
    for (int r = 0; r < 6; ++r) {
        auto t0 = Clock::now();
        cpu::matmul_bf16(x.data(), H, batch, w.unembedding.data, w.config.vocab_size,
                         w.config.hidden_size, nullptr, y.data(), V, pool, activations);
        if (r > 0) times.push_back(seconds_since(t0));
    }
    return median(times);
}

}  // namespace

int main(int argc, char** argv) try {
    const Options o = parse(argc, argv);
    auto t0 = Clock::now();
    LoadOptions load;
    load.residency = o.residency;
    // As the CLI loads for the CPU backend (runtime::load_checkpoint).
    load.tile_experts = o.expert_activations == Mxfp4Activations::Int8;
    Weights weights = load_weights(o.model, load);
    const double load_s = seconds_since(t0);
    cpu::CpuOptions cpu_options;
    cpu_options.threads = o.threads;
    cpu_options.expert_activations = o.expert_activations;
    cpu_options.dense_activations = o.dense_activations;
    auto backend = cpu::make_cpu_backend(weights, cpu_options);
    const ModelConfig& c = weights.config;

    nlohmann::ordered_json out;
    out["backend"] = backend->name();
    out["model"] = o.model;
    out["layers"] = c.num_hidden_layers;
    out["hidden"] = c.hidden_size;
    out["experts"] = c.num_experts;
    out["load_s"] = load_s;
    out["weights"] = o.residency == Residency::Memory ? "memory" : "mmap";
    out["expert_tiles"] = !weights.layers.empty() && weights.layers[0].mlp1.tiled_rows > 0;
    out["expert_activations"] = to_string(o.expert_activations);
    out["dense_activations"] = to_string(o.dense_activations);
    out["prompt_tokens"] = o.prompt;
    out["decode_tokens"] = o.decode;
    out["runs"] = o.runs;
    const double step_bytes = decode_weight_bytes(c);
    out["decode_weight_bytes_per_step_b1"] = step_bytes;
    nlohmann::ordered_json batches = nlohmann::ordered_json::array();
    for (int batch : o.batches) {
        std::vector<double> prefill, decode;
        run_once(*backend, o, batch, 7);  // warm-up: page in the weights, size the buffers
        for (int r = 0; r < o.runs; ++r) {
            auto [p, d] = run_once(*backend, o, batch, 11 + static_cast<unsigned>(r));
            prefill.push_back(p);
            decode.push_back(d);
        }
        const double step = median(decode);
        const double head = unembed_seconds(weights, batch, o.threads, o.dense_activations);
        nlohmann::ordered_json b;
        b["batch"] = batch;
        b["prefill_tok_s"] = o.prompt / median(prefill);
        b["decode_step_ms"] = step * 1e3;
        b["decode_tok_s"] = batch / step;
        b["decode_tok_s_per_seq"] = 1 / step;
        b["unembed_ms"] = head * 1e3;
        b["decode_ms_per_layer"] = (step - head) * 1e3 / c.num_hidden_layers;
        if (batch == 1) b["decode_weight_gb_s"] = step_bytes / step / 1e9;
        batches.push_back(b);
    }
    out["batches"] = batches;
    out["peak_rss_mib"] = peak_rss_mib();
    out["mapped_mib"] = static_cast<double>(weights.mapped_bytes) / (1024.0 * 1024.0);
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "gossamer_bench_engine: %s\n", e.what());
    return 2;
}
