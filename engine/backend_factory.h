// Picks and builds a compute backend by name, for the CLI: "cpu", "cuda", or "auto" (cuda
// when this build has the CUDA backend and a GPU is present, else cpu). Builds without CUDA
// compile this too and say so when cuda is asked for.
#pragma once

#include <memory>
#include <string>

#include "engine/backend.h"
#include "engine/expert_activations.h"
#include "engine/weights.h"

namespace gossamer::engine {

struct BackendChoice {
    std::string kind = "auto";                     // cpu | cuda | auto
    int threads = 0;                               // cpu: <= 0 one per hardware thread
    int device = 0;                                // cuda: which GPU
    KvPrecision kv_precision = KvPrecision::Bf16;  // cpu (cuda: its own option)
    Mxfp4Activations expert_activations = Mxfp4Activations::Fp32;  // cpu (cuda: fp32)
    DenseActivations dense_activations = DenseActivations::Fp32;   // cpu (cuda: its own)
};

// true when this binary contains the CUDA backend.
bool cuda_backend_built();

// "cpu" or "cuda": what `kind` means on this machine. Throws ModelError for an unknown kind,
// and for "cuda" when the build has no CUDA backend ("this build has no CUDA backend") or no
// GPU is usable (with the driver's reason).
std::string resolve_backend(const std::string& kind);

// The backend resolve_backend(choice.kind) names. `weights` must outlive a CPU backend (the
// CUDA backend copies them to the device).
std::unique_ptr<Backend> make_backend(const Weights& weights, const BackendChoice& choice);

}  // namespace gossamer::engine
