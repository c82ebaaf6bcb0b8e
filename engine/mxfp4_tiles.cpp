#include "engine/mxfp4_tiles.h"

#include <cstring>
#include <vector>

namespace gossamer::engine {
namespace {

// Each tile keeps its byte range, so it converts on its own through a copy of that range.
template <bool kToTiles>
void convert(std::uint8_t* blocks, std::uint8_t* scales, int rows, int cols) {
    const int groups = cols / 32;
    const int tiled = mxfp4_tiled_rows(rows);
    const auto tile_blocks = static_cast<std::size_t>(groups) * 16 * kMxfp4TileRows;
    const auto tile_scales = static_cast<std::size_t>(groups) * kMxfp4TileRows;
    std::vector<std::uint8_t> b(tile_blocks), s(tile_scales);
    for (int r0 = 0; r0 < tiled; r0 += kMxfp4TileRows) {
        std::uint8_t* tb = blocks + mxfp4_byte_offset(r0, 0, 0, groups, 0);
        std::uint8_t* ts = scales + mxfp4_scale_offset(r0, 0, groups, 0);
        std::memcpy(b.data(), tb, tile_blocks);
        std::memcpy(s.data(), ts, tile_scales);
        for (int i = 0; i < kMxfp4TileRows; ++i)
            for (int g = 0; g < groups; ++g) {
                // Offsets within the tile: the stored row i, and the same row tiled; a block
                // moves as four runs of 4 bytes.
                for (int j = 0; j < 16; j += 4) {
                    const std::size_t stored_b = mxfp4_byte_offset(i, g, j, groups, 0);
                    const std::size_t tiled_b = mxfp4_byte_offset(i, g, j, groups, kMxfp4TileRows);
                    std::memcpy(tb + (kToTiles ? tiled_b : stored_b),
                                b.data() + (kToTiles ? stored_b : tiled_b), 4);
                }
                const std::size_t stored_s = mxfp4_scale_offset(i, g, groups, 0);
                const std::size_t tiled_s = mxfp4_scale_offset(i, g, groups, kMxfp4TileRows);
                ts[kToTiles ? tiled_s : stored_s] = s[kToTiles ? stored_s : tiled_s];
            }
    }
}

}  // namespace

int tile_mxfp4_expert(std::uint8_t* blocks, std::uint8_t* scales, int rows, int cols) {
    convert<true>(blocks, scales, rows, cols);
    return mxfp4_tiled_rows(rows);
}

void untile_mxfp4_expert(std::uint8_t* blocks, std::uint8_t* scales, int rows, int cols) {
    convert<false>(blocks, scales, rows, cols);
}

}  // namespace gossamer::engine
