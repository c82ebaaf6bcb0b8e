// cuBLAS loaded on first use with dlopen (libcublas.so.<runtime major>) instead of
// linked: the gossamer binary starts without mapping cuBLAS/cuBLASLt (~600 MB of libraries)
// and runs where they are missing; the backend then uses its GEMV kernels for every batch.
#pragma once

#include <cublas_v2.h>

#include <string>

namespace gossamer::engine::cuda {

struct CublasApi {
    bool loaded = false;
    std::string error;  // why not, when !loaded
    cublasStatus_t (*create)(cublasHandle_t*) = nullptr;
    cublasStatus_t (*destroy)(cublasHandle_t) = nullptr;
    cublasStatus_t (*set_stream)(cublasHandle_t, cudaStream_t) = nullptr;
    cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                              const void*, const void*, cudaDataType, int, const void*,
                              cudaDataType, int, const void*, void*, cudaDataType, int,
                              cublasComputeType_t, cublasGemmAlgo_t) = nullptr;
};

// Loaded once per process (thread-safe); never unloaded.
const CublasApi& cublas_api();

}  // namespace gossamer::engine::cuda
