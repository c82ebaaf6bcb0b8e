// Speculative decoding (prompt-lookup drafts, engine/scheduler.h) against plain decoding on a
// checkpoint: (1) what one verify step costs against a decode step, feeding 1 + k tokens at
// the end of the prompt for k = 0, 1, 2, 4, 8 (the break-even acceptance); (2) greedy
// generation of N tokens after the prompt with --draft-tokens 0 and 8, alternating, median of
// R runs: tokens/s, verify steps, drafted and accepted tokens. The prompt is a harmony text
// file (an exported session: `gossamer sessions export ID --format harmony`) or, without
// one, a synthetic agent context: random "file contents" shown twice. The checkpoint runs as
// the CLI runs it: read into memory, int8 experts in 16-row tiles. Prints one JSON object.
//   gossamer_bench_speculative --model DIR [--prompt-text FILE] [--tokens N] [--runs R]
//                              [--threads T]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/scheduler.h"
#include "engine/weights.h"
#include "harmony/tokenizer.h"

namespace {

using namespace gossamer::engine;
using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

struct Result {
    double seconds = 0;
    GenerationStats stats;
    std::vector<TokenId> tokens;
};

Result generate(Backend& backend, const std::vector<TokenId>& prompt, int n, int draft) {
    SchedulerOptions options;
    options.speculation.max_tokens = draft;
    Scheduler scheduler(backend, options);
    const auto seq = scheduler.open();
    // Prefill first (not timed), then the timed decode of n tokens.
    GenerateRequest warm;
    warm.prompt = prompt;
    warm.max_tokens = 1;
    warm.sampling.temperature = 0;
    generate_now(scheduler, seq, std::move(warm));
    GenerateRequest r;
    r.prompt = prompt;
    r.max_tokens = n;
    r.sampling.temperature = 0;
    const auto t0 = Clock::now();
    const auto out = generate_now(scheduler, seq, std::move(r));
    Result res;
    res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    res.stats = out.final_event.stats;
    for (const auto& s : out.samples) res.tokens.push_back(s.token);
    return res;
}

}  // namespace

int main(int argc, char** argv) {
    std::string model, prompt_file;
    int n = 64, runs = 3, threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        if (a == "--model")
            model = v;
        else if (a == "--prompt-text")
            prompt_file = v;
        else if (a == "--tokens")
            n = std::stoi(v);
        else if (a == "--runs")
            runs = std::stoi(v);
        else if (a == "--threads")
            threads = std::stoi(v);
    }
    if (model.empty()) {
        std::fprintf(stderr,
                     "usage: gossamer_bench_speculative --model DIR [--prompt-text FILE] "
                     "[--tokens N] [--runs R] [--threads T]\n");
        return 2;
    }
    // As the CLI runs a local checkpoint: in memory, int8 experts in 16-row tiles.
    LoadOptions load;
    load.residency = Residency::Memory;
    load.tile_experts = true;
    const Weights weights = load_weights(model, load);
    auto backend = cpu::make_cpu_backend(
        weights, {.threads = threads, .expert_activations = Mxfp4Activations::Int8});
    std::vector<TokenId> prompt;
    std::string source = "synthetic";
    if (!prompt_file.empty()) {
        std::ifstream in(prompt_file);
        std::stringstream text;
        text << in.rdbuf();
        const auto ids = gossamer::harmony::Tokenizer::o200k_harmony().encode(
            text.str() + "<|start|>assistant", gossamer::harmony::AllowedSpecial::all_tokens());
        prompt.assign(ids.begin(), ids.end());
        source = prompt_file;
    } else {
        std::mt19937 rng(5);
        std::uniform_int_distribution<TokenId> pick(1000, 60000);
        std::vector<TokenId> file(400);
        for (auto& t : file) t = pick(rng);
        prompt = file;
        prompt.insert(prompt.end(), file.begin(), file.begin() + 200);
    }
    // (1) Verify-step cost: 1 + k tokens after the prompt, logits for every one.
    nlohmann::json costs = nlohmann::json::array();
    for (int k : {0, 1, 2, 4, 8}) {
        std::vector<double> times;
        for (int r = 0; r < runs + 1; ++r) {
            auto cache = backend->new_cache(static_cast<int>(prompt.size()) + 16);
            std::vector<float> logits;
            ForwardItem pre{cache.get(), prompt, LogitsWanted::None};
            backend->forward({&pre, 1}, logits);
            std::vector<TokenId> step(prompt.end() - 1 - k, prompt.end());
            cache->truncate(static_cast<int>(prompt.size()) - 1 - k);
            ForwardItem item{cache.get(), step, k == 0 ? LogitsWanted::Last : LogitsWanted::All};
            const auto t0 = Clock::now();
            backend->forward({&item, 1}, logits);
            if (r > 0)
                times.push_back(
                    std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        }
        costs.push_back({{"tokens", 1 + k}, {"ms", median(times)}});
    }
    // (2) Greedy generation, plain and speculative, alternating.
    std::vector<double> plain_s, spec_s;
    Result plain, spec;
    for (int r = 0; r < runs; ++r) {
        plain = generate(*backend, prompt, n, 0);
        spec = generate(*backend, prompt, n, 8);
        plain_s.push_back(plain.seconds);
        spec_s.push_back(spec.seconds);
    }
    const double p = median(plain_s), s = median(spec_s);
    nlohmann::json out{
        {"model", model},
        {"layers", weights.config.num_hidden_layers},
        {"backend", backend->name()},
        {"expert_tiles", !weights.layers.empty() && weights.layers[0].mlp1.tiled_rows > 0},
        {"prompt", source},
        {"prompt_tokens", prompt.size()},
        {"generated", n},
        {"verify_step_ms", costs},
        {"plain_tok_s", n / p},
        {"speculative_tok_s", n / s},
        {"speedup", p / s},
        {"same_tokens", plain.tokens == spec.tokens},
        {"verify_steps", spec.stats.verify_steps},
        {"drafted", spec.stats.drafted_tokens},
        {"accepted", spec.stats.accepted_tokens},
        {"accepted_per_verify",
         spec.stats.verify_steps
             ? static_cast<double>(spec.stats.accepted_tokens) / spec.stats.verify_steps
             : 0.0},
        {"tokens_per_forward", static_cast<double>(n) / (n - spec.stats.accepted_tokens)}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
}
