// gpt-oss model hyper-parameters (original/config.json) and what follows from them. Pure data
// plus parsing, presets and validation; it must not touch files or weights.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace gossamer::engine {

struct ModelConfig {
    int num_hidden_layers = 36;
    int num_experts = 128;
    int experts_per_token = 4;
    int vocab_size = 201088;
    int hidden_size = 2880;
    int intermediate_size = 2880;  // per expert; mlp1 has 2x rows (gate/linear interleaved)
    float swiglu_limit = 7.0f;
    int head_dim = 64;
    int num_attention_heads = 64;
    int num_key_value_heads = 8;
    int sliding_window = 128;  // keys i-127..i on even layers
    int initial_context_length = 4096;
    float rope_theta = 150000.0f;
    float rope_scaling_factor = 32.0f;
    float rope_ntk_alpha = 1.0f;
    float rope_ntk_beta = 32.0f;

    int q_width() const { return num_attention_heads * head_dim; }   // 4096
    int kv_width() const { return num_key_value_heads * head_dim; }  // 512
    int qkv_width() const { return q_width() + 2 * kv_width(); }     // 5120
    int group_size() const { return num_attention_heads / num_key_value_heads; }
    int max_context() const {  // 131072
        return static_cast<int>(static_cast<float>(initial_context_length) * rope_scaling_factor);
    }
    static bool is_sliding(int layer) { return layer % 2 == 0; }

    bool operator==(const ModelConfig&) const = default;
};

// Parses original/config.json (or the HF config.json: num_local_experts, rope_scaling, ...).
// Unknown keys are ignored only in the HF form; missing required keys and out-of-range values
// throw ModelError naming `source` and the field.
ModelConfig config_from_json(const nlohmann::json& json, std::string_view source);
nlohmann::json config_to_json(const ModelConfig& config);  // the original/ form
// "20b", "120b" (the official values) and "tiny" (a small model for tests); throws
// ModelError for other names.
ModelConfig config_preset(std::string_view name);
// Throws ModelError when values are inconsistent (hidden % 32, heads % kv_heads, ...).
void validate(const ModelConfig& config, std::string_view source);

}  // namespace gossamer::engine
