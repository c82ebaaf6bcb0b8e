// The 16-row tile layout of an MXFP4 expert, which the CPU's int8 kernels read without
// transposing: the checkpoint stores each row's blocks together ([rows, cols/32, 16] bytes and
// [rows, cols/32] scales), so a product over sixteen rows reads sixteen separate streams and
// must transpose every block before a SIMD lane can hold a row. Tiled, rows 16t .. 16t+15
// keep their byte range but hold block g of all sixteen side by side as 256 bytes: four
// pieces of 64 bytes, piece k holding bytes 4k .. 4k+3 of row i at 4i (one dword per row,
// the rows in lane order), and the sixteen scales of block g as 16 bytes. Rows past the last
// full tile stay as stored. Only the layout and the in-place conversion live here; no
// kernel, no file handling.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gossamer::engine {

constexpr int kMxfp4TileRows = 16;

// Rows of a [rows, cols] expert that a conversion puts in tiles: the full tiles.
constexpr int mxfp4_tiled_rows(int rows) {
    return rows / kMxfp4TileRows * kMxfp4TileRows;
}

// Offset of byte j (0..15) of row r's block g in an expert's blocks, with `groups` = cols/32
// blocks per row and rows [0, tiled_rows) in tiles (0: the stored layout). Bytes 4k .. 4k+3
// of a block are always consecutive.
constexpr std::size_t mxfp4_byte_offset(int r, int g, int j, int groups, int tiled_rows) {
    const auto row_bytes = static_cast<std::size_t>(groups) * 16;
    if (r >= tiled_rows)
        return static_cast<std::size_t>(r) * row_bytes + 16 * static_cast<std::size_t>(g) +
               static_cast<std::size_t>(j);
    const int i = r % kMxfp4TileRows;
    return static_cast<std::size_t>(r - i) * row_bytes + 256 * static_cast<std::size_t>(g) +
           static_cast<std::size_t>(64 * (j / 4) + 4 * i + j % 4);
}

// Offset of row r's scale for block g in an expert's scales.
constexpr std::size_t mxfp4_scale_offset(int r, int g, int groups, int tiled_rows) {
    if (r >= tiled_rows)
        return static_cast<std::size_t>(r) * static_cast<std::size_t>(groups) +
               static_cast<std::size_t>(g);
    const int i = r % kMxfp4TileRows;
    return static_cast<std::size_t>(r - i) * static_cast<std::size_t>(groups) +
           static_cast<std::size_t>(kMxfp4TileRows) * static_cast<std::size_t>(g) +
           static_cast<std::size_t>(i);
}

// Converts one expert's [rows, cols] blocks and scales from the stored layout to tiles, in
// place; returns mxfp4_tiled_rows(rows). cols % 32 == 0.
int tile_mxfp4_expert(std::uint8_t* blocks, std::uint8_t* scales, int rows, int cols);

// The inverse: tiles back to the stored layout (tests, and anything that must hand the
// checkpoint's bytes on).
void untile_mxfp4_expert(std::uint8_t* blocks, std::uint8_t* scales, int rows, int cols);

}  // namespace gossamer::engine
