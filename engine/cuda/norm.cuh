// RMSNorm as cpu::rms_norm: y = x / sqrt(mean(x^2) + 1e-5) * gain, the sum of squares in
// double like the CPU (agreement to fp32 rounding). One block per row.
#pragma once

#include <cuda_runtime.h>

namespace gossamer::engine::cuda {

// y[i, :] = norm(x[rows ? rows[i] : i, :]) for i < count; x, y [*, width] fp32.
void rms_norm(const float* x, const int* rows, int count, int width, const float* gain, float* y,
              cudaStream_t stream);

}  // namespace gossamer::engine::cuda
