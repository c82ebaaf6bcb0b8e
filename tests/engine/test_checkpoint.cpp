// The random checkpoint writer (engine/checkpoint_writer.h) and the loader's validation:
// reproducibility, both layouts loading to the same bytes, sharding, clean failure, and every
// kind of damaged file giving a ModelError that names the file and/or the tensor.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/checkpoint_writer.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/model_error.h"
#include "engine/mxfp4_tiles.h"
#include "engine/weights.h"
#include "tests/support/temp_dir.h"

using namespace gossamer::engine;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp dir, removed with everything in it at scope exit.

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

ModelConfig tiny_config() {
    return config_preset("tiny");
}

CheckpointWriteOptions options(std::uint64_t seed,
                               CheckpointLayout layout = CheckpointLayout::Original,
                               std::uint64_t shard_bytes = CheckpointWriteOptions{}.shard_bytes) {
    CheckpointWriteOptions o;
    o.seed = seed;
    o.layout = layout;
    o.shard_bytes = shard_bytes;
    return o;
}

fs::path write_tiny(const fs::path& dir, std::uint64_t seed = 7,
                    CheckpointLayout layout = CheckpointLayout::Original) {
    write_random_checkpoint(tiny_config(), dir, options(seed, layout));
    return dir;
}

bool same(const Bf16Matrix& a, const Bf16Matrix& b) {
    return a.rows == b.rows && a.cols == b.cols &&
           std::memcmp(a.data, b.data, static_cast<std::size_t>(a.rows) * a.cols * 2) == 0;
}

bool same(const Mxfp4Experts& a, const Mxfp4Experts& b) {
    const auto n = static_cast<std::size_t>(a.experts) * a.rows * a.cols;
    return a.experts == b.experts && a.rows == b.rows && a.cols == b.cols &&
           std::memcmp(a.blocks, b.blocks, n / 2) == 0 &&
           std::memcmp(a.scales, b.scales, n / 32) == 0;
}

void check_same_weights(const Weights& a, const Weights& b) {
    CHECK(a.config == b.config);
    CHECK(same(a.embedding, b.embedding));
    CHECK(same(a.unembedding, b.unembedding));
    CHECK(a.final_norm == b.final_norm);
    REQUIRE(a.layers.size() == b.layers.size());
    for (std::size_t n = 0; n < a.layers.size(); ++n) {
        CAPTURE(n);
        const LayerWeights &x = a.layers[n], &y = b.layers[n];
        CHECK(x.attn_norm == y.attn_norm);
        CHECK(same(x.q, y.q));
        CHECK(same(x.k, y.k));
        CHECK(same(x.v, y.v));
        CHECK(x.qkv_bias == y.qkv_bias);
        CHECK(x.sinks == y.sinks);
        CHECK(same(x.out, y.out));
        CHECK(x.out_bias == y.out_bias);
        CHECK(x.mlp_norm == y.mlp_norm);
        CHECK(same(x.gate, y.gate));
        CHECK(x.gate_bias == y.gate_bias);
        CHECK(same(x.mlp1, y.mlp1));
        CHECK(x.mlp1_bias == y.mlp1_bias);
        CHECK(same(x.mlp2, y.mlp2));
        CHECK(x.mlp2_bias == y.mlp2_bias);
    }
}

std::vector<float> forward_all(const Weights& w, const std::vector<TokenId>& tokens,
                               Mxfp4Activations experts = Mxfp4Activations::Fp32) {
    auto backend = cpu::make_cpu_backend(w, {.threads = 2, .expert_activations = experts});
    auto cache = backend->new_cache(static_cast<int>(tokens.size()));
    std::vector<float> logits;
    ForwardItem item{cache.get(), tokens, LogitsWanted::All};
    backend->forward({&item, 1}, logits);
    return logits;
}

const std::vector<TokenId> kTokens = {1,  17,  300, 42, 511, 0, 99, 256, 3,  3,  3, 128,
                                      77, 400, 5,   6,  7,   8, 9,  10,  11, 12, 13};

// The whole contents of every file in a directory, by name.
std::vector<std::pair<std::string, std::string>> directory_bytes(const fs::path& dir) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& entry : fs::directory_iterator(dir))
        out.emplace_back(entry.path().filename().string(), read_bytes(entry.path()));
    std::sort(out.begin(), out.end());
    return out;
}

// Rewrites a safetensors file's JSON header (the data section is kept as it is).
void edit_header(const fs::path& file, const std::function<void(nlohmann::json&)>& edit) {
    std::string bytes = read_bytes(file);
    std::uint64_t len = 0;
    for (int i = 7; i >= 0; --i)
        len = len << 8 | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
    auto header = nlohmann::json::parse(bytes.substr(8, len));
    edit(header);
    std::string text = header.dump();
    std::string prefix(8, '\0');
    for (int b = 0; b < 8; ++b)
        prefix[static_cast<std::size_t>(b)] = static_cast<char>((text.size() >> (8 * b)) & 0xFF);
    write_bytes(file, prefix + text + bytes.substr(8 + len));
}

// The message of the ModelError that loading `dir` must throw.
std::string load_error(const fs::path& dir) {
    try {
        load_weights(dir);
    } catch (const ModelError& e) {
        return e.what();
    }
    FAIL("loading " << dir << " did not throw ModelError");
    return {};
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("checkpoint: tiny random checkpoint loads and its forward pass is finite") {
    gossamer::test::TempDir tmp{"ckpt"};
    const fs::path dir = write_tiny(tmp.path / "tiny");
    const auto names = directory_bytes(dir);
    REQUIRE(names.size() == 2);  // config.json, model.safetensors; no staging left
    CHECK(names[0].first == "config.json");
    CHECK(names[1].first == "model.safetensors");
    std::uint64_t on_disk = 0;
    for (const auto& [_, bytes] : names) on_disk += bytes.size();
    CHECK(on_disk == checkpoint_disk_bytes(tiny_config(), options(7)));

    const Weights w = load_weights(dir);
    CHECK(w.config == tiny_config());
    CHECK(w.layout == CheckpointLayout::Original);
    CHECK(w.layers.size() == 4);
    const auto logits = forward_all(w, kTokens);
    REQUIRE(logits.size() == kTokens.size() * 512);
    float biggest = 0;
    for (float x : logits) {
        REQUIRE(std::isfinite(x));
        biggest = std::max(biggest, std::fabs(x));
    }
    MESSAGE("largest |logit| = " << biggest);
    CHECK(biggest > 0.01f);  // not all zero
    CHECK(biggest < 100.0f);
}

TEST_CASE("checkpoint: values lie in the intended ranges") {
    gossamer::test::TempDir tmp{"ckpt"};
    const Weights w = load_weights(write_tiny(tmp.path / "tiny"));
    const LayerWeights& l = w.layers[1];
    for (float g : l.attn_norm) CHECK(std::fabs(g - 1.0f) < 0.2f);
    double sum2 = 0;
    const std::size_t n = static_cast<std::size_t>(w.embedding.rows) * w.embedding.cols;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t bits = static_cast<std::uint32_t>(w.embedding.data[i]) << 16;
        float x;
        std::memcpy(&x, &bits, 4);
        sum2 += static_cast<double>(x) * x;
    }
    CHECK(std::sqrt(sum2 / static_cast<double>(n)) == doctest::Approx(0.02).epsilon(0.05));
    const std::size_t scales =
        static_cast<std::size_t>(l.mlp1.experts) * l.mlp1.rows * l.mlp1.cols / 32;
    int seen[3] = {0, 0, 0};
    for (std::size_t i = 0; i < scales; ++i) {
        REQUIRE(l.mlp1.scales[i] >= 120);
        REQUIRE(l.mlp1.scales[i] <= 122);
        ++seen[l.mlp1.scales[i] - 120];
    }
    CHECK(seen[0] > 0);
    CHECK(seen[1] > 0);
    CHECK(seen[2] > 0);
    for (float s : l.sinks) CHECK(std::fabs(s) < 1.0f);
}

TEST_CASE("checkpoint: the same seed gives identical bytes, another seed differs") {
    gossamer::test::TempDir tmp{"ckpt"};
    const auto a = directory_bytes(write_tiny(tmp.path / "a", 11));
    const auto b = directory_bytes(write_tiny(tmp.path / "b", 11));
    const auto c = directory_bytes(write_tiny(tmp.path / "c", 12));
    CHECK(a == b);
    REQUIRE(a.size() == c.size());
    CHECK(a[0] == c[0]);  // config.json does not depend on the seed
    CHECK(a[1].second.size() == c[1].second.size());
    CHECK(a[1].second != c[1].second);
}

TEST_CASE("checkpoint: a different layer count is honoured") {
    gossamer::test::TempDir tmp{"ckpt"};
    ModelConfig config = tiny_config();
    config.num_hidden_layers = 2;
    write_random_checkpoint(config, tmp.path / "two", options(3));
    const Weights w = load_weights(tmp.path / "two");
    CHECK(w.config.num_hidden_layers == 2);
    CHECK(w.layers.size() == 2);
    // The layers it has are those of the 4-layer model with the same seed.
    const Weights four = load_weights(write_tiny(tmp.path / "four", 3));
    CHECK(same(w.layers[1].q, four.layers[1].q));
    CHECK(same(w.embedding, four.embedding));
}

TEST_CASE("checkpoint: the HF layout loads to byte-identical weights and equal logits") {
    gossamer::test::TempDir tmp{"ckpt"};
    const Weights original = load_weights(write_tiny(tmp.path / "original", 5));
    const fs::path hf_dir = write_tiny(tmp.path / "hf", 5, CheckpointLayout::HuggingFace);
    CHECK(fs::exists(hf_dir / "model.safetensors.index.json"));
    const auto config = nlohmann::json::parse(read_bytes(hf_dir / "config.json"));
    CHECK(config.contains("num_local_experts"));
    CHECK(config["rope_scaling"]["rope_type"] == "yarn");
    const auto index = nlohmann::json::parse(read_bytes(hf_dir / "model.safetensors.index.json"));
    CHECK(index["weight_map"]["model.layers.0.self_attn.q_proj.weight"] == "model.safetensors");

    const Weights hf = load_weights(hf_dir);
    CHECK(hf.layout == CheckpointLayout::HuggingFace);
    check_same_weights(original, hf);
    CHECK(forward_all(original, kTokens) == forward_all(hf, kTokens));
}

TEST_CASE("checkpoint: weights read into memory equal the mapped ones, byte for byte") {
    gossamer::test::TempDir tmp{"ckpt"};
    const fs::path dir = write_tiny(tmp.path / "m", 4);
    const Weights mapped = load_weights(dir);
    LoadOptions memory;
    memory.residency = Residency::Memory;
    const Weights copied = load_weights(dir, memory);
    check_same_weights(mapped, copied);
    CHECK(forward_all(mapped, kTokens) == forward_all(copied, kTokens));
    // The copy takes effect where transparent huge pages are on; the file mapping otherwise.
    const auto file = dir / "model.safetensors";
    REQUIRE(fs::exists(file));
    const MappedFile in_memory(file, Residency::Memory), on_disk(file);
    CHECK(in_memory.in_memory() == huge_pages_available());
    CHECK(!on_disk.in_memory());
    REQUIRE(in_memory.size() == on_disk.size());
    CHECK(std::memcmp(in_memory.data(), on_disk.data(), on_disk.size()) == 0);
    if (in_memory.in_memory()) CHECK(in_memory.data() != on_disk.data());
}

// An expert tensor's bytes in the stored layout, untiled from a copy if it is tiled.
std::pair<std::vector<std::uint8_t>, std::vector<std::uint8_t>> stored_experts(
    const Mxfp4Experts& m) {
    const auto per_b = static_cast<std::size_t>(m.rows) * m.cols / 2;
    const auto per_s = static_cast<std::size_t>(m.rows) * m.cols / 32;
    std::vector<std::uint8_t> b(m.blocks, m.blocks + per_b * m.experts);
    std::vector<std::uint8_t> s(m.scales, m.scales + per_s * m.experts);
    if (m.tiled_rows > 0)
        for (int e = 0; e < m.experts; ++e)
            untile_mxfp4_expert(b.data() + per_b * e, s.data() + per_s * e, m.rows, m.cols);
    return {b, s};
}

TEST_CASE("checkpoint: experts tiled at load hold the stored bytes, fingerprint and logits") {
    gossamer::test::TempDir tmp{"ckpt"};
    const fs::path dir = write_tiny(tmp.path / "t", 6);
    const Weights stored = load_weights(dir);
    LoadOptions tiles;
    tiles.residency = Residency::Memory;
    tiles.tile_experts = true;
    const Weights tiled = load_weights(dir, tiles);
    // Tiles need the private copy in memory (transparent huge pages); a mapping stays as stored.
    const bool expect = huge_pages_available();
    MESSAGE("huge pages: " << expect);
    for (std::size_t n = 0; n < tiled.layers.size(); ++n) {
        CAPTURE(n);
        for (const Mxfp4Experts* m : {&tiled.layers[n].mlp1, &tiled.layers[n].mlp2}) {
            CHECK(m->tiled_rows == (expect ? mxfp4_tiled_rows(m->rows) : 0));
            const auto [b, s] = stored_experts(*m);
            const Mxfp4Experts& want =
                m == &tiled.layers[n].mlp1 ? stored.layers[n].mlp1 : stored.layers[n].mlp2;
            CHECK(std::memcmp(b.data(), want.blocks, b.size()) == 0);
            CHECK(std::memcmp(s.data(), want.scales, s.size()) == 0);
            if (expect) CHECK(std::memcmp(m->blocks, want.blocks, b.size()) != 0);
        }
    }
    CHECK(fingerprint(tiled) == fingerprint(stored));
    // The int8 kernels give the same logits, bit for bit, from either layout.
    CHECK(forward_all(tiled, kTokens, Mxfp4Activations::Int8) ==
          forward_all(stored, kTokens, Mxfp4Activations::Int8));
    // fp32 activations have no kernel for tiles: a clear refusal, not wrong logits.
    if (expect) {
        CHECK_THROWS_AS(cpu::make_cpu_backend(tiled, {.threads = 1}), ModelError);
    }
    LoadOptions mapped;
    mapped.tile_experts = true;
    const Weights untouched = load_weights(dir, mapped);
    CHECK(untouched.layers[0].mlp1.tiled_rows == 0);
    check_same_weights(stored, untouched);
}

TEST_CASE("checkpoint: a small shard limit splits the model into files that load the same") {
    gossamer::test::TempDir tmp{"ckpt"};
    const Weights one = load_weights(write_tiny(tmp.path / "one", 9));
    for (auto layout : {CheckpointLayout::Original, CheckpointLayout::HuggingFace}) {
        CAPTURE(static_cast<int>(layout));
        const fs::path dir = tmp.path / (layout == CheckpointLayout::Original ? "o" : "h");
        write_random_checkpoint(tiny_config(), dir, options(9, layout, 300'000));
        int shards = 0;
        for (const auto& entry : fs::directory_iterator(dir))
            shards += entry.path().extension() == ".safetensors";
        CHECK(shards >= 5);
        CHECK(fs::exists(dir / ("model-00001-of-0000" + std::to_string(shards) + ".safetensors")));
        check_same_weights(one, load_weights(dir));
    }
}

TEST_CASE("checkpoint: the writer refuses a non-empty directory and cleans up on failure") {
    gossamer::test::TempDir tmp{"ckpt"};
    fs::create_directories(tmp.path / "busy");
    write_bytes(tmp.path / "busy" / "notes.txt", "keep me");
    CHECK_THROWS_AS(write_tiny(tmp.path / "busy"), ModelError);
    CHECK(read_bytes(tmp.path / "busy" / "notes.txt") == "keep me");

    struct Stop {};
    int calls = 0;
    CheckpointWriteOptions stopping = options(1, CheckpointLayout::Original, 300'000);
    stopping.progress = [&](std::uint64_t done, std::uint64_t total) {
        CHECK(done <= total);
        if (++calls == 3) throw Stop{};
    };
    // A directory the writer created is removed again; an existing empty one is left empty.
    CHECK_THROWS_AS(write_random_checkpoint(tiny_config(), tmp.path / "new", stopping), Stop);
    CHECK(!fs::exists(tmp.path / "new"));
    fs::create_directories(tmp.path / "empty");
    calls = 0;
    CHECK_THROWS_AS(write_random_checkpoint(tiny_config(), tmp.path / "empty", stopping), Stop);
    CHECK(fs::is_empty(tmp.path / "empty"));
}

TEST_CASE("checkpoint: plan sizes of the official models") {
    std::uint64_t bytes = 0;
    for (const auto& t : plan_checkpoint(config_preset("20b"), CheckpointLayout::Original))
        bytes += t.bytes;
    // reference 2.1: ~12.8 GiB for 20b; per expert mlp1 blocks 8,294,400 bytes.
    CHECK(static_cast<double>(bytes) / (1 << 30) == doctest::Approx(12.8).epsilon(0.01));
    const auto plan = plan_checkpoint(config_preset("120b"), CheckpointLayout::Original);
    CHECK(plan.size() == 3 + 36 * 15);
    CHECK(plan[8].name == "block.0.mlp.gate.weight");
    CHECK(plan[10].name == "block.0.mlp.mlp1_weight.blocks");
    CHECK(plan[10].bytes == 128ull * 8'294'400);
    CHECK(checkpoint_disk_bytes(config_preset("20b"), options(0)) > bytes);
}

TEST_CASE("checkpoint: damaged files give a ModelError naming the file and tensor") {
    gossamer::test::TempDir tmp{"ckpt"};
    const fs::path dir = write_tiny(tmp.path / "tiny");
    const fs::path file = dir / "model.safetensors";
    const std::string bytes = read_bytes(file);
    std::string message;

    SUBCASE("truncated file") {
        write_bytes(file, bytes.substr(0, bytes.size() - 1000));
        message = load_error(dir);
        CHECK(contains(message, "model.safetensors"));
        CHECK(contains(message, "unembedding.weight"));  // the last tensor no longer fits
        CHECK(contains(message, "truncated"));
    }
    SUBCASE("file shorter than the length field") {
        write_bytes(file, bytes.substr(0, 5));
        message = load_error(dir);
        CHECK(contains(message, "model.safetensors"));
        CHECK(contains(message, "truncated"));
    }
    SUBCASE("header length larger than the file") {
        std::string damaged = bytes;
        const std::uint64_t len = bytes.size();
        for (int b = 0; b < 8; ++b)
            damaged[static_cast<std::size_t>(b)] = static_cast<char>((len >> (8 * b)) & 0xFF);
        write_bytes(file, damaged);
        message = load_error(dir);
        CHECK(contains(message, "model.safetensors"));
        CHECK(contains(message, "header length"));
    }
    SUBCASE("garbage header JSON") {
        std::string damaged = bytes;
        damaged.replace(8, 12, "{not json!!!");
        write_bytes(file, damaged);
        message = load_error(dir);
        CHECK(contains(message, "model.safetensors"));
        CHECK(contains(message, "not valid JSON"));
    }
    SUBCASE("wrong dtype") {
        edit_header(file, [](nlohmann::json& h) { h["block.1.attn.out.weight"]["dtype"] = "F16"; });
        message = load_error(dir);
        CHECK(contains(message, "model.safetensors"));
        CHECK(contains(message, "block.1.attn.out.weight"));
        CHECK(contains(message, "dtype F16"));
    }
    SUBCASE("wrong shape") {
        edit_header(file, [](nlohmann::json& h) {
            h["block.2.mlp.gate.weight"]["shape"] = {128, 8};  // transposed, same bytes
        });
        message = load_error(dir);
        CHECK(contains(message, "model.safetensors"));
        CHECK(contains(message, "block.2.mlp.gate.weight"));
        CHECK(contains(message, "[128, 8]"));
    }
    SUBCASE("size of dtype and shape disagrees with the offsets") {
        edit_header(file, [](nlohmann::json& h) { h["norm.scale"]["shape"] = {64}; });
        message = load_error(dir);
        CHECK(contains(message, "model.safetensors"));
        CHECK(contains(message, "norm.scale"));
    }
    SUBCASE("offsets outside the file") {
        edit_header(file, [&](nlohmann::json& h) {
            auto& off = h["block.0.attn.sinks"]["data_offsets"];
            const std::uint64_t far = bytes.size() * 2;
            off = {far, far + 8};
        });
        message = load_error(dir);
        CHECK(contains(message, "model.safetensors"));
        CHECK(contains(message, "block.0.attn.sinks"));
        CHECK(contains(message, "outside"));
    }
    SUBCASE("overlapping tensors") {
        edit_header(file, [](nlohmann::json& h) {
            h["block.0.mlp.norm.scale"]["data_offsets"] =
                h["block.0.attn.norm.scale"]["data_offsets"];
        });
        message = load_error(dir);
        CHECK(contains(message, "model.safetensors"));
        CHECK(contains(message, "block.0.attn.norm.scale"));
        CHECK(contains(message, "block.0.mlp.norm.scale"));
        CHECK(contains(message, "overlap"));
    }
    SUBCASE("missing tensor") {
        edit_header(file, [](nlohmann::json& h) { h.erase("block.3.mlp.mlp2_bias"); });
        message = load_error(dir);
        CHECK(contains(message, "block.3.mlp.mlp2_bias"));
        CHECK(contains(message, "missing"));
    }
    SUBCASE("extra unknown tensor") {
        std::uint64_t data_size = 0;
        edit_header(file, [&](nlohmann::json& h) {
            for (const auto& [name, spec] : h.items())
                if (name != "__metadata__")
                    data_size = std::max(data_size, spec["data_offsets"][1].get<std::uint64_t>());
            h["block.9.attn.extra"] = {
                {"dtype", "BF16"}, {"shape", {2}}, {"data_offsets", {data_size, data_size + 4}}};
        });
        write_bytes(file, read_bytes(file) + std::string(4, '\0'));
        message = load_error(dir);
        CHECK(contains(message, "block.9.attn.extra"));
        CHECK(contains(message, "does not use"));
    }
    SUBCASE("the same tensor in two files") {
        gossamer::test::TempDir other{"ckpt"};
        write_tiny(other.path / "x");
        fs::copy_file(other.path / "x" / "model.safetensors", dir / "more.safetensors");
        message = load_error(dir);
        CHECK(contains(message, "more.safetensors"));
        CHECK(contains(message, "is also in"));
    }
    SUBCASE("missing config.json") {
        fs::remove(dir / "config.json");
        message = load_error(dir);
        CHECK(contains(message, "config.json"));
        CHECK(contains(message, dir.string()));
    }
    SUBCASE("config.json that does not match the tensors") {
        auto config = nlohmann::json::parse(read_bytes(dir / "config.json"));
        config["hidden_size"] = 256;
        write_bytes(dir / "config.json", config.dump());
        message = load_error(dir);
        CHECK(contains(message, "model.safetensors"));
        CHECK(contains(message, "embedding.weight"));
    }
    MESSAGE(message);
}
