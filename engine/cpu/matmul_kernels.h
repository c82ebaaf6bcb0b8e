// Internal to the CPU matmul: the table of row-range kernels each instruction set provides
// (matmul.cpp, matmul_avx2.cpp, matmul_avx512.cpp, matmul_avx512_vnni.cpp,
// matmul_avx512_bf16.cpp) and the arguments
// they share. matmul.cpp owns dispatch, threading and the activation packing; a kernel only
// computes rows
// [row_begin, row_end) for every token. Nothing here may be inline code or a template: each
// ISA file is compiled with its own -m flags, and a shared inline function could be linked
// in its AVX-512 form and then run on a CPU without AVX-512.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gossamer::engine::cpu::detail {

// How a kernel wants the activations laid out: each full group of `group` columns permuted so
// that packed position i holds column order[i] of the group (the order its SIMD registers
// hold the decoded weights in); the last cols % group columns stay in natural order.
// group == 0: natural order throughout, no copy.
struct Packing {
    int group;
    const std::uint8_t* order;  // [group]
};

struct MatmulArgs {
    // Activations [tokens, cols], row stride ldx, packed as the kernel's Packing says.
    const float* x = nullptr;
    std::size_t ldx = 0;
    // bf16 activations (bf16_bf16 kernels only), row stride ldxb, 64-byte aligned rows: in each
    // full 32-column group, dword i holds column 2i + 1 in its low half and column 2i in its
    // high half; the last cols % 32 columns in natural order.
    const std::uint16_t* xb = nullptr;
    std::size_t ldxb = 0;
    int tokens = 0;
    int cols = 0;
    const std::uint16_t* w_bf16 = nullptr;  // [rows, cols]
    const std::uint8_t* blocks = nullptr;   // [rows, cols/32, 16]
    const std::uint8_t* scales = nullptr;   // [rows, cols/32]
    const float* mxfp4_lut = nullptr;  // [256][16]: mxfp4_value(nibble, scale), 64-byte aligned
    const float* bias = nullptr;       // [rows] or null
    float* y = nullptr;                // [tokens, ldy]
    std::size_t ldy = 0;
    // Int8 activations (Int8Kernel only), in the q8 block layout: for each token and each
    // 32-column block, its 16 even columns then its 16 odd ones (the order of a block's low
    // nibbles, then its high ones) as int8 q, at xq + t * ldq + 32 * g; and per block at
    // t * lds + g: xd, the scale (x ~= q * xd), and xs = 12 * sum(q), which the kernels
    // subtract from sum(w * q) because they multiply q by the unsigned weights 2 * e2m1 + 12.
    const std::int8_t* xq = nullptr;
    std::size_t ldq = 0;
    const float* xd = nullptr;
    const std::int32_t* xs = nullptr;
    std::size_t lds = 0;
    // Int8 kernels: rows [0, tiled_rows) of blocks and scales are in 16-row tiles
    // (engine/mxfp4_tiles.h: a tile's block g is 256 bytes at 16 * cols/2 * t + 256 g, four
    // 64-byte pieces with one dword per row; its scales 16 bytes at 16 * cols/32 * t + 16 g);
    // rows past it as stored. The fp32 MXFP4 kernels see 0 only. A kernel's row range always
    // starts at a multiple of 16 (matmul.cpp hands rows out in such units).
    int tiled_rows = 0;
};

using RowKernel = void (*)(const MatmulArgs& args, int row_begin, int row_end);

// Helpers the ISA files share, compiled once in matmul.cpp without ISA flags (callable from
// every kernel, never inlined into one):
// A thread's scratch buffer of at least `bytes`, 64-byte aligned; the next call on the same
// thread may move it (a kernel asks once per row range, never nested). Freed with the thread.
std::uint8_t* kernel_scratch(std::size_t bytes);

// Where row r of an MXFP4 product's weights lies, in either layout: bytes 4k .. 4k+3 of its
// block g at blocks + g * step + k * piece (piece 4 as stored: the block's 16 bytes are
// consecutive; 64 in a tile), its scale at scales[g * scale_step].
struct Mxfp4RowAt {
    const std::uint8_t* blocks;
    std::size_t step;
    std::size_t piece;
    const std::uint8_t* scales;
    std::size_t scale_step;
};
Mxfp4RowAt mxfp4_row_at(const MatmulArgs& args, int r);

// Whether rows [r0, r1) of an MXFP4 product are whole 16-row tiles.
bool mxfp4_whole_tiles(const MatmulArgs& args, int r0, int r1);

// MXFP4 x int8 activations: per row and token, acc = 0 and for each block g in order
// acc = fma(float(sum(w * q) - xs), 2^(scale-128) * xd, acc) (w = 2 * e2m1 + 12, the integer
// sum exact, the product of scales rounded to float), then y = bias + acc. Every kernel does
// exactly these float operations, so its results are equal bit for bit across kernels, token
// counts and threads.
constexpr std::int8_t kInt8WeightOffset = 12;
// w for each nibble: 2 * e2m1 + kInt8WeightOffset (0..24, unsigned for vpmaddubsw). Data,
// not code: every kernel builds its lookup from this one table.
constexpr std::uint8_t kUnsignedE2M1x2[16] = {12, 13, 14, 15, 16, 18, 20, 24,
                                              12, 11, 10, 9,  8,  6,  4,  0};

struct MatmulKernels {
    const char* name;  // "portable", "avx2", "avx512", "avx512vnni"
    Packing bf16_packing;
    RowKernel bf16;
    Packing mxfp4_packing;
    RowKernel mxfp4;
    RowKernel mxfp4_int8;  // null: use the next implementation down that has one
    // bf16 weights x bf16 activations (xb): the bf16 kernel's results on the activations
    // rounded to bf16, bit for bit. null: matmul.cpp rounds them and calls bf16.
    RowKernel bf16_bf16;
};

// Each returns null when the file was not compiled for x86-64.
const MatmulKernels* portable_kernels();
const MatmulKernels* avx2_kernels();
const MatmulKernels* avx512_kernels();
const MatmulKernels* avx512vnni_kernels();  // avx512's, with a VNNI int8 kernel
const MatmulKernels* avx512bf16_kernels();  // avx512vnni's, with a vdpbf16ps bf16_bf16 kernel

}  // namespace gossamer::engine::cpu::detail
