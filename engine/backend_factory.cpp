#include "engine/backend_factory.h"

#include "engine/cpu/cpu_backend.h"
#include "engine/model_error.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "engine/cuda/cuda_backend.h"
#endif

namespace gossamer::engine {

bool cuda_backend_built() {
#ifdef GOSSAMER_HAVE_CUDA
    return true;
#else
    return false;
#endif
}

std::string resolve_backend(const std::string& kind) {
    if (kind != "cpu" && kind != "cuda" && kind != "auto")
        throw ModelError("backend must be cpu, cuda or auto, not '" + kind + "'");
    if (kind == "cpu") return "cpu";
#ifdef GOSSAMER_HAVE_CUDA
    std::string why;
    if (cuda::cuda_device_count(&why) > 0) return "cuda";
    if (kind == "cuda") throw ModelError("backend cuda: no usable GPU (" + why + ")");
    return "cpu";
#else
    if (kind == "cuda")
        throw ModelError(
            "backend cuda: this build has no CUDA backend (rebuild with nvcc installed, "
            "GOSSAMER_CUDA=ON)");
    return "cpu";
#endif
}

std::unique_ptr<Backend> make_backend(const Weights& weights, const BackendChoice& choice) {
    const std::string kind = resolve_backend(choice.kind);
#ifdef GOSSAMER_HAVE_CUDA
    if (kind == "cuda") {
        cuda::CudaOptions options;
        options.device = choice.device;
        return cuda::make_cuda_backend(weights, options);
    }
#endif
    cpu::CpuOptions options;
    options.threads = choice.threads;
    options.kv_precision = choice.kv_precision;
    options.expert_activations = choice.expert_activations;
    options.dense_activations = choice.dense_activations;
    return cpu::make_cpu_backend(weights, options);
}

}  // namespace gossamer::engine
