// Error checking for every CUDA runtime and cuBLAS call: a failure becomes a ModelError that
// names the call, the error and where it was made. Kernel launches are checked with
// CUDA_CHECK_LAUNCH("kernel") right after the launch.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "engine/model_error.h"

namespace gossamer::engine::cuda {

[[noreturn]] inline void throw_cuda(const char* what, cudaError_t err, const char* file, int line) {
    throw ModelError(std::string("cuda: ") + what + " failed: " + cudaGetErrorName(err) + " (" +
                     cudaGetErrorString(err) + ") at " + file + ":" + std::to_string(line));
}

[[noreturn]] inline void throw_cublas(const char* what, cublasStatus_t status, const char* file,
                                      int line) {
    throw ModelError(std::string("cublas: ") + what + " failed: status " +
                     std::to_string(static_cast<int>(status)) + " at " + file + ":" +
                     std::to_string(line));
}

}  // namespace gossamer::engine::cuda

#define CUDA_CHECK(call)                                                                    \
    do {                                                                                    \
        const cudaError_t gossamer_err_ = (call);                                           \
        if (gossamer_err_ != cudaSuccess)                                                   \
            ::gossamer::engine::cuda::throw_cuda(#call, gossamer_err_, __FILE__, __LINE__); \
    } while (0)

#define CUDA_CHECK_LAUNCH(kernel_name)                                                    \
    do {                                                                                  \
        const cudaError_t gossamer_err_ = cudaGetLastError();                             \
        if (gossamer_err_ != cudaSuccess)                                                 \
            ::gossamer::engine::cuda::throw_cuda("launch of " kernel_name, gossamer_err_, \
                                                 __FILE__, __LINE__);                     \
    } while (0)

#define CUBLAS_CHECK(call)                                                                       \
    do {                                                                                         \
        const cublasStatus_t gossamer_status_ = (call);                                          \
        if (gossamer_status_ != CUBLAS_STATUS_SUCCESS)                                           \
            ::gossamer::engine::cuda::throw_cublas(#call, gossamer_status_, __FILE__, __LINE__); \
    } while (0)
