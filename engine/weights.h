// A loaded gpt-oss checkpoint: every tensor of the model as a typed view into memory-mapped
// safetensors files, in its stored format (bf16 matrices, MXFP4 experts stay 4-bit). Small
// per-channel vectors (norm gains, biases, sinks) are copied to fp32 at load. Nothing here
// computes; backends read these views.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/mapped_file.h"
#include "engine/model_config.h"

namespace gossamer::engine {

// A row-major [rows, cols] matrix of bf16 values (the upper 16 bits of an fp32).
struct Bf16Matrix {
    const std::uint16_t* data = nullptr;
    int rows = 0;
    int cols = 0;
    const std::uint16_t* row(int r) const {
        return data + static_cast<std::size_t>(r) * static_cast<std::size_t>(cols);
    }
};

// An [experts, rows, cols] MXFP4 tensor: for each expert and row, cols/32 blocks of 16 bytes
// (two E2M1 values per byte, low nibble = even column) and cols/32 E8M0 scales (bias 127).
// With tiled_rows > 0 each expert's rows [0, tiled_rows) are in 16-row tiles instead
// (engine/mxfp4_tiles.h: LoadOptions::tile_experts); an expert keeps its byte range.
struct Mxfp4Experts {
    const std::uint8_t* blocks = nullptr;  // [experts, rows, cols/32, 16]
    const std::uint8_t* scales = nullptr;  // [experts, rows, cols/32]
    int experts = 0;
    int rows = 0;
    int cols = 0;
    int tiled_rows = 0;
    const std::uint8_t* expert_blocks(int e) const {
        return blocks + static_cast<std::size_t>(e) * static_cast<std::size_t>(rows) *
                            static_cast<std::size_t>(cols / 2);
    }
    const std::uint8_t* expert_scales(int e) const {
        return scales + static_cast<std::size_t>(e) * static_cast<std::size_t>(rows) *
                            static_cast<std::size_t>(cols / 32);
    }
};

struct LayerWeights {
    std::vector<float> attn_norm;  // [hidden]
    Bf16Matrix q, k, v;            // [q_width, hidden], [kv_width, hidden] x2 (rows of qkv)
    std::vector<float> qkv_bias;   // [qkv_width]: q, then k, then v
    std::vector<float> sinks;      // [heads]
    Bf16Matrix out;                // [hidden, q_width]
    std::vector<float> out_bias;   // [hidden]
    std::vector<float> mlp_norm;   // [hidden]
    Bf16Matrix gate;               // [experts, hidden]
    std::vector<float> gate_bias;  // [experts]
    Mxfp4Experts mlp1;             // [experts, 2*intermediate, hidden]
    std::vector<float> mlp1_bias;  // [experts, 2*intermediate]
    Mxfp4Experts mlp2;             // [experts, hidden, intermediate]
    std::vector<float> mlp2_bias;  // [experts, hidden]
};

enum class CheckpointLayout { Original, HuggingFace };

struct Weights {
    ModelConfig config;
    CheckpointLayout layout = CheckpointLayout::Original;
    std::filesystem::path directory;  // where config.json and the *.safetensors are
    Bf16Matrix embedding;             // [vocab, hidden]
    Bf16Matrix unembedding;           // [vocab, hidden]
    std::vector<float> final_norm;    // [hidden]
    std::vector<LayerWeights> layers;
    std::uint64_t mapped_bytes = 0;    // total size of the mapped files
    std::shared_ptr<void> keep_alive;  // owns the mappings the views point into
};

struct LoadOptions {
    // Called as loading proceeds (done <= total, in tensors); may be empty.
    std::function<void(std::size_t done, std::size_t total)> progress;
    Residency residency = Residency::Mapped;  // where the files' bytes live (mapped_file.h)
    // Convert the MXFP4 experts to 16-row tiles (engine/mxfp4_tiles.h), in place, for the CPU
    // backend's int8 kernels. Only where the bytes are a private copy in memory (Residency::
    // Memory took effect); a mapped file stays as stored. Backends other than the CPU's, and
    // its fp32 expert activations, need the stored layout (they refuse tiled experts).
    bool tile_experts = false;
};

// Loads a checkpoint directory: the official original/ layout (config.json + *.safetensors),
// the Hugging Face layout (HF names, model.safetensors.index.json, split q/k/v), or a repo
// root holding original/. Validates headers, dtypes, shapes against the config, offsets and
// overlaps, and missing tensors; throws ModelError naming the file and tensor.
Weights load_weights(const std::filesystem::path& directory, const LoadOptions& options = {});

// A 16-hex-digit identity of the loaded model: its config and every tensor's shape, plus
// bytes sampled from each tensor (as stored: tiled experts are read through their layout) (the
// small fp32 vectors whole; 4 KiB at the start, middle and end of each large tensor). Two
// checkpoints that differ anywhere a sample reads (two random seeds, a fine-tune) differ; reading
// it costs well under a millisecond per tensor. What a saved KV cache (engine/kv_file.h) is tied
// to.
std::string fingerprint(const Weights& weights);

}  // namespace gossamer::engine
