// Internal to the CPU matmul kernels: how an ISA file walks a range of tokens (or rows) in
// register tiles of a fixed size, each size its own instantiation (so the loops over a tile's
// tokens unroll). Included by each ISA file; everything here has internal linkage, so each file's
// copy is compiled with that file's -m flags and the linker never merges an AVX-512 copy
// into an AVX2 caller. No intrinsics here, nothing else.
#pragma once

namespace gossamer::engine::cpu::detail {
namespace {

// Calls tile.template operator()<T>(t) once, with T == left (0 < left < T + 1), at t.
template <int T, class Tile>
void rest_tile(int left, int t, const Tile& tile) {
    if constexpr (T > 0) {
        if (left == T) return tile.template operator()<T>(t);
        rest_tile<T - 1>(left, t, tile);
    }
}

// Calls tile.template operator()<T>(t) for the tokens [begin, end): with T = kTile while a
// whole tile fits, then once with the T < kTile that is left.
template <int kTile, class Tile>
void by_token_tiles(int begin, int end, const Tile& tile) {
    int t = begin;
    for (; t + kTile <= end; t += kTile) tile.template operator()<kTile>(t);
    rest_tile<kTile - 1>(end - t, t, tile);
}

}  // namespace
}  // namespace gossamer::engine::cpu::detail
