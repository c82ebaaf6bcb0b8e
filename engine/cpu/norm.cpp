#include "engine/cpu/norm.h"

#include <cmath>

namespace gossamer::engine::cpu {

void rms_norm(const float* x, int rows, int width, const float* gain, float* y) {
    for (int t = 0; t < rows; ++t) {
        const float* in = x + static_cast<std::ptrdiff_t>(t) * width;
        float* out = y + static_cast<std::ptrdiff_t>(t) * width;
        double sum = 0;  // a wide accumulator: 2880 squares summed in order lose little anyway
        for (int i = 0; i < width; ++i) sum += static_cast<double>(in[i]) * in[i];
        const float inv = 1.0f / std::sqrt(static_cast<float>(sum / width) + kRmsNormEps);
        for (int i = 0; i < width; ++i) out[i] = in[i] * inv * gain[i];
    }
}

}  // namespace gossamer::engine::cpu
