// The 8-row tile layout of an MXFP4 expert, which the CPU's int8 kernels stream in one pass:
// the checkpoint stores each row's blocks together ([rows, cols/32, 16] bytes and [rows,
// cols/32] scales), so one token's product reads 8 rows as 16 separate streams. Tiled, rows
// 8t .. 8t+7 keep their byte range but hold block g of all eight rows side by side (128 bytes:
// rows 8t+i and 8t+i+4 in the two halves of 32 bytes i, the pairs a 256-bit register holds),
// and their scales as 8 bytes per block. Rows past the last full tile stay as stored. Only the
// layout and the in-place conversion live here; no kernel, no file handling.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gossamer::engine {

constexpr int kMxfp4TileRows = 8;

// Rows of a [rows, cols] expert that a conversion puts in tiles: the full tiles.
constexpr int mxfp4_tiled_rows(int rows) {
    return rows / kMxfp4TileRows * kMxfp4TileRows;
}

// Byte offset of row r's block g (16 bytes) in an expert's blocks, with `groups` = cols/32
// blocks per row and rows [0, tiled_rows) in tiles (0: the stored layout).
constexpr std::size_t mxfp4_block_offset(int r, int g, int groups, int tiled_rows) {
    const auto row_bytes = static_cast<std::size_t>(groups) * 16;
    if (r >= tiled_rows)
        return static_cast<std::size_t>(r) * row_bytes + 16 * static_cast<std::size_t>(g);
    const int i = r % kMxfp4TileRows;
    return static_cast<std::size_t>(r - i) * row_bytes + 128 * static_cast<std::size_t>(g) +
           static_cast<std::size_t>(32 * (i % 4) + 16 * (i / 4));
}

// Offset of row r's scale for block g in an expert's scales.
constexpr std::size_t mxfp4_scale_offset(int r, int g, int groups, int tiled_rows) {
    if (r >= tiled_rows)
        return static_cast<std::size_t>(r) * static_cast<std::size_t>(groups) +
               static_cast<std::size_t>(g);
    const int i = r % kMxfp4TileRows;
    return static_cast<std::size_t>(r - i) * static_cast<std::size_t>(groups) +
           8 * static_cast<std::size_t>(g) + static_cast<std::size_t>(i);
}

// Converts one expert's [rows, cols] blocks and scales from the stored layout to tiles, in
// place; returns mxfp4_tiled_rows(rows). cols % 32 == 0.
int tile_mxfp4_expert(std::uint8_t* blocks, std::uint8_t* scales, int rows, int cols);

// The inverse: tiles back to the stored layout (tests, and anything that must hand the
// checkpoint's bytes on).
void untile_mxfp4_expert(std::uint8_t* blocks, std::uint8_t* scales, int rows, int cols);

}  // namespace gossamer::engine
