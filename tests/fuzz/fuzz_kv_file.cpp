// libFuzzer target for the saved KV cache reader (engine/kv_file.h): files on disk that a
// crash, a full disk or another program may have left in any state. The first byte picks
// what the rest is: 0 the whole file; 1 records after a valid header; otherwise XOR patches
// (offset, byte) over a valid file of three records (a cut, sliding rings included).
// Properties: no crash, no sanitizer report; restore() fills exactly the prefix it returns,
// which is a prefix of the prompt and within the limit, and for a patched valid file every
// restored row equals the row the writer saved; saved_tokens() (no checksums) reads anything.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "engine/cpu/cpu_kv_cache.h"
#include "engine/kv_file.h"

namespace {

using namespace gossamer::engine;
using gossamer::engine::cpu::CpuKvCache;
namespace fs = std::filesystem;

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "fuzz_kv_file: %s\n", what);
    std::abort();
}

ModelConfig config() {
    ModelConfig c;
    c.num_hidden_layers = 2;  // layer 0 sliding, layer 1 full
    c.sliding_window = 4;
    c.num_key_value_heads = 1;
    c.head_dim = 4;
    return c;
}

constexpr const char* kIdentity = "fuzz identity";
constexpr int kTokens = 40;

// What position p of layer l holds in the reference cache.
float value_at(int layer, int pos, int i, bool key) {
    return static_cast<float>(layer * 1000 + pos * 10 + i) * (key ? 1.0f : -1.0f);
}

void fill(CpuKvCache& cache, int from, int to) {
    for (int p = from; p < to; ++p)
        for (int l = 0; l < 2; ++l) {
            float k[4], v[4];
            for (int i = 0; i < 4; ++i)
                k[i] = value_at(l, p, i, true), v[i] = value_at(l, p, i, false);
            cache.store(l, p, k, v);
        }
}

struct Fixture {
    fs::path path = fs::temp_directory_path() / ("fuzz_kv_" + std::to_string(::getpid()) + ".gkv");
    std::string valid;   // three records
    std::string header;  // the header alone
    std::vector<TokenId> prompt;
    Fixture() {
        for (int i = 0; i < kTokens; ++i) prompt.push_back(i * 7 % 50);
        CpuKvCache cache(config(), 64, 4, KvPrecision::Fp32);
        KvFile file(path, kIdentity);
        cache.grow(20);
        fill(cache, 0, 20);
        file.save(cache, std::span<const TokenId>(prompt).first(20));
        cache.truncate(16);  // a cut: the next record starts at 16
        cache.grow(30);
        fill(cache, 16, 30);
        file.save(cache, std::span<const TokenId>(prompt).first(30));
        cache.grow(kTokens);
        fill(cache, 30, kTokens);
        file.save(cache, prompt);
        std::ifstream in(path, std::ios::binary);
        valid.assign(std::istreambuf_iterator<char>(in), {});
        header = valid.substr(0, 8 + 4 + std::strlen(kIdentity) + 8);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Fixture fx;
    if (size == 0) return 0;
    const std::uint8_t mode = data[0] % 3;
    const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
    std::string bytes;
    if (mode == 0)
        bytes = rest;
    else if (mode == 1)
        bytes = fx.header + rest;
    else {
        bytes = fx.valid;
        for (std::size_t i = 0; i + 2 < rest.size() && !bytes.empty(); i += 3) {
            const std::size_t at =
                (static_cast<std::uint8_t>(rest[i]) | static_cast<std::uint8_t>(rest[i + 1]) << 8) %
                bytes.size();
            bytes[at] = static_cast<char>(bytes[at] ^ rest[i + 2]);
        }
        if (!rest.empty() && rest.size() % 3 == 1)  // and sometimes cut short
            bytes.resize(static_cast<std::uint8_t>(rest.back()) * bytes.size() / 256);
    }
    {
        std::ofstream out(fx.path, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    // The unchecked read of the tokens (a hint for choosing a seed) must not crash either, and
    // reads a file as the writer left it exactly.
    const auto hint = KvFile(fx.path, kIdentity).saved_tokens();
    if (bytes == fx.valid && hint != fx.prompt) broken("saved_tokens() misread a valid file");
    CpuKvCache cache(config(), 64, 4, KvPrecision::Fp32);
    KvFile file(fx.path, kIdentity);
    const int limit = kTokens - 1;
    const auto restored = file.restore(cache, fx.prompt, limit);
    const int n = static_cast<int>(restored.tokens.size());
    if (n > limit) broken("restored past the limit");
    if (cache.size() != n) broken("the cache does not hold what restore() returned");
    for (int i = 0; i < n; ++i)
        if (restored.tokens[static_cast<std::size_t>(i)] != fx.prompt[static_cast<std::size_t>(i)])
            broken("restored tokens are not a prefix of the prompt");
    if (mode == 2 && n > 0) {
        // A patched valid file: whatever is trusted must be what the writer wrote.
        for (int l = 0; l < 2; ++l) {
            const int from = cache.oldest(l);
            std::vector<float> k(static_cast<std::size_t>(n - from) * 4), v(k.size());
            cache.read(l, from, n - from, k.data(), v.data());
            for (int p = from; p < n; ++p)
                for (int i = 0; i < 4; ++i)
                    if (k[static_cast<std::size_t>((p - from) * 4 + i)] !=
                            value_at(l, p, i, true) ||
                        v[static_cast<std::size_t>((p - from) * 4 + i)] != value_at(l, p, i, false))
                        broken("a restored row differs from the saved one");
        }
    }
    // Saving after whatever restore() made of it must leave a file that restores.
    if (n > 0) {
        cache.grow(kTokens);
        fill(cache, n, kTokens);
        file.save(cache, fx.prompt);
        CpuKvCache again(config(), 64, 4, KvPrecision::Fp32);
        KvFile reread(fx.path, kIdentity);
        const auto second = reread.restore(again, fx.prompt, limit);
        if (static_cast<int>(second.tokens.size()) != limit) broken("a saved file did not restore");
    }
    return 0;
}
