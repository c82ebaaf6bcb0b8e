// How the CPU backend's matmuls take their activations: the MXFP4 experts' (--expert-activations)
// and the bf16 dense matrices' (--dense-activations), backend options chosen by the CLI and
// carried by BackendChoice to the CPU backend's matmuls (cpu/matmul.h says what each means).
// It must not hold any computation.
#pragma once

namespace gossamer::engine {

// Fp32: exact (the reference's result to fp32 rounding). Int8: per 32-column block int8 with
// one fp32 scale, as llama.cpp's q8_0 for its MXFP4 experts.
enum class Mxfp4Activations { Fp32, Int8 };

inline const char* to_string(Mxfp4Activations activations) {
    return activations == Mxfp4Activations::Int8 ? "int8" : "fp32";
}

// Fp32: exact. Bf16: each activation rounded to bf16 (nearest, ties to even) before it meets
// the bf16 weights, as llama.cpp does for bf16 weights and the reference's bf16 torch model.
enum class DenseActivations { Fp32, Bf16 };

inline const char* to_string(DenseActivations activations) {
    return activations == DenseActivations::Bf16 ? "bf16" : "fp32";
}

}  // namespace gossamer::engine
