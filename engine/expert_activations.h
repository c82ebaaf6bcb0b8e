// How the MXFP4 expert matmuls take their activations: a backend option chosen by the CLI
// (--expert-activations) and carried by BackendChoice to the CPU backend's matmuls
// (cpu/matmul.h says what each means). It must not hold any computation.
#pragma once

namespace gossamer::engine {

// Fp32: exact (the reference's result to fp32 rounding). Int8: per 32-column block int8 with
// one fp32 scale, as llama.cpp's q8_0 for its MXFP4 experts.
enum class Mxfp4Activations { Fp32, Int8 };

inline const char* to_string(Mxfp4Activations activations) {
    return activations == Mxfp4Activations::Int8 ? "int8" : "fp32";
}

}  // namespace gossamer::engine
