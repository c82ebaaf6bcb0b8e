#include "engine/cuda/cublas_loader.h"

#include <cuda_runtime.h>
#include <dlfcn.h>

#include <cstdlib>
#include <vector>

namespace gossamer::engine::cuda {
namespace {

template <typename F>
bool resolve(void* library, const char* name, F& out, std::string& error) {
    void* symbol = dlsym(library, name);
    if (!symbol) {
        error = std::string("cuBLAS has no symbol ") + name;
        return false;
    }
    out = reinterpret_cast<F>(symbol);
    return true;
}

// The cuBLAS of the CUDA major version this binary's runtime belongs to: another major links
// its own libcudart and must not be mixed with ours. GOSSAMER_CUBLAS names a file to try
// first; the toolkit's lib64 is tried after the loader's search path (often not in it).
CublasApi load() {
    CublasApi api;
    const std::string major = std::to_string(CUDART_VERSION / 1000);
    std::vector<std::string> names;
    if (const char* path = std::getenv("GOSSAMER_CUBLAS"); path && *path) names.emplace_back(path);
    names.push_back("libcublas.so." + major);
    names.push_back("/usr/local/cuda/lib64/libcublas.so." + major);
    names.push_back("/usr/local/cuda-" + major + ".0/lib64/libcublas.so." + major);
    void* library = nullptr;
    std::string why = "not found";
    for (const auto& name : names) {
        if ((library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL))) break;
        if (const char* e = dlerror()) why = e;
    }
    if (!library) {
        api.error = "cannot load cuBLAS " + major + " (" + why + ")";
        return api;
    }
    api.loaded = resolve(library, "cublasCreate_v2", api.create, api.error) &&
                 resolve(library, "cublasDestroy_v2", api.destroy, api.error) &&
                 resolve(library, "cublasSetStream_v2", api.set_stream, api.error) &&
                 resolve(library, "cublasGemmEx", api.gemm_ex, api.error);
    return api;
}

}  // namespace

const CublasApi& cublas_api() {
    static const CublasApi api = load();
    return api;
}

}  // namespace gossamer::engine::cuda
