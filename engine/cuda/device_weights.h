// The model's weights on the device, in their stored formats: bf16 matrices (q, k and v rows
// concatenated into one fused QKV matrix), MXFP4 experts as 4-bit blocks plus E8M0 scales,
// fp32 vectors. One allocation holds everything. Filled from a loaded checkpoint (upload) or
// with random values of a config's shapes (no checkpoint file).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/cuda/device_buffer.h"
#include "engine/model_config.h"
#include "engine/weights.h"

namespace gossamer::engine::cuda {

struct DeviceLayer {
    float* attn_norm = nullptr;     // [hidden]
    std::uint16_t* qkv = nullptr;   // [qkv_width, hidden]
    float* qkv_bias = nullptr;      // [qkv_width]
    float* sinks = nullptr;         // [heads]
    std::uint16_t* out = nullptr;   // [hidden, q_width]
    float* out_bias = nullptr;      // [hidden]
    float* mlp_norm = nullptr;      // [hidden]
    std::uint16_t* gate = nullptr;  // [experts, hidden]
    float* gate_bias = nullptr;     // [experts]
    std::uint8_t* mlp1_blocks = nullptr;
    std::uint8_t* mlp1_scales = nullptr;
    float* mlp1_bias = nullptr;  // [experts, 2*inter]
    std::uint8_t* mlp2_blocks = nullptr;
    std::uint8_t* mlp2_scales = nullptr;
    float* mlp2_bias = nullptr;  // [experts, hidden]
};

struct DeviceWeights {
    ModelConfig config;
    DeviceBuffer<std::uint8_t> storage;
    std::uint16_t* embedding = nullptr;    // [vocab, hidden]
    std::uint16_t* unembedding = nullptr;  // [vocab, hidden]
    float* final_norm = nullptr;           // [hidden]
    std::vector<DeviceLayer> layers;
    std::uint64_t bytes() const { return storage.bytes(); }
};

DeviceWeights upload_weights(const Weights& weights);
DeviceWeights random_device_weights(const ModelConfig& config, std::uint64_t seed);

}  // namespace gossamer::engine::cuda
