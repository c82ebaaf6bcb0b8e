// Resume of a long session with and without its saved KV cache (engine/kv_file.h), on a
// checkpoint (usually a random one of real widths with few layers): time to the first new
// token for a process that recomputes the whole context, against one that restores it from
// the file the first process saved; the bytes that save wrote, the bytes a later step
// appends, and the restore alone. Prints one JSON object.
//   gossamer_bench_kv_resume --model DIR [--tokens 32768] [--new 16] [--runs 5] [--threads T]
//                            [--dir DIR] [--kv bf16|fp32] [--cold-runs N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/kv_file.h"
#include "engine/scheduler.h"
#include "engine/weights.h"

namespace {

using namespace gossamer::engine;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

struct Options {
    std::string model, dir = "bench/.scratch/kv-resume";
    int tokens = 32768, fresh_tokens = 16, runs = 5, threads = 0, cold_runs = 0;
    KvPrecision precision = KvPrecision::Bf16;
};

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: gossamer_bench_kv_resume --model DIR [--tokens N] [--new N] [--runs R] "
                 "[--threads T] [--dir DIR] [--kv bf16|fp32] [--cold-runs N]\n");
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) usage();
        const std::string v = argv[++i];
        if (a == "--model")
            o.model = v;
        else if (a == "--tokens")
            o.tokens = std::stoi(v);
        else if (a == "--new")
            o.fresh_tokens = std::stoi(v);
        else if (a == "--runs")
            o.runs = std::stoi(v);
        else if (a == "--threads")
            o.threads = std::stoi(v);
        else if (a == "--dir")
            o.dir = v;
        else if (a == "--kv")
            o.precision = v == "fp32" ? KvPrecision::Fp32 : KvPrecision::Bf16;
        else
            usage();
    }
    if (o.model.empty() || o.tokens < 2 || o.fresh_tokens < 1 || o.runs < 1) usage();
    return o;
}

struct Turn {
    double first_token_s = 0;
    GenerationStats stats;
};

// One "process": a scheduler and a sequence kept in `file`; generates one token.
Turn turn(Backend& backend, const fs::path& file, const std::string& identity,
          const std::vector<TokenId>& prompt) {
    Scheduler scheduler(backend);
    const auto seq = scheduler.open();
    if (!file.empty()) scheduler.persist(seq, std::make_shared<KvFile>(file, identity));
    GenerateRequest r;
    r.prompt = prompt;
    r.max_tokens = 1;
    r.sampling.temperature = 0;
    const auto t0 = Clock::now();
    const auto result = generate_now(scheduler, seq, std::move(r));
    Turn t;
    t.first_token_s = std::chrono::duration<double>(Clock::now() - t0).count();
    t.stats = result.final_event.stats;
    if (!t.stats.kv_warnings.empty())
        std::fprintf(stderr, "warning: %s\n", t.stats.kv_warnings.front().c_str());
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    const Weights weights = load_weights(o.model);
    auto backend =
        cpu::make_cpu_backend(weights, {.threads = o.threads, .kv_precision = o.precision});
    const auto sample = backend->new_cache(1);
    const std::string identity = kv_identity(fingerprint(weights), *backend, *sample);
    fs::create_directories(o.dir);
    const fs::path file = fs::path(o.dir) / "session.gkv";
    fs::remove(file);

    std::mt19937 rng(7);
    std::uniform_int_distribution<TokenId> pick(0, weights.config.vocab_size - 1);
    std::vector<TokenId> session(static_cast<std::size_t>(o.tokens));
    for (auto& t : session) t = pick(rng);
    auto resumed = session;
    for (int i = 0; i < o.fresh_tokens; ++i) resumed.push_back(pick(rng));

    // The first process computes the whole session and saves it. What a resume without the
    // cache costs is that same computation (plus the few new tokens): its prefill time, taken
    // before the save; the save is timed on its own.
    std::fprintf(stderr, "prefill of %d tokens (saved as it ends)...\n", o.tokens);
    const Turn first = turn(*backend, file, identity, session);
    const auto saved_bytes = fs::file_size(file);
    Turn cold = first;
    cold.first_token_s = first.stats.prefill_seconds;
    if (o.cold_runs > 0) {  // measured again in full when asked (long contexts: minutes each)
        std::vector<double> colds;
        for (int r = 0; r < o.cold_runs; ++r) {
            std::fprintf(stderr, "resume without the cache...\n");
            colds.push_back(turn(*backend, {}, identity, resumed).first_token_s);
        }
        cold.first_token_s = median(colds);
    }
    // Resumes with it (each a new scheduler, as a new process: nothing in memory).
    std::vector<double> warm, appended;
    int restored = 0;
    for (int r = 0; r < o.runs; ++r) {
        const fs::path copy = fs::path(o.dir) / "copy.gkv";
        fs::copy_file(file, copy, fs::copy_options::overwrite_existing);
        const Turn t = turn(*backend, copy, identity, resumed);
        warm.push_back(t.first_token_s);
        appended.push_back(static_cast<double>(t.stats.kv_bytes_written));
        restored = t.stats.restored_tokens;
    }
    const double warm_s = median(warm);
    nlohmann::json out{{"model", o.model},
                       {"layers", weights.config.num_hidden_layers},
                       {"kv", to_string(o.precision)},
                       {"backend", backend->name()},
                       {"session_tokens", o.tokens},
                       {"new_tokens", o.fresh_tokens},
                       {"first_prefill_s", first.stats.prefill_seconds},
                       {"first_save_s", first.first_token_s - first.stats.prefill_seconds},
                       {"prefill_tok_s", o.tokens / first.stats.prefill_seconds},
                       {"saved_bytes", saved_bytes},
                       {"saved_bytes_per_token", static_cast<double>(saved_bytes) / o.tokens},
                       {"resume_without_cache_s", cold.first_token_s},
                       {"resume_with_cache_s", warm_s},
                       {"resume_with_cache_runs", warm},
                       {"restored_tokens", restored},
                       {"speedup", cold.first_token_s / warm_s},
                       {"step_append_bytes", median(appended)}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
}
