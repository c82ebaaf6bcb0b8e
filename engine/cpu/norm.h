// RMSNorm as the reference computes it: fp32 mean of squares, rsqrt(mean + eps), then the
// gain multiply in fp32 (no bias, no 1+w offset). Rows are independent; no state.
#pragma once

#include <cstddef>

namespace gossamer::engine::cpu {

inline constexpr float kRmsNormEps = 1e-5f;

// y[t, :] = x[t, :] * rsqrt(mean(x[t, :]^2) + eps) * gain, for t < rows; width columns.
void rms_norm(const float* x, int rows, int width, const float* gain, float* y);

}  // namespace gossamer::engine::cpu
