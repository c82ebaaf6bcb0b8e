#include "engine/weights.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "engine/hash64.h"
#include "engine/model_error.h"
#include "engine/mxfp4_tiles.h"
#include "engine/safetensors.h"

namespace gossamer::engine {
namespace fs = std::filesystem;
namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

float bf16_bits_to_float(std::uint16_t bits) {
    const std::uint32_t wide = static_cast<std::uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &wide, sizeof value);
    return value;
}

// Where config.json and the tensors live: DIR itself, or DIR/original (a repo root).
fs::path checkpoint_dir(const fs::path& dir) {
    if (!fs::is_directory(dir)) throw ModelError(dir.string() + ": not a directory");
    if (fs::exists(dir / "original" / "config.json")) return dir / "original";
    if (fs::exists(dir / "config.json")) return dir;
    throw ModelError(dir.string() +
                     ": no config.json (expected a gpt-oss checkpoint directory: "
                     "config.json and *.safetensors, or a repo root with original/)");
}

// All tensors of all *.safetensors files of a directory, by name.
class TensorSet {
  public:
    TensorSet(const fs::path& dir, const LoadOptions& options) : options_(options) {
        std::vector<fs::path> paths;
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.path().extension() == ".safetensors") paths.push_back(entry.path());
        std::sort(paths.begin(), paths.end());
        if (paths.empty()) throw ModelError(dir.string() + ": no *.safetensors files");
        for (const auto& p : paths) {
            files_.push_back(std::make_shared<SafetensorsFile>(p, options_.residency));
            for (const auto& [name, view] : files_.back()->tensors()) {
                auto [it, fresh] =
                    by_name_.emplace(name, std::make_pair(&view, files_.back().get()));
                if (!fresh)
                    throw ModelError(p.string() + ": tensor '" + name + "' is also in " +
                                     it->second.second->path().string());
            }
        }
    }

    bool has(const std::string& name) const { return by_name_.count(name) != 0; }

    const TensorView& get(const std::string& name, std::initializer_list<DType> dtypes,
                          const std::vector<std::int64_t>& shape) {
        auto it = by_name_.find(name);
        if (it == by_name_.end())
            throw ModelError("checkpoint is missing tensor '" + name + "' (shape " +
                             shape_text(shape) + ")");
        const TensorView& v = *it->second.first;
        const std::string where = it->second.second->path().string() + ": tensor '" + name + "': ";
        if (std::find(dtypes.begin(), dtypes.end(), v.dtype) == dtypes.end())
            throw ModelError(where + "dtype " + dtype_name(v.dtype) + " where " +
                             dtype_name(*dtypes.begin()) + " is expected");
        if (v.shape != shape)
            throw ModelError(where + "shape " + shape_text(v.shape) + " where the config needs " +
                             shape_text(shape));
        used_.insert(name);
        if (options_.progress) options_.progress(used_.size(), by_name_.size());
        return v;
    }

    void require_all_used() const {
        std::vector<std::string> extra;
        for (const auto& [name, _] : by_name_)
            if (!used_.count(name)) extra.push_back(name);
        if (extra.empty()) return;
        std::string list;
        for (std::size_t i = 0; i < extra.size() && i < 5; ++i)
            list += (i ? ", '" : "'") + extra[i] + "'";
        if (extra.size() > 5) list += ", ...";
        throw ModelError("checkpoint has " + std::to_string(extra.size()) +
                         " tensor(s) this model does not use: " + list +
                         " (is config.json right for these files?)");
    }

    // SafetensorsFile::rewrite of a tensor already validated by get().
    bool rewrite(const std::string& name, const std::function<void(std::byte*)>& edit) {
        auto it = by_name_.find(name);
        return it != by_name_.end() && it->second.second->rewrite(*it->second.first, edit);
    }

    std::uint64_t mapped_bytes() const {
        std::uint64_t total = 0;
        for (const auto& f : files_) total += f->size();
        return total;
    }
    std::shared_ptr<void> keep_alive() const {
        return std::make_shared<std::vector<std::shared_ptr<SafetensorsFile>>>(files_);
    }

  private:
    const LoadOptions& options_;
    std::vector<std::shared_ptr<SafetensorsFile>> files_;
    std::map<std::string, std::pair<const TensorView*, SafetensorsFile*>> by_name_;
    std::set<std::string> used_;
};

// Tensor names of one layout.
struct Names {
    bool hf = false;
    std::string layer(int n, const char* original, const char* hf_name) const {
        return hf ? "model.layers." + std::to_string(n) + "." + hf_name
                  : "block." + std::to_string(n) + "." + original;
    }
};

class Loader {
  public:
    Loader(TensorSet& set, const ModelConfig& c, Names names) : set_(set), c_(c), names_(names) {}

    Bf16Matrix matrix(const std::string& name, int rows, int cols) {
        const auto& v = set_.get(name, {DType::BF16}, {rows, cols});
        return {reinterpret_cast<const std::uint16_t*>(v.data), rows, cols};
    }

    std::vector<float> vec(const std::string& name, std::vector<std::int64_t> shape) {
        const auto& v = set_.get(name, {DType::BF16, DType::F32}, shape);
        std::vector<float> out(static_cast<std::size_t>(v.elements()));
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (v.dtype == DType::F32) {
                std::memcpy(&out[i], v.data + i * 4, 4);
            } else {
                std::uint16_t bits;
                std::memcpy(&bits, v.data + i * 2, 2);
                out[i] = bf16_bits_to_float(bits);
            }
        }
        return out;
    }

    Mxfp4Experts experts(const std::string& blocks, const std::string& scales, int rows, int cols) {
        const int groups = cols / 32;
        const auto& b = set_.get(blocks, {DType::U8}, {c_.num_experts, rows, groups, 16});
        const auto& s = set_.get(scales, {DType::U8}, {c_.num_experts, rows, groups});
        return {reinterpret_cast<const std::uint8_t*>(b.data),
                reinterpret_cast<const std::uint8_t*>(s.data), c_.num_experts, rows, cols};
    }

    LayerWeights layer(int n) {
        const int H = c_.hidden_size, I = c_.intermediate_size, E = c_.num_experts;
        const int qw = c_.q_width(), kvw = c_.kv_width();
        LayerWeights l;
        l.attn_norm = vec(names_.layer(n, "attn.norm.scale", "input_layernorm.weight"), {H});
        if (names_.hf) {
            l.q = matrix(names_.layer(n, "", "self_attn.q_proj.weight"), qw, H);
            l.k = matrix(names_.layer(n, "", "self_attn.k_proj.weight"), kvw, H);
            l.v = matrix(names_.layer(n, "", "self_attn.v_proj.weight"), kvw, H);
            l.qkv_bias = vec(names_.layer(n, "", "self_attn.q_proj.bias"), {qw});
            for (const char* b : {"self_attn.k_proj.bias", "self_attn.v_proj.bias"}) {
                auto part = vec(names_.layer(n, "", b), {kvw});
                l.qkv_bias.insert(l.qkv_bias.end(), part.begin(), part.end());
            }
        } else {
            Bf16Matrix qkv = matrix(names_.layer(n, "attn.qkv.weight", ""), c_.qkv_width(), H);
            l.q = {qkv.row(0), qw, H};
            l.k = {qkv.row(qw), kvw, H};
            l.v = {qkv.row(qw + kvw), kvw, H};
            l.qkv_bias = vec(names_.layer(n, "attn.qkv.bias", ""), {c_.qkv_width()});
        }
        l.sinks = vec(names_.layer(n, "attn.sinks", "self_attn.sinks"), {c_.num_attention_heads});
        l.out = matrix(names_.layer(n, "attn.out.weight", "self_attn.o_proj.weight"), H, qw);
        l.out_bias = vec(names_.layer(n, "attn.out.bias", "self_attn.o_proj.bias"), {H});
        l.mlp_norm = vec(names_.layer(n, "mlp.norm.scale", "post_attention_layernorm.weight"), {H});
        l.gate = matrix(names_.layer(n, "mlp.gate.weight", "mlp.router.weight"), E, H);
        l.gate_bias = vec(names_.layer(n, "mlp.gate.bias", "mlp.router.bias"), {E});
        l.mlp1 = experts(mlp1_blocks(n), mlp1_scales(n), 2 * I, H);
        l.mlp1_bias =
            vec(names_.layer(n, "mlp.mlp1_bias", "mlp.experts.gate_up_proj_bias"), {E, 2 * I});
        l.mlp2 = experts(mlp2_blocks(n), mlp2_scales(n), H, I);
        l.mlp2_bias = vec(names_.layer(n, "mlp.mlp2_bias", "mlp.experts.down_proj_bias"), {E, H});
        return l;
    }

    // Layer n's experts in 16-row tiles (LoadOptions::tile_experts), where both tensors of a
    // product are in memory; otherwise they stay as stored.
    void tile(LayerWeights& l, int n) {
        tile(l.mlp1, mlp1_blocks(n), mlp1_scales(n));
        tile(l.mlp2, mlp2_blocks(n), mlp2_scales(n));
    }

  private:
    std::string mlp1_blocks(int n) const {
        return names_.layer(n, "mlp.mlp1_weight.blocks", "mlp.experts.gate_up_proj_blocks");
    }
    std::string mlp1_scales(int n) const {
        return names_.layer(n, "mlp.mlp1_weight.scales", "mlp.experts.gate_up_proj_scales");
    }
    std::string mlp2_blocks(int n) const {
        return names_.layer(n, "mlp.mlp2_weight.blocks", "mlp.experts.down_proj_blocks");
    }
    std::string mlp2_scales(int n) const {
        return names_.layer(n, "mlp.mlp2_weight.scales", "mlp.experts.down_proj_scales");
    }

    void tile(Mxfp4Experts& m, const std::string& blocks, const std::string& scales) {
        if (m.tiled_rows > 0 || mxfp4_tiled_rows(m.rows) == 0) return;
        int tiled = 0;
        set_.rewrite(blocks, [&](std::byte* b) {
            set_.rewrite(scales, [&](std::byte* s) {
                for (int e = 0; e < m.experts; ++e)
                    tiled = tile_mxfp4_expert(
                        reinterpret_cast<std::uint8_t*>(b) + (m.expert_blocks(e) - m.blocks),
                        reinterpret_cast<std::uint8_t*>(s) + (m.expert_scales(e) - m.scales),
                        m.rows, m.cols);
            });
        });
        m.tiled_rows = tiled;
    }

    TensorSet& set_;
    const ModelConfig& c_;
    Names names_;
};

nlohmann::json read_json(const fs::path& path) {
    std::ifstream in(path);
    if (!in) throw ModelError(path.string() + ": cannot read");
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(path.string() + ": not valid JSON: " + e.what());
    }
}

}  // namespace

Weights load_weights(const fs::path& directory, const LoadOptions& options) {
    Weights w;
    w.directory = checkpoint_dir(directory);
    const fs::path config_path = w.directory / "config.json";
    w.config = config_from_json(read_json(config_path), config_path.string());
    const ModelConfig& c = w.config;

    TensorSet set(w.directory, options);
    Names names;
    if (set.has("model.embed_tokens.weight"))
        names.hf = true;
    else if (!set.has("embedding.weight"))
        throw ModelError(w.directory.string() +
                         ": neither 'embedding.weight' (original layout) nor "
                         "'model.embed_tokens.weight' (Hugging Face layout) found");
    w.layout = names.hf ? CheckpointLayout::HuggingFace : CheckpointLayout::Original;
    Loader load(set, c, names);
    w.embedding = load.matrix(names.hf ? "model.embed_tokens.weight" : "embedding.weight",
                              c.vocab_size, c.hidden_size);
    for (int n = 0; n < c.num_hidden_layers; ++n) w.layers.push_back(load.layer(n));
    w.final_norm = load.vec(names.hf ? "model.norm.weight" : "norm.scale", {c.hidden_size});
    w.unembedding = load.matrix(names.hf ? "lm_head.weight" : "unembedding.weight", c.vocab_size,
                                c.hidden_size);
    set.require_all_used();
    if (options.tile_experts)
        for (int n = 0; n < c.num_hidden_layers; ++n)
            load.tile(w.layers[static_cast<std::size_t>(n)], n);
    w.mapped_bytes = set.mapped_bytes();
    w.keep_alive = set.keep_alive();
    return w;
}

namespace {

// Hashes a tensor of `bytes` bytes by the ranges read(at, n) feeds to h: all of it when it is
// short, else 4 KiB at its start, middle and end.
template <class Read>
void sample_pieces(Hash64& h, std::size_t bytes, const Read& read) {
    constexpr std::size_t kPiece = 4096;
    h.add(static_cast<std::uint64_t>(bytes));
    if (bytes <= 3 * kPiece) return read(0, bytes);
    read(0, kPiece);
    read(bytes / 2 - kPiece / 2, kPiece);
    read(bytes - kPiece, kPiece);
}

void sample(Hash64& h, const void* data, std::size_t bytes) {
    if (!data) return h.add(static_cast<std::uint64_t>(bytes));
    const auto* p = static_cast<const unsigned char*>(data);
    sample_pieces(h, bytes, [&](std::size_t at, std::size_t n) { h.update(p + at, n); });
}

void sample(Hash64& h, const Bf16Matrix& m) {
    h.add(m.rows);
    h.add(m.cols);
    sample(h, m.data,
           static_cast<std::size_t>(m.rows) * static_cast<std::size_t>(m.cols) *
               sizeof(std::uint16_t));
}

// The stored bytes [at, at + n) of an expert tensor's blocks (scales == false) or scales,
// read through its tiles if it has any.
void stored_bytes(const Mxfp4Experts& m, bool scales, std::size_t at, std::size_t n,
                  unsigned char* out) {
    const int groups = m.cols / 32;
    const std::size_t unit = scales ? 1 : 16;  // bytes per (row, block)
    const std::size_t per_expert = static_cast<std::size_t>(m.rows) * groups * unit;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t k = at + i;
        const std::size_t e = k / per_expert, in = k % per_expert;
        const auto r = static_cast<int>(in / (groups * unit));
        const auto g = static_cast<int>(in / unit % static_cast<std::size_t>(groups));
        const std::size_t offset =
            scales ? mxfp4_scale_offset(r, g, groups, m.tiled_rows)
                   : mxfp4_byte_offset(r, g, static_cast<int>(in % unit), groups, m.tiled_rows);
        out[i] = (scales ? m.scales : m.blocks)[e * per_expert + offset];
    }
}

void sample(Hash64& h, const Mxfp4Experts& m) {
    const std::size_t rows = static_cast<std::size_t>(m.experts) * static_cast<std::size_t>(m.rows);
    h.add(m.experts);
    if (m.tiled_rows == 0 || !m.blocks || !m.scales) {
        sample(h, m.blocks, rows * static_cast<std::size_t>(m.cols / 2));
        sample(h, m.scales, rows * static_cast<std::size_t>(m.cols / 32));
        return;
    }
    // The same pieces as a stored tensor's, read in the stored order.
    for (bool scales : {false, true}) {
        const std::size_t bytes =
            rows * static_cast<std::size_t>(scales ? m.cols / 32 : m.cols / 2);
        sample_pieces(h, bytes, [&](std::size_t at, std::size_t n) {
            std::vector<unsigned char> piece(n);
            stored_bytes(m, scales, at, n, piece.data());
            h.update(piece.data(), n);
        });
    }
}

void sample(Hash64& h, const std::vector<float>& v) {
    sample(h, v.data(), v.size() * sizeof(float));
}

}  // namespace

std::string fingerprint(const Weights& w) {
    Hash64 h;
    h.add(config_to_json(w.config).dump());
    sample(h, w.embedding);
    sample(h, w.unembedding);
    sample(h, w.final_norm);
    for (const auto& l : w.layers) {
        for (const auto* v : {&l.attn_norm, &l.qkv_bias, &l.sinks, &l.out_bias, &l.mlp_norm,
                              &l.gate_bias, &l.mlp1_bias, &l.mlp2_bias})
            sample(h, *v);
        for (const auto* m : {&l.q, &l.k, &l.v, &l.out, &l.gate}) sample(h, *m);
        sample(h, l.mlp1);
        sample(h, l.mlp2);
    }
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h.digest()));
    return text;
}

}  // namespace gossamer::engine
