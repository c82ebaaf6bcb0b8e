// Weight upload and random device weights (device_weights.h). Offsets are planned once for
// both, 256-byte aligned, so the kernels' 16-byte vector loads are always aligned.
#include "engine/cuda/device_weights.h"

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/random_fill.cuh"
#include "engine/model_error.h"

namespace gossamer::engine::cuda {
namespace {

std::size_t z(int v) {
    return static_cast<std::size_t>(v);
}

// Assigns every tensor its place; `place` is called with (pointer slot, bytes, kind).
enum class Kind { Bf16, Mxfp4Blocks, Mxfp4Scales, Gain, Bias, Sinks };

struct Planned {
    void** slot;
    std::size_t bytes;
    Kind kind;
    std::size_t offset = 0;
};

std::vector<Planned> plan(DeviceWeights& w) {
    const ModelConfig& c = w.config;
    const std::size_t H = z(c.hidden_size), V = z(c.vocab_size), E = z(c.num_experts);
    const std::size_t I = z(c.intermediate_size);
    std::vector<Planned> p;
    auto add = [&](auto** slot, std::size_t bytes, Kind kind) {
        p.push_back({reinterpret_cast<void**>(slot), bytes, kind});
    };
    add(&w.embedding, V * H * 2, Kind::Bf16);
    add(&w.unembedding, V * H * 2, Kind::Bf16);
    add(&w.final_norm, H * 4, Kind::Gain);
    w.layers.resize(z(c.num_hidden_layers));
    for (auto& l : w.layers) {
        add(&l.attn_norm, H * 4, Kind::Gain);
        add(&l.qkv, z(c.qkv_width()) * H * 2, Kind::Bf16);
        add(&l.qkv_bias, z(c.qkv_width()) * 4, Kind::Bias);
        add(&l.sinks, z(c.num_attention_heads) * 4, Kind::Sinks);
        add(&l.out, H * z(c.q_width()) * 2, Kind::Bf16);
        add(&l.out_bias, H * 4, Kind::Bias);
        add(&l.mlp_norm, H * 4, Kind::Gain);
        add(&l.gate, E * H * 2, Kind::Bf16);
        add(&l.gate_bias, E * 4, Kind::Bias);
        add(&l.mlp1_blocks, E * 2 * I * H / 2, Kind::Mxfp4Blocks);
        add(&l.mlp1_scales, E * 2 * I * H / 32, Kind::Mxfp4Scales);
        add(&l.mlp1_bias, E * 2 * I * 4, Kind::Bias);
        add(&l.mlp2_blocks, E * H * I / 2, Kind::Mxfp4Blocks);
        add(&l.mlp2_scales, E * H * I / 32, Kind::Mxfp4Scales);
        add(&l.mlp2_bias, E * H * 4, Kind::Bias);
    }
    return p;
}

void allocate(DeviceWeights& w, std::vector<Planned>& planned) {
    std::size_t total = 0;
    for (auto& t : planned) {
        t.offset = total;
        total += (t.bytes + 255) / 256 * 256;
    }
    w.storage.grow(total);
    for (auto& t : planned) *t.slot = w.storage.get() + t.offset;
}

void copy(void* dst, const void* src, std::size_t bytes) {
    CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}

}  // namespace

DeviceWeights upload_weights(const Weights& weights) {
    for (const LayerWeights& l : weights.layers)
        if (l.mlp1.tiled_rows > 0 || l.mlp2.tiled_rows > 0)
            throw ModelError(
                "backend cuda: the experts were loaded in the CPU's 16-row tiles "
                "(LoadOptions::tile_experts); load the checkpoint without them for the GPU");
    DeviceWeights w;
    w.config = weights.config;
    auto planned = plan(w);
    allocate(w, planned);
    const ModelConfig& c = w.config;
    const std::size_t H = z(c.hidden_size), V = z(c.vocab_size);
    copy(w.embedding, weights.embedding.data, V * H * 2);
    copy(w.unembedding, weights.unembedding.data, V * H * 2);
    copy(w.final_norm, weights.final_norm.data(), H * 4);
    for (std::size_t i = 0; i < w.layers.size(); ++i) {
        const LayerWeights& s = weights.layers[i];
        DeviceLayer& d = w.layers[i];
        const std::size_t qw = z(c.q_width()), kvw = z(c.kv_width());
        auto vec = [](float* dst, const std::vector<float>& src) {
            copy(dst, src.data(), src.size() * 4);
        };
        vec(d.attn_norm, s.attn_norm);
        copy(d.qkv, s.q.data, qw * H * 2);
        copy(d.qkv + qw * H, s.k.data, kvw * H * 2);
        copy(d.qkv + (qw + kvw) * H, s.v.data, kvw * H * 2);
        vec(d.qkv_bias, s.qkv_bias);
        vec(d.sinks, s.sinks);
        copy(d.out, s.out.data, H * qw * 2);
        vec(d.out_bias, s.out_bias);
        vec(d.mlp_norm, s.mlp_norm);
        copy(d.gate, s.gate.data, z(c.num_experts) * H * 2);
        vec(d.gate_bias, s.gate_bias);
        const std::size_t m1 = z(s.mlp1.experts) * z(s.mlp1.rows) * z(s.mlp1.cols);
        copy(d.mlp1_blocks, s.mlp1.blocks, m1 / 2);
        copy(d.mlp1_scales, s.mlp1.scales, m1 / 32);
        vec(d.mlp1_bias, s.mlp1_bias);
        const std::size_t m2 = z(s.mlp2.experts) * z(s.mlp2.rows) * z(s.mlp2.cols);
        copy(d.mlp2_blocks, s.mlp2.blocks, m2 / 2);
        copy(d.mlp2_scales, s.mlp2.scales, m2 / 32);
        vec(d.mlp2_bias, s.mlp2_bias);
    }
    // A pageable cudaMemcpy may return before its DMA lands; the backend's stream does not
    // wait for the legacy stream.
    CUDA_CHECK(cudaDeviceSynchronize());
    return w;
}

DeviceWeights random_device_weights(const ModelConfig& config, std::uint64_t seed) {
    validate(config, "random weights");
    DeviceWeights w;
    w.config = config;
    auto planned = plan(w);
    allocate(w, planned);
    std::uint64_t tensor = 0;
    for (const auto& t : planned) {
        const std::uint64_t s = seed * 1000003ull + ++tensor;
        switch (t.kind) {
            case Kind::Bf16:  // uniform, about the spread of an N(0, 0.02^2) init
                fill_bf16(static_cast<std::uint16_t*>(*t.slot), t.bytes / 2, s, 0.035f, nullptr);
                break;
            case Kind::Gain:
                fill_f32(static_cast<float*>(*t.slot), t.bytes / 4, s, 1.0f, 0.1f, nullptr);
                break;
            case Kind::Bias:
                fill_f32(static_cast<float*>(*t.slot), t.bytes / 4, s, 0.0f, 0.02f, nullptr);
                break;
            case Kind::Sinks:
                fill_f32(static_cast<float*>(*t.slot), t.bytes / 4, s, 0.0f, 1.0f, nullptr);
                break;
            case Kind::Mxfp4Blocks:  // every nibble is a valid E2M1 value
                fill_u8(static_cast<std::uint8_t*>(*t.slot), t.bytes, s, 0, 256, nullptr);
                break;
            case Kind::Mxfp4Scales:  // 2^-9 .. 2^-6, as the golden checkpoints' scales
                fill_u8(static_cast<std::uint8_t*>(*t.slot), t.bytes, s, 118, 4, nullptr);
                break;
        }
    }
    CUDA_CHECK(cudaDeviceSynchronize());
    return w;
}

}  // namespace gossamer::engine::cuda
