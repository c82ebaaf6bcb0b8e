// Times the o200k_harmony tokenizer on corpus files: load (embedded rank file, SHA-256 check,
// table build) and single-threaded encode_ordinary / encode(all) throughput. Prints one
// machine-readable line per measurement, in the format bench/tiktoken_bench.mjs prints for
// tiktoken, so bench/run_tokenizer_bench.sh can put both side by side.
//   gossamer_bench_tokenizer [--reps N] [--warmup N] [--mode ordinary|all|both] FILE...
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "harmony/sha256.h"
#include "harmony/tokenizer.h"

extern "C" const char gossamer_o200k_base_begin[];  // the rank file linked into gossamer_harmony
extern "C" const char gossamer_o200k_base_end[];

namespace {

using gossamer::harmony::AllowedSpecial;
using gossamer::harmony::Token;
using gossamer::harmony::Tokenizer;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU time of this process: on a busy machine it shows what wall time would be if quiet.
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// FNV-1a 64 over the ids as little-endian u32: the same in tiktoken_bench.mjs, so the two
// sides can be checked for identical output without printing megabytes of ids.
std::uint64_t fnv1a64(const std::vector<Token>& ids) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (Token id : ids)
        for (int k = 0; k < 4; ++k) {
            h ^= (id >> (8 * k)) & 0xFFu;
            h *= 0x100000001b3ull;
        }
    return h;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw std::runtime_error(path + ": read error");
    return bytes;
}

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "gossamer_bench_tokenizer: %s\nusage: gossamer_bench_tokenizer [--reps N] "
                 "[--warmup N] [--mode ordinary|all|both] FILE...\n",
                 why);
    std::exit(2);
}

int parse_count(int argc, char** argv, int& i) {
    if (i + 1 >= argc) usage("missing value");
    char* end = nullptr;
    long v = std::strtol(argv[++i], &end, 10);
    if (*end != '\0' || v < 0 || v > 1000) usage("bad count");
    return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) try {
    int reps = 1, warmup = 1;
    bool ordinary = true, all = true;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--reps") {
            reps = parse_count(argc, argv, i);
        } else if (a == "--warmup") {
            warmup = parse_count(argc, argv, i);
        } else if (a == "--mode") {
            if (i + 1 >= argc) usage("missing mode");
            std::string_view m = argv[++i];
            if (m != "ordinary" && m != "all" && m != "both") usage("bad mode");
            ordinary = m != "all";
            all = m != "ordinary";
        } else if (a.starts_with("--")) {
            usage("unknown option");
        } else {
            files.emplace_back(a);
        }
    }
    if (files.empty()) usage("no corpus files");

    // Load: the first call parses the embedded rank file after checking its SHA-256. The hash
    // alone is timed separately on the same bytes (after the load, so the pages are warm).
    auto t0 = Clock::now();
    const Tokenizer& tok = Tokenizer::o200k_harmony();
    double load = seconds_since(t0);
    std::string_view rank_file(
        gossamer_o200k_base_begin,
        static_cast<std::size_t>(gossamer_o200k_base_end - gossamer_o200k_base_begin));
    t0 = Clock::now();
    std::string digest = gossamer::harmony::sha256_hex(rank_file);
    double sha = seconds_since(t0);
    std::printf("load impl=gossamer seconds=%.6f sha256_seconds=%.6f rank_file_bytes=%zu\n", load,
                sha, rank_file.size());
    if (digest.size() != 64) throw std::runtime_error("bad digest");

    const AllowedSpecial specials = AllowedSpecial::all_tokens();
    for (const std::string& path : files) {
        const std::string text = read_file(path);
        for (int pass = 0; pass < 2; ++pass) {
            bool with_specials = pass == 1;
            if (with_specials ? !all : !ordinary) continue;
            const char* mode = with_specials ? "all" : "ordinary";
            auto run = [&] {
                return with_specials ? tok.encode(text, specials) : tok.encode_ordinary(text);
            };
            for (int w = 0; w < warmup; ++w) run();
            for (int r = 0; r < reps; ++r) {
                double c0 = cpu_seconds();
                t0 = Clock::now();
                std::vector<Token> ids = run();
                double s = seconds_since(t0);
                double c = cpu_seconds() - c0;
                std::printf(
                    "run impl=gossamer mode=%s file=%s bytes=%zu tokens=%zu hash=%016llx "
                    "seconds=%.6f cpu_seconds=%.6f\n",
                    mode, path.c_str(), text.size(), ids.size(),
                    static_cast<unsigned long long>(fnv1a64(ids)), s, c);
                std::fflush(stdout);
            }
        }
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "gossamer_bench_tokenizer: %s\n", e.what());
    return 1;
}
