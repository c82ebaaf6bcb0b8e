#include "engine/model_config.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/model_error.h"

namespace gossamer::engine {
namespace {

[[noreturn]] void fail(std::string_view source, const std::string& what) {
    throw ModelError(std::string(source) + ": " + what);
}

int get_int(const nlohmann::json& j, const char* key, std::string_view source) {
    if (!j.contains(key)) fail(source, std::string("missing field '") + key + "'");
    const auto& v = j.at(key);
    if (!v.is_number_integer()) fail(source, std::string("field '") + key + "' must be an integer");
    const auto value = v.get<long long>();
    if (value < 0 || value > 1'000'000'000)
        fail(source, std::string("field '") + key + "' is out of range: " + std::to_string(value));
    return static_cast<int>(value);
}

float get_float(const nlohmann::json& j, const char* key, std::string_view source) {
    if (!j.contains(key)) fail(source, std::string("missing field '") + key + "'");
    const auto& v = j.at(key);
    if (!v.is_number()) fail(source, std::string("field '") + key + "' must be a number");
    const double value = v.get<double>();
    if (!std::isfinite(value)) fail(source, std::string("field '") + key + "' must be finite");
    return static_cast<float>(value);
}

}  // namespace

ModelConfig config_from_json(const nlohmann::json& j, std::string_view source) {
    if (!j.is_object()) fail(source, "config must be a JSON object");
    ModelConfig c;
    const bool hf = j.contains("num_local_experts") || j.contains("rope_scaling");
    c.num_hidden_layers = get_int(j, "num_hidden_layers", source);
    c.num_experts = get_int(j, hf ? "num_local_experts" : "num_experts", source);
    c.experts_per_token = get_int(j, hf ? "num_experts_per_tok" : "experts_per_token", source);
    c.vocab_size = get_int(j, "vocab_size", source);
    c.hidden_size = get_int(j, "hidden_size", source);
    c.intermediate_size = get_int(j, "intermediate_size", source);
    if (j.contains("swiglu_limit")) c.swiglu_limit = get_float(j, "swiglu_limit", source);
    c.head_dim = get_int(j, "head_dim", source);
    c.num_attention_heads = get_int(j, "num_attention_heads", source);
    c.num_key_value_heads = get_int(j, "num_key_value_heads", source);
    c.sliding_window = get_int(j, "sliding_window", source);
    c.rope_theta = get_float(j, "rope_theta", source);
    if (hf) {
        if (!j.contains("rope_scaling") || !j["rope_scaling"].is_object())
            fail(source, "missing object 'rope_scaling'");
        const auto& r = j["rope_scaling"];
        c.rope_scaling_factor = get_float(r, "factor", source);
        c.rope_ntk_beta = get_float(r, "beta_fast", source);
        c.rope_ntk_alpha = get_float(r, "beta_slow", source);
        c.initial_context_length = get_int(r, "original_max_position_embeddings", source);
    } else {
        c.initial_context_length = get_int(j, "initial_context_length", source);
        c.rope_scaling_factor = get_float(j, "rope_scaling_factor", source);
        c.rope_ntk_alpha = get_float(j, "rope_ntk_alpha", source);
        c.rope_ntk_beta = get_float(j, "rope_ntk_beta", source);
    }
    validate(c, source);
    return c;
}

nlohmann::json config_to_json(const ModelConfig& c) {
    return nlohmann::json{{"num_hidden_layers", c.num_hidden_layers},
                          {"num_experts", c.num_experts},
                          {"experts_per_token", c.experts_per_token},
                          {"vocab_size", c.vocab_size},
                          {"hidden_size", c.hidden_size},
                          {"intermediate_size", c.intermediate_size},
                          {"swiglu_limit", c.swiglu_limit},
                          {"head_dim", c.head_dim},
                          {"num_attention_heads", c.num_attention_heads},
                          {"num_key_value_heads", c.num_key_value_heads},
                          {"sliding_window", c.sliding_window},
                          {"initial_context_length", c.initial_context_length},
                          {"rope_theta", c.rope_theta},
                          {"rope_scaling_factor", c.rope_scaling_factor},
                          {"rope_ntk_alpha", c.rope_ntk_alpha},
                          {"rope_ntk_beta", c.rope_ntk_beta}};
}

ModelConfig config_preset(std::string_view name) {
    ModelConfig c;  // the defaults are gpt-oss-120b's
    if (name == "120b") return c;
    if (name == "20b") {
        c.num_hidden_layers = 24;
        c.num_experts = 32;
        return c;
    }
    if (name == "tiny") {
        c.num_hidden_layers = 4;
        c.num_experts = 8;
        c.vocab_size = 512;
        c.hidden_size = 128;
        c.intermediate_size = 128;
        c.num_attention_heads = 4;
        c.num_key_value_heads = 2;
        c.sliding_window = 16;
        return c;
    }
    if (name == "nano") {  // the real vocabulary at toy width: end-to-end runs on real prompts
        c.num_hidden_layers = 2;
        c.num_experts = 8;
        c.hidden_size = 128;
        c.intermediate_size = 128;
        c.num_attention_heads = 4;
        c.num_key_value_heads = 2;
        return c;
    }
    throw ModelError("unknown preset '" + std::string(name) + "' (known: 20b, 120b, tiny, nano)");
}

void validate(const ModelConfig& c, std::string_view source) {
    auto require = [&](bool ok, const std::string& what) {
        if (!ok) fail(source, what);
    };
    require(c.num_hidden_layers >= 1, "num_hidden_layers must be >= 1");
    require(c.num_experts >= 1, "num_experts must be >= 1");
    require(c.experts_per_token >= 1 && c.experts_per_token <= c.num_experts,
            "experts_per_token must be in 1..num_experts");
    require(c.vocab_size >= 1, "vocab_size must be >= 1");
    require(c.hidden_size >= 32 && c.hidden_size % 32 == 0,
            "hidden_size must be a positive multiple of 32 (MXFP4 blocks)");
    require(c.intermediate_size >= 32 && c.intermediate_size % 32 == 0,
            "intermediate_size must be a positive multiple of 32 (MXFP4 blocks)");
    require(c.head_dim >= 2 && c.head_dim % 2 == 0, "head_dim must be even");
    require(c.num_key_value_heads >= 1 && c.num_attention_heads >= c.num_key_value_heads &&
                c.num_attention_heads % c.num_key_value_heads == 0,
            "num_attention_heads must be a multiple of num_key_value_heads");
    require(c.sliding_window >= 1, "sliding_window must be >= 1");
    require(c.initial_context_length >= 1, "initial_context_length must be >= 1");
    require(c.rope_theta > 1, "rope_theta must be > 1");
    require(c.rope_scaling_factor >= 1, "rope_scaling_factor must be >= 1");
    require(c.swiglu_limit > 0, "swiglu_limit must be > 0");
    require(static_cast<double>(c.initial_context_length) * c.rope_scaling_factor <= 1 << 24,
            "initial_context_length * rope_scaling_factor is too large");
}

}  // namespace gossamer::engine
