#include "engine/cuda/cublas_loader.h"

#include <dlfcn.h>

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

CublasApi load() {
    CublasApi api;
    void* library = nullptr;
    for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"})
        if ((library = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
    if (!library) {
        const char* why = dlerror();
        api.error = std::string("cannot load cuBLAS: ") + (why ? why : "not found");
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
