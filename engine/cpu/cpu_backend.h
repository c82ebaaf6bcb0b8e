// The CPU backend: the gpt-oss forward pass of gpt_oss/torch/model.py in fp32 activations,
// reading bf16 and MXFP4 weights in place (engine/weights.h), multi-threaded and vectorised
// through cpu/matmul.h. It must not sample or schedule (engine/sampler.h, engine/scheduler.h).
#pragma once

#include <memory>

#include "engine/backend.h"
#include "engine/cpu/matmul.h"
#include "engine/weights.h"

namespace gossamer::engine::cpu {

struct CpuOptions {
    int threads = 0;  // <= 0: one per hardware thread
    // Extra positions a sliding-window layer's ring keeps beyond the window, so that prefix
    // reuse can cut the cache back by up to this many tokens without recomputing from 0.
    int sliding_slack = 4096;
    // How the KV cache stores keys and values: bf16 halves its memory and its bytes on disk
    // (engine/kv_file.h); fp32 is exact to the reference (the golden tests).
    KvPrecision kv_precision = KvPrecision::Bf16;
    // How the MXFP4 expert matmuls take their activations (cpu/matmul.h): fp32 is exact to
    // the reference; int8 (llama.cpp's q8_0 precision) runs several times fewer instructions.
    Mxfp4Activations expert_activations = Mxfp4Activations::Fp32;
    // How the bf16 dense matmuls (attention, router, unembedding) take their activations:
    // fp32 is exact to the reference; bf16 (llama.cpp's and the bf16 reference model's
    // precision) runs twice the multiply-adds per instruction where AVX512_BF16 exists.
    DenseActivations dense_activations = DenseActivations::Fp32;
    // A prompt chunk's tokens at positions from here on attend in tiles of consecutive tokens
    // that read each key and value once (cpu/attention.h attend_tile; the same numbers as one
    // token at a time). Below it every token reads its keys itself, which is as fast while
    // they stay in the caches (gossamer_bench_attention: one token at a time is faster at 512
    // positions, tiles from 4K on; a whole prefill is 15% faster with tiles at 16K tokens).
    int attention_tile_from = 4096;
};

// `weights` must outlive the backend.
std::unique_ptr<Backend> make_cpu_backend(const Weights& weights, const CpuOptions& options = {});

}  // namespace gossamer::engine::cpu
