// gossamer_bench_cuda: the CUDA backend on random device weights of the real presets (no
// checkpoint): decode tok/s at batch 1 for each context length (a cache filled with random
// keys/values, so no long prefill is run), the fraction of the HBM ceiling that is (bytes a
// decode step must read / step time; the ceiling measured with a device-to-device copy),
// prefill tok/s of one 4K prompt, aggregate decode tok/s with 16 and 64 sequences (1K context
// each), and GPU memory. Medians of CUDA-event timings. Logits stay on the device (the model
// alone); "+copy" rows include the logits' trip to the host.
//   gossamer_bench_cuda [--presets 20b,120b] [--contexts 1024,32768,131072] [--steps N]
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cuda/cuda_backend.h"
#include "engine/model_config.h"

using namespace gossamer::engine;

namespace {

void check(cudaError_t err, const char* what) {
    if (err != cudaSuccess) {
        std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(err));
        std::exit(1);
    }
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

// Device-to-device copy of 2 GiB: (read + written bytes) / time, median of 5.
double hbm_ceiling() {
    const std::size_t bytes = std::size_t{2} << 30;
    void *a = nullptr, *b = nullptr;
    check(cudaMalloc(&a, bytes), "cudaMalloc");
    check(cudaMalloc(&b, bytes), "cudaMalloc");
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    std::vector<double> rates;
    for (int i = 0; i < 7; ++i) {
        cudaEventRecord(start);
        check(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice), "copy");
        cudaEventRecord(stop);
        cudaEventSynchronize(stop);
        float ms = 0;
        cudaEventElapsedTime(&ms, start, stop);
        if (i >= 2) rates.push_back(2.0 * static_cast<double>(bytes) / (ms * 1e-3));
    }
    cudaFree(a);
    cudaFree(b);
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return median(rates);
}

// Bytes one batch-1 decode step must read at context n: dense bf16 weights, 4 experts' MXFP4
// (blocks + scales) per layer, the unembedding, one embedding row, and the KV it attends to.
double decode_bytes(const ModelConfig& c, int n) {
    const double H = c.hidden_size, I = c.intermediate_size;
    const double dense = 2.0 * (c.qkv_width() * H + H * c.q_width() + c.num_experts * H);
    const double expert = (2 * I * H + H * I) * (0.5 + 1.0 / 32.0);
    const double kv_row = 2.0 * c.kv_width() * 2;  // k and v, bf16
    double kv = 0;
    for (int l = 0; l < c.num_hidden_layers; ++l)
        kv += kv_row * (ModelConfig::is_sliding(l) ? std::min(n, c.sliding_window) : n);
    return c.num_hidden_layers * (dense + c.experts_per_token * expert) + 2.0 * c.vocab_size * H +
           2.0 * H + kv;
}

struct Timer {
    cudaEvent_t start, stop;
    Timer() {
        cudaEventCreate(&start);
        cudaEventCreate(&stop);
    }
    ~Timer() {
        cudaEventDestroy(start);
        cudaEventDestroy(stop);
    }
    template <typename F>
    double ms(F&& f) {
        cudaEventRecord(start);
        f();
        cudaEventRecord(stop);
        cudaEventSynchronize(stop);
        float t = 0;
        cudaEventElapsedTime(&t, start, stop);
        return t;
    }
};

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // rows survive a timeout (device_check.sh)
    std::string presets = "20b,120b", contexts = "1024,32768,131072";
    int steps = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--presets")) presets = argv[i + 1];
        if (!std::strcmp(argv[i], "--contexts")) contexts = argv[i + 1];
        if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
    }
    std::string why;
    if (cuda::cuda_device_count(&why) == 0) {
        std::printf("no GPU: %s\n", why.c_str());
        return 77;
    }
    cudaDeviceProp prop{};
    cudaGetDeviceProperties(&prop, 0);
    const double ceiling = hbm_ceiling();
    std::printf("device: %s, %d SMs; HBM ceiling (d2d copy) %.0f GB/s\n", prop.name,
                prop.multiProcessorCount, ceiling / 1e9);
    std::printf("%-6s %-28s %12s %10s %s\n", "model", "case", "tok/s", "ms/step", "note");
    Timer timer;
    for (const std::string& preset : split(presets)) {
        const ModelConfig c = config_preset(preset);
        auto backend = cuda::make_cuda_backend_random(c, 1);
        backend->set_logits_to_host(false);
        std::vector<float> logits;
        const std::vector<TokenId> one{1234};

        for (const std::string& ctx_text : split(contexts)) {
            const int ctx = std::stoi(ctx_text);
            const int filled = std::min(ctx, c.max_context() - steps - 8) - 1;
            auto cache = backend->new_cache(std::min(c.max_context(), ctx + steps + 8));
            backend->fill_cache_random(*cache, filled, 7);
            ForwardItem item{cache.get(), one, LogitsWanted::Last};
            std::vector<double> times;
            for (int s = 0; s < steps + 3; ++s) {
                const double ms = timer.ms([&] { backend->forward({&item, 1}, logits); });
                if (s >= 3) times.push_back(ms);
            }
            const double ms = median(times);
            const double bytes = decode_bytes(c, ctx);
            std::printf(
                "%-6s decode b=1 ctx=%-15d %12.1f %10.3f %.0f%% of HBM ceiling (%.2f GB/token)\n",
                preset.c_str(), ctx, 1e3 / ms, ms, 100.0 * bytes / (ms * 1e-3) / ceiling,
                bytes / 1e9);
        }
        {  // batch 1 with the logits copied to the host, 1K context
            backend->set_logits_to_host(true);
            auto cache = backend->new_cache(1024 + steps + 8);
            backend->fill_cache_random(*cache, 1023, 7);
            ForwardItem item{cache.get(), one, LogitsWanted::Last};
            std::vector<double> times;
            for (int s = 0; s < steps + 3; ++s) {
                const double ms = timer.ms([&] { backend->forward({&item, 1}, logits); });
                if (s >= 3) times.push_back(ms);
            }
            std::printf("%-6s %-28s %12.1f %10.3f logits to host\n", preset.c_str(),
                        "decode b=1 ctx=1024 +copy", 1e3 / median(times), median(times));
            backend->set_logits_to_host(false);
        }
        {  // prefill of one 4K prompt
            const int n = 4096;
            std::vector<TokenId> prompt(n);
            for (int i = 0; i < n; ++i)
                prompt[static_cast<std::size_t>(i)] = (i * 7919) % c.vocab_size;
            auto cache = backend->new_cache(n + 8);
            std::vector<double> times;
            for (int r = 0; r < 4; ++r) {
                cache->truncate(0);
                ForwardItem item{cache.get(), prompt, LogitsWanted::Last};
                const double ms = timer.ms([&] { backend->forward({&item, 1}, logits); });
                if (r >= 1) times.push_back(ms);
            }
            std::printf("%-6s %-28s %12.0f %10.3f\n", preset.c_str(), "prefill 4096",
                        n * 1e3 / median(times), median(times));
        }
        for (int batch : {16, 64}) {  // aggregate decode, 1K context each
            std::vector<std::unique_ptr<KvCache>> caches;
            std::vector<ForwardItem> items;
            for (int b = 0; b < batch; ++b) {
                caches.push_back(backend->new_cache(1024 + steps + 8));
                backend->fill_cache_random(*caches.back(), 1023, static_cast<std::uint64_t>(b));
            }
            for (auto& cache : caches) items.push_back({cache.get(), one, LogitsWanted::Last});
            std::vector<double> times;
            for (int s = 0; s < steps + 3; ++s) {
                const double ms = timer.ms([&] { backend->forward(items, logits); });
                if (s >= 3) times.push_back(ms);
            }
            char label[64];
            std::snprintf(label, sizeof label, "decode %d seqs ctx=1024", batch);
            std::printf("%-6s %-28s %12.0f %10.3f aggregate\n", preset.c_str(), label,
                        batch * 1e3 / median(times), median(times));
        }
        const auto m = backend->memory();
        auto gib = [](std::uint64_t bytes) { return static_cast<double>(bytes) / 1073741824.0; };
        std::printf(
            "%-6s memory: weights %.2f GiB, kv pool %.2f GiB, rings %.2f GiB, workspace "
            "%.2f GiB, device used %.2f of %.2f GiB\n",
            preset.c_str(), gib(m.weights), gib(m.kv_pool), gib(m.kv_rings), gib(m.workspace),
            gib(m.device_total - m.device_free), gib(m.device_total));
        std::fflush(stdout);
    }
    return 0;
}
