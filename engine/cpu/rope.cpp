#include "engine/cpu/rope.h"

#include <algorithm>
#include <cmath>

#include "engine/model_error.h"

namespace gossamer::engine::cpu {

YarnRope::YarnRope(const ModelConfig& config) : half_(config.head_dim / 2) {
    // Mirrors RotaryEmbedding._compute_concentration_and_inv_freq: freq and the ramp in fp32,
    // the scalars (concentration, low, high) in double as Python computes them.
    const double d_half = config.head_dim / 2.0;
    const double base = config.rope_theta;
    const double scale = config.rope_scaling_factor;
    inv_freq_.resize(static_cast<std::size_t>(half_));
    if (scale <= 1.0) {
        for (int i = 0; i < half_; ++i) {
            float freq = std::pow(static_cast<float>(base),
                                  static_cast<float>(2 * i) / static_cast<float>(config.head_dim));
            inv_freq_[static_cast<std::size_t>(i)] = 1.0f / freq;
        }
        return;
    }
    concentration_ = static_cast<float>(0.1 * std::log(scale) + 1.0);
    const double two_pi = 2.0 * M_PI;
    const double context = config.initial_context_length;
    const double low =
        d_half * std::log(context / (config.rope_ntk_beta * two_pi)) / std::log(base);
    const double high =
        d_half * std::log(context / (config.rope_ntk_alpha * two_pi)) / std::log(base);
    if (!(0 < low && low < high && high < d_half - 1))
        throw ModelError(
            "rope: YaRN needs 0 < low < high < head_dim/2 - 1 (check rope_theta, "
            "initial_context_length, rope_ntk_alpha/beta)");
    for (int i = 0; i < half_; ++i) {
        float freq = std::pow(static_cast<float>(base),
                              static_cast<float>(2 * i) / static_cast<float>(config.head_dim));
        float interpolation = 1.0f / (static_cast<float>(scale) * freq);
        float extrapolation = 1.0f / freq;
        float ramp =
            (static_cast<float>(i) - static_cast<float>(low)) / static_cast<float>(high - low);
        float mask = 1.0f - std::clamp(ramp, 0.0f, 1.0f);
        inv_freq_[static_cast<std::size_t>(i)] =
            interpolation * (1.0f - mask) + extrapolation * mask;
    }
}

void YarnRope::angles(int pos, float* cos, float* sin) const {
    const float p = static_cast<float>(pos);
    for (int i = 0; i < half_; ++i) {
        // The product is rounded to fp32 first, as torch's einsum over fp32 tensors does.
        const float angle = p * inv_freq_[static_cast<std::size_t>(i)];
        cos[i] = static_cast<float>(std::cos(static_cast<double>(angle))) * concentration_;
        sin[i] = static_cast<float>(std::sin(static_cast<double>(angle))) * concentration_;
    }
}

void YarnRope::rotate(float* x, int heads, const float* cos, const float* sin) const {
    for (int h = 0; h < heads; ++h) {
        float* x1 = x + static_cast<std::ptrdiff_t>(h) * 2 * half_;
        float* x2 = x1 + half_;
        for (int i = 0; i < half_; ++i) {
            const float a = x1[i], b = x2[i];
            x1[i] = a * cos[i] - b * sin[i];
            x2[i] = b * cos[i] + a * sin[i];
        }
    }
}

}  // namespace gossamer::engine::cpu
