// The CPU backend's matrix products, with weights in their stored formats: bf16 matrices and
// MXFP4 experts decoded inside the inner loop (never upcast in memory). fp32 activations and
// accumulation, or for MXFP4 optionally int8 activations (Mxfp4Activations). The best
// implementation for this CPU (AVX-512, AVX2+FMA or portable C++) is chosen once at run time. Rows
// are split across the thread pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cpu/thread_pool.h"
#include "engine/expert_activations.h"

namespace gossamer::engine::cpu {

using engine::DenseActivations;

// y[t, r] = bias[r] + sum_c x[t, c] * W[r, c]   for t < tokens, r < rows, c < cols.
// x: [tokens, cols] with row stride ldx; y: [tokens, rows] with row stride ldy (>= rows);
// W: [rows, cols] bf16 row-major; bias may be null. x and y must not overlap.
// DenseActivations::Bf16: x rounded to bf16 first (float_to_bf16); the results are then the
// Fp32 path's on the rounded x, bit for bit on every implementation (AVX-512 BF16's vdpbf16ps
// flushes subnormals, the others do not), at twice the multiply-adds per instruction there.
void matmul_bf16(const float* x, std::size_t ldx, int tokens, const std::uint16_t* w, int rows,
                 int cols, const float* bias, float* y, std::size_t ldy, ThreadPool& pool,
                 DenseActivations activations = DenseActivations::Fp32);

// The same with W in MXFP4: for each row, cols/32 blocks of 16 bytes (low nibble = even
// column) and cols/32 E8M0 scales (value * 2^(scale-127)). cols % 32 == 0.
void matmul_mxfp4(const float* x, std::size_t ldx, int tokens, const std::uint8_t* blocks,
                  const std::uint8_t* scales, int rows, int cols, const float* bias, float* y,
                  std::size_t ldy, ThreadPool& pool);

// How an MXFP4 product takes its activations. Fp32: exact (the reference's result to fp32
// rounding). Int8: each token's row quantised per 32-column block to int8 with one fp32 scale
// (amax / 127, round to nearest, as llama.cpp's q8_0 does for its MXFP4 experts), the weights
// as int8 (2 x the e2m1 value) and each block's product summed in exact integers, then
// scaled by the block's two scales in fp32: several times fewer instructions per weight than
// decoding to fp32, at up to half a quantisation step (amax / 254) of error per activation.
using engine::Mxfp4Activations;

// matmul_mxfp4 with int8 activations (Mxfp4Activations::Int8); the same arguments, and
// rows [0, tiled_rows) of W may be in 16-row tiles (engine/mxfp4_tiles.h; tiled_rows % 16 == 0),
// which a one-token product streams fastest. The results do not depend on the layout.
void matmul_mxfp4_int8(const float* x, std::size_t ldx, int tokens, const std::uint8_t* blocks,
                       const std::uint8_t* scales, int rows, int cols, const float* bias, float* y,
                       std::size_t ldy, ThreadPool& pool, int tiled_rows = 0);

// One MXFP4 product of a batch: matmul_mxfp4's arguments.
struct Mxfp4Product {
    const float* x = nullptr;
    std::size_t ldx = 0;
    int tokens = 0;
    const std::uint8_t* blocks = nullptr;
    const std::uint8_t* scales = nullptr;
    int rows = 0, cols = 0;
    const float* bias = nullptr;
    float* y = nullptr;
    std::size_t ldy = 0;
    int tiled_rows = 0;  // int8 activations only: matmul_mxfp4_int8's tiled_rows
};

// Runs several MXFP4 products (the experts of a MoE layer) with the results of
// matmul_mxfp4 on each, but as one parallel loop over all their rows when they are small
// (decode, short batches): one wake-up and one barrier instead of one per product, and the
// threads stay busy across the products' boundaries. Large products run one at a time.
// Throws std::invalid_argument for tiled experts with fp32 activations (no such kernel).
void matmul_mxfp4_batch(std::span<const Mxfp4Product> products, ThreadPool& pool,
                        Mxfp4Activations activations = Mxfp4Activations::Fp32);

// Which implementation the dispatcher picked: "avx512bf16", "avx512vnni", "avx512", "avx2", or
// "portable". Chosen at first use: the best this CPU supports, or the environment variable
// GOSSAMER_CPU_ISA (one of those names) as an upper bound (the best supported at or below it).
const char* matmul_isa();

// What GOSSAMER_CPU_ISA=`requested` selects on this CPU: the best supported implementation at
// or below it; the best overall when `requested` is empty or unknown.
const char* resolve_matmul_isa(std::string_view requested);

// The implementations this CPU can run, best first (always ends with "portable").
std::vector<std::string> supported_matmul_isas();

// Switches the implementation for the whole process (tests, benchmarks; not while a matmul
// runs). Returns false and changes nothing if `isa` is unknown or this CPU lacks it.
bool select_matmul_isa(std::string_view isa);

// Exact reference conversions (also used by tests and the loader).
float bf16_to_float(std::uint16_t bits);
std::uint16_t float_to_bf16(float value);                    // round to nearest even; NaN stays NaN
float mxfp4_value(std::uint8_t nibble, std::uint8_t scale);  // LUT[nibble] * 2^(scale-127)

}  // namespace gossamer::engine::cpu
