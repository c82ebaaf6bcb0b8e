// The CUDA backend: the gpt-oss forward pass of cpu/cpu_backend.cpp on one NVIDIA GPU. Weights
// stay in their stored formats on the device (bf16 matrices, MXFP4 experts 4-bit); activations
// and accumulation are fp32; the KV cache is bf16 (fp32 with `precise`). It must not sample or
// schedule. This header includes no CUDA header, so any code may include it; its functions
// exist only in builds with GOSSAMER_HAVE_CUDA (engine/backend_factory.h is the portable door).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/backend.h"
#include "engine/weights.h"

namespace gossamer::engine::cuda {

struct CudaOptions {
    int device = 0;
    // Extra positions a sliding-window layer's ring keeps beyond the window (what prefix
    // reuse may cut back without recomputing); as CpuOptions::sliding_slack.
    int sliding_slack = 1024;
    // fp32 KV cache and fp32 activations into every matmul (no bf16 rounding, no cuBLAS):
    // slow, for tests that compare against the CPU backend tightly.
    bool precise = false;
    // Device bytes for the paged KV of full-attention layers, shared by every cache of the
    // backend; 0 = half of the memory free after weights.
    std::uint64_t kv_pool_bytes = 0;
    // Batches of at most this many tokens use the GEMV kernels (weights read once per 8
    // tokens); larger ones use cuBLAS bf16 GEMMs and, for the experts, dequantise + GEMM.
    int gemv_max_tokens = 8;
};

// Device memory by purpose, in bytes.
struct CudaMemory {
    std::uint64_t weights = 0;
    std::uint64_t kv_pool = 0;    // full-layer pages (all caches)
    std::uint64_t kv_rings = 0;   // sliding-layer rings of live caches
    std::uint64_t workspace = 0;  // activations and scratch
    std::uint64_t device_total = 0;
    std::uint64_t device_free = 0;
};

// What tests and benchmarks may ask of the CUDA backend beyond Backend.
class CudaBackend : public Backend {
  public:
    // Marks positions size()..n-1 of `cache` as cached with random keys and values (a long
    // context for decode benchmarks without running the prefill). n <= max_tokens.
    virtual void fill_cache_random(KvCache& cache, int n, std::uint64_t seed) = 0;
    // false: forward() leaves the logits on the device and returns `logits` empty
    // (benchmarks of the model alone); default true.
    virtual void set_logits_to_host(bool on) = 0;
    virtual CudaMemory memory() const = 0;
    virtual void synchronize() = 0;
};

// GPUs the CUDA runtime reports (0 when there is no driver or no device), and why none.
int cuda_device_count(std::string* why_none = nullptr);

// `weights` is copied to the device and may be released after this returns.
std::unique_ptr<CudaBackend> make_cuda_backend(const Weights& weights,
                                               const CudaOptions& options = {});
// Random device weights of `config`'s real shapes, no checkpoint (benchmarks; 120b needs no
// 61 GB file). Values are a pure function of (seed, tensor, element).
std::unique_ptr<CudaBackend> make_cuda_backend_random(const ModelConfig& config, std::uint64_t seed,
                                                      const CudaOptions& options = {});

}  // namespace gossamer::engine::cuda
