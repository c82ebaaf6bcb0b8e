// YaRN rotary position embedding as gpt_oss/torch/model.py computes it: inv_freq blended
// between extrapolation and interpolation over the NTK-by-parts ramp, cos/sin scaled by the
// concentration 0.1*ln(s)+1, applied half-split (pairs i, i+d/2) to Q and K. fp32 like the
// reference. It rotates vectors in place; it must not know about caches or heads' layout.
#pragma once

#include <vector>

#include "engine/model_config.h"

namespace gossamer::engine::cpu {

class YarnRope {
  public:
    explicit YarnRope(const ModelConfig& config);

    // cos[i], sin[i] for i < head_dim/2 at absolute position `pos` (concentration included).
    void angles(int pos, float* cos, float* sin) const;
    // Rotates `heads` vectors of head_dim floats (contiguous) with the given angles.
    void rotate(float* x, int heads, const float* cos, const float* sin) const;

    int half() const { return half_; }
    float concentration() const { return concentration_; }
    const std::vector<float>& inv_freq() const { return inv_freq_; }

  private:
    int half_ = 0;
    float concentration_ = 1.0f;
    std::vector<float> inv_freq_;  // [head_dim/2]
};

}  // namespace gossamer::engine::cpu
