#include "engine/checkpoint_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>
#include <nlohmann/json.hpp>
#include <system_error>

#include "engine/model_error.h"

namespace gossamer::engine {
namespace fs = std::filesystem;
namespace {

// ---- counter-based random values --------------------------------------------------------
// Element i of a tensor is a function of (seed, tensor key, i) only: splitmix64's finaliser
// applied to key + i * golden ratio, i.e. the i-th output of a splitmix64 stream seeded with
// the key. Any slice can be generated on its own, so the HF layout's q/k/v (row ranges of
// the original qkv) get exactly the original's values.

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ull;

std::uint64_t finalise(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

std::uint64_t tensor_key(std::uint64_t seed, const std::string& name) {
    std::uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a of the name
    for (unsigned char ch : name) h = (h ^ ch) * 0x100000001B3ull;
    return finalise(finalise(seed + kGolden) ^ h);
}

std::uint64_t draw(std::uint64_t key, std::uint64_t i) {
    return finalise(key + i * kGolden);
}

// fp32 -> bf16 bits, round to nearest even (values here are always finite).
std::uint16_t to_bf16(float value) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    bits += 0x7FFFu + ((bits >> 16) & 1u);
    return static_cast<std::uint16_t>(bits >> 16);
}

enum class Fill {
    Normal,       // bf16: mean + stddev * (approximately standard normal)
    RandomBytes,  // u8: uniform bytes (MXFP4 blocks: any nibble is a valid E2M1 value)
    Mxfp4Scale,   // u8: 120..122, i.e. 2^-7..2^-5, so dequantised expert weights are ~0.0x
};

// Where a stored tensor's values come from: elements [first, ...) of the logical (original
// layout) tensor `key_name`.
struct Source {
    std::string key_name;
    Fill fill = Fill::Normal;
    float mean = 0;
    float stddev = 0;
    std::uint64_t first = 0;
};

struct Item {
    PlannedTensor tensor;
    Source source;
};

// Generates bytes [offset, offset + n) of `item` into `out`.
void generate(const Item& item, std::uint64_t key, std::uint64_t offset, std::size_t n,
              std::byte* out) {
    const Source& s = item.source;
    if (s.fill == Fill::Normal) {
        // Irwin-Hall with four 16-bit uniforms: mean 131070, stddev 65536/sqrt(3).
        constexpr float kCentre = 131070.0f, kInvStd = 1.0f / 37837.23f;
        const std::uint64_t first = s.first + offset / 2;
        const std::size_t count = n / 2;
        for (std::size_t j = 0; j < count; ++j) {
            const std::uint64_t r = draw(key, first + j);
            const auto sum = (r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48);
            const float z = (static_cast<float>(sum) - kCentre) * kInvStd;
            const std::uint16_t bits = to_bf16(s.mean + s.stddev * z);
            std::memcpy(out + 2 * j, &bits, 2);
        }
        return;
    }
    const std::uint64_t first = s.first + offset;
    std::uint64_t word = 0;
    for (std::size_t j = 0; j < n; ++j) {
        const std::uint64_t i = first + j;
        if (j == 0 || i % 8 == 0) word = draw(key, i / 8);
        auto byte = static_cast<std::uint8_t>(word >> (8 * (i % 8)));
        if (s.fill == Fill::Mxfp4Scale) byte = static_cast<std::uint8_t>(120 + byte % 3);
        out[j] = static_cast<std::byte>(byte);
    }
}

// ---- what goes where --------------------------------------------------------------------

std::vector<Item> plan_items(const ModelConfig& c, CheckpointLayout layout) {
    const bool hf = layout == CheckpointLayout::HuggingFace;
    const std::int64_t H = c.hidden_size, I = c.intermediate_size, E = c.num_experts;
    const std::int64_t V = c.vocab_size, qw = c.q_width(), kvw = c.kv_width();
    std::vector<Item> items;
    auto bf16 = [&](std::string name, std::vector<std::int64_t> shape, std::string key, float mean,
                    float stddev, std::uint64_t first = 0) {
        std::uint64_t count = 1;
        for (auto d : shape) count *= static_cast<std::uint64_t>(d);
        items.push_back({{std::move(name), "BF16", std::move(shape), 2 * count},
                         {std::move(key), Fill::Normal, mean, stddev, first}});
    };
    auto u8 = [&](std::string name, std::vector<std::int64_t> shape, std::string key, Fill fill) {
        std::uint64_t count = 1;
        for (auto d : shape) count *= static_cast<std::uint64_t>(d);
        items.push_back(
            {{std::move(name), "U8", std::move(shape), count}, {std::move(key), fill, 0, 0, 0}});
    };
    constexpr float kW = 0.02f;  // stddev of weights and biases
    bf16(hf ? "model.embed_tokens.weight" : "embedding.weight", {V, H}, "embedding.weight", 0, kW);
    for (int n = 0; n < c.num_hidden_layers; ++n) {
        const std::string o = "block." + std::to_string(n) + ".";
        const std::string h = "model.layers." + std::to_string(n) + ".";
        auto name = [&](const char* original, const char* hf_name) {
            return hf ? h + hf_name : o + original;
        };
        bf16(name("attn.norm.scale", "input_layernorm.weight"), {H}, o + "attn.norm.scale", 1, kW);
        if (hf) {
            const std::string w = o + "attn.qkv.weight", b = o + "attn.qkv.bias";
            const auto qH = static_cast<std::uint64_t>(qw * H);
            const auto kvH = static_cast<std::uint64_t>(kvw * H);
            bf16(h + "self_attn.q_proj.weight", {qw, H}, w, 0, kW, 0);
            bf16(h + "self_attn.q_proj.bias", {qw}, b, 0, kW, 0);
            bf16(h + "self_attn.k_proj.weight", {kvw, H}, w, 0, kW, qH);
            bf16(h + "self_attn.k_proj.bias", {kvw}, b, 0, kW, static_cast<std::uint64_t>(qw));
            bf16(h + "self_attn.v_proj.weight", {kvw, H}, w, 0, kW, qH + kvH);
            bf16(h + "self_attn.v_proj.bias", {kvw}, b, 0, kW,
                 static_cast<std::uint64_t>(qw + kvw));
        } else {
            bf16(o + "attn.qkv.weight", {qw + 2 * kvw, H}, o + "attn.qkv.weight", 0, kW);
            bf16(o + "attn.qkv.bias", {qw + 2 * kvw}, o + "attn.qkv.bias", 0, kW);
        }
        bf16(name("attn.sinks", "self_attn.sinks"), {c.num_attention_heads}, o + "attn.sinks", 0,
             0.1f);
        bf16(name("attn.out.weight", "self_attn.o_proj.weight"), {H, qw}, o + "attn.out.weight", 0,
             kW);
        bf16(name("attn.out.bias", "self_attn.o_proj.bias"), {H}, o + "attn.out.bias", 0, kW);
        bf16(name("mlp.norm.scale", "post_attention_layernorm.weight"), {H}, o + "mlp.norm.scale",
             1, kW);
        bf16(name("mlp.gate.weight", "mlp.router.weight"), {E, H}, o + "mlp.gate.weight", 0, kW);
        bf16(name("mlp.gate.bias", "mlp.router.bias"), {E}, o + "mlp.gate.bias", 0, kW);
        u8(name("mlp.mlp1_weight.blocks", "mlp.experts.gate_up_proj_blocks"),
           {E, 2 * I, H / 32, 16}, o + "mlp.mlp1_weight.blocks", Fill::RandomBytes);
        u8(name("mlp.mlp1_weight.scales", "mlp.experts.gate_up_proj_scales"), {E, 2 * I, H / 32},
           o + "mlp.mlp1_weight.scales", Fill::Mxfp4Scale);
        bf16(name("mlp.mlp1_bias", "mlp.experts.gate_up_proj_bias"), {E, 2 * I},
             o + "mlp.mlp1_bias", 0, kW);
        u8(name("mlp.mlp2_weight.blocks", "mlp.experts.down_proj_blocks"), {E, H, I / 32, 16},
           o + "mlp.mlp2_weight.blocks", Fill::RandomBytes);
        u8(name("mlp.mlp2_weight.scales", "mlp.experts.down_proj_scales"), {E, H, I / 32},
           o + "mlp.mlp2_weight.scales", Fill::Mxfp4Scale);
        bf16(name("mlp.mlp2_bias", "mlp.experts.down_proj_bias"), {E, H}, o + "mlp.mlp2_bias", 0,
             kW);
    }
    bf16(hf ? "model.norm.weight" : "norm.scale", {H}, "norm.scale", 1, kW);
    bf16(hf ? "lm_head.weight" : "unembedding.weight", {V, H}, "unembedding.weight", 0, kW);
    return items;
}

struct Shard {
    std::string file_name;
    std::vector<std::size_t> items;  // indexes into the item list, in file order
    std::string header;              // 8-byte length + JSON padded with spaces to 8 bytes
    std::uint64_t data_bytes = 0;
};

struct Plan {
    std::vector<Item> items;
    std::vector<Shard> shards;
    std::string config_json;
    std::string index_json;  // HF layout only
    std::uint64_t data_bytes = 0;
    std::uint64_t disk_bytes = 0;
};

nlohmann::json hf_config(const ModelConfig& c) {
    nlohmann::json layer_types = nlohmann::json::array();
    for (int n = 0; n < c.num_hidden_layers; ++n)
        layer_types.push_back(ModelConfig::is_sliding(n) ? "sliding_attention" : "full_attention");
    return {{"architectures", {"GptOssForCausalLM"}},
            {"model_type", "gpt_oss"},
            {"attention_bias", true},
            {"num_hidden_layers", c.num_hidden_layers},
            {"num_local_experts", c.num_experts},
            {"num_experts_per_tok", c.experts_per_token},
            {"vocab_size", c.vocab_size},
            {"hidden_size", c.hidden_size},
            {"intermediate_size", c.intermediate_size},
            {"swiglu_limit", c.swiglu_limit},
            {"head_dim", c.head_dim},
            {"num_attention_heads", c.num_attention_heads},
            {"num_key_value_heads", c.num_key_value_heads},
            {"sliding_window", c.sliding_window},
            {"layer_types", layer_types},
            {"initial_context_length", c.initial_context_length},
            {"max_position_embeddings", c.max_context()},
            {"rope_theta", c.rope_theta},
            {"rope_scaling",
             {{"rope_type", "yarn"},
              {"factor", c.rope_scaling_factor},
              {"beta_fast", c.rope_ntk_beta},
              {"beta_slow", c.rope_ntk_alpha},
              {"original_max_position_embeddings", c.initial_context_length},
              {"truncate", false}}},
            {"quantization_config",
             {{"quant_method", "mxfp4"},
              {"modules_to_not_convert",
               {"model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens",
                "lm_head"}}}}};
}

Plan make_plan(const ModelConfig& c, const CheckpointWriteOptions& options) {
    validate(c, "checkpoint config");
    Plan plan;
    plan.items = plan_items(c, options.layout);
    const std::uint64_t limit = std::max<std::uint64_t>(options.shard_bytes, 1);
    for (std::size_t i = 0; i < plan.items.size(); ++i) {
        const auto bytes = plan.items[i].tensor.bytes;
        if (plan.shards.empty() ||
            (!plan.shards.back().items.empty() && plan.shards.back().data_bytes + bytes > limit))
            plan.shards.emplace_back();
        plan.shards.back().items.push_back(i);
        plan.shards.back().data_bytes += bytes;
        plan.data_bytes += bytes;
    }
    const std::size_t count = plan.shards.size();
    nlohmann::json weight_map = nlohmann::json::object();
    for (std::size_t s = 0; s < count; ++s) {
        Shard& shard = plan.shards[s];
        if (count == 1) {
            shard.file_name = "model.safetensors";
        } else {
            char name[64];
            std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, count);
            shard.file_name = name;
        }
        nlohmann::json header = {{"__metadata__", {{"format", "pt"}}}};
        std::uint64_t offset = 0;
        for (std::size_t i : shard.items) {
            const PlannedTensor& t = plan.items[i].tensor;
            header[t.name] = {{"dtype", t.dtype},
                              {"shape", t.shape},
                              {"data_offsets", {offset, offset + t.bytes}}};
            offset += t.bytes;
            weight_map[t.name] = shard.file_name;
        }
        std::string text = header.dump();
        text.append((8 - text.size() % 8) % 8, ' ');
        std::string prefix(8, '\0');
        for (int b = 0; b < 8; ++b)
            prefix[static_cast<std::size_t>(b)] =
                static_cast<char>((text.size() >> (8 * b)) & 0xFF);
        shard.header = prefix + text;
        plan.disk_bytes += shard.header.size() + shard.data_bytes;
    }
    const bool hf = options.layout == CheckpointLayout::HuggingFace;
    plan.config_json = (hf ? hf_config(c) : config_to_json(c)).dump(2) + "\n";
    if (hf)
        plan.index_json = nlohmann::json{{"metadata", {{"total_size", plan.data_bytes}}},
                                         {"weight_map", weight_map}}
                              .dump(2) +
                          "\n";
    plan.disk_bytes += plan.config_json.size() + plan.index_json.size();
    return plan;
}

// ---- writing ----------------------------------------------------------------------------

[[noreturn]] void io_fail(const fs::path& path, const std::string& what, int err) {
    throw ModelError(path.string() + ": " + what + ": " + std::strerror(err));
}

class OutFile {
  public:
    explicit OutFile(const fs::path& path) : path_(path), file_(std::fopen(path.c_str(), "wb")) {
        if (!file_) io_fail(path, "cannot create", errno);
    }
    ~OutFile() {
        if (file_) std::fclose(file_);
    }
    OutFile(const OutFile&) = delete;
    OutFile& operator=(const OutFile&) = delete;

    void write(const void* data, std::size_t n) {
        if (n && std::fwrite(data, 1, n, file_) != n) io_fail(path_, "write failed", errno);
    }
    // Flushes to disk (so that the rename that follows publishes complete data) and closes.
    void close() {
        std::FILE* f = file_;
        file_ = nullptr;
        const bool ok = std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
        const int err = errno;
        if (std::fclose(f) != 0 || !ok) io_fail(path_, "write failed", ok ? errno : err);
    }

  private:
    fs::path path_;
    std::FILE* file_ = nullptr;
};

void write_text(const fs::path& path, const std::string& text) {
    OutFile out(path);
    out.write(text.data(), text.size());
    out.close();
}

constexpr std::size_t kChunk = std::size_t{8} << 20;

struct Chunk {
    std::size_t item = 0;
    std::uint64_t offset = 0;
    std::size_t bytes = 0;
};

// Streams one shard: header, then each tensor's data in chunks of kChunk bytes. The next
// chunk is generated on a second thread while the current one is written.
void write_shard(const Plan& plan, const Shard& shard, const fs::path& path,
                 const std::vector<std::uint64_t>& keys, const CheckpointWriteOptions& options,
                 std::uint64_t& done) {
    OutFile out(path);
    out.write(shard.header.data(), shard.header.size());
    std::vector<Chunk> chunks;
    for (std::size_t i : shard.items)
        for (std::uint64_t off = 0; off < plan.items[i].tensor.bytes; off += kChunk)
            chunks.push_back({i, off,
                              static_cast<std::size_t>(std::min<std::uint64_t>(
                                  kChunk, plan.items[i].tensor.bytes - off))});
    std::vector<std::byte> buffers[2] = {std::vector<std::byte>(kChunk),
                                         std::vector<std::byte>(kChunk)};
    auto fill = [&](std::size_t k) {
        const Chunk& ch = chunks[k];
        generate(plan.items[ch.item], keys[ch.item], ch.offset, ch.bytes, buffers[k % 2].data());
    };
    if (chunks.empty()) {
        out.close();
        return;
    }
    fill(0);
    for (std::size_t k = 0; k < chunks.size(); ++k) {
        std::future<void> next;
        if (k + 1 < chunks.size()) next = std::async(std::launch::async, fill, k + 1);
        try {
            out.write(buffers[k % 2].data(), chunks[k].bytes);
            done += chunks[k].bytes;
            if (options.progress) options.progress(done, plan.data_bytes);
        } catch (...) {
            if (next.valid()) next.wait();
            throw;
        }
        if (next.valid()) next.get();
    }
    out.close();
}

}  // namespace

std::vector<PlannedTensor> plan_checkpoint(const ModelConfig& config, CheckpointLayout layout) {
    std::vector<PlannedTensor> out;
    for (auto& item : plan_items(config, layout)) out.push_back(std::move(item.tensor));
    return out;
}

std::uint64_t checkpoint_disk_bytes(const ModelConfig& config,
                                    const CheckpointWriteOptions& options) {
    return make_plan(config, options).disk_bytes;
}

void write_random_checkpoint(const ModelConfig& config, const fs::path& directory,
                             const CheckpointWriteOptions& options) {
    const Plan plan = make_plan(config, options);
    std::error_code ec;
    bool created = false;
    if (fs::exists(directory, ec)) {
        if (!fs::is_directory(directory, ec))
            throw ModelError(directory.string() + ": exists and is not a directory");
        if (!fs::is_empty(directory, ec))
            throw ModelError(directory.string() +
                             ": not empty (a new checkpoint is only written into an empty or new "
                             "directory)");
    } else {
        if (!fs::create_directories(directory, ec) || ec)
            throw ModelError(directory.string() + ": cannot create directory: " + ec.message());
        created = true;
    }
    const fs::path staging = directory / kCheckpointStagingDir;
    std::vector<fs::path> published;
    try {
        if (!fs::create_directory(staging, ec) || ec)
            throw ModelError(staging.string() + ": cannot create directory: " + ec.message());
        std::vector<std::uint64_t> keys;
        for (const auto& item : plan.items)
            keys.push_back(tensor_key(options.seed, item.source.key_name));
        std::uint64_t done = 0;
        for (const auto& shard : plan.shards)
            write_shard(plan, shard, staging / shard.file_name, keys, options, done);
        std::vector<std::string> names;
        for (const auto& shard : plan.shards) names.push_back(shard.file_name);
        if (!plan.index_json.empty()) {
            write_text(staging / "model.safetensors.index.json", plan.index_json);
            names.push_back("model.safetensors.index.json");
        }
        write_text(staging / "config.json", plan.config_json);
        names.push_back("config.json");  // last: without it the directory is not a checkpoint
        for (const auto& name : names) {
            fs::rename(staging / name, directory / name, ec);
            if (ec)
                throw ModelError((directory / name).string() +
                                 ": cannot move into place: " + ec.message());
            published.push_back(directory / name);
        }
        fs::remove(staging, ec);
    } catch (...) {
        fs::remove_all(staging, ec);
        for (const auto& p : published) fs::remove(p, ec);
        if (created) fs::remove(directory, ec);
        throw;
    }
}

}  // namespace gossamer::engine
