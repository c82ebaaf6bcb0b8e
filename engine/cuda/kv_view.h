// How kernels find a sequence's keys and values (plain data, no CUDA headers). Full-attention
// layers are paged: page P of the backend's pool holds kKvPage positions of every full layer,
// [page][full_layer][k|v][kKvPage][kv_width]; a sequence's page table maps position / kKvPage
// to P. Sliding layers keep a per-sequence ring [sliding_layer][k|v][ring_slots][kv_width],
// position p in slot p % ring_slots. Layer l is full layer l/2 (odd l) or sliding layer l/2.
#pragma once

#include <cstddef>

#if defined(__CUDACC__)
#define GOSSAMER_HD __host__ __device__ __forceinline__
#else
#define GOSSAMER_HD inline
#endif

namespace gossamer::engine::cuda {

inline constexpr int kKvPage = 64;  // positions per page of a full-attention layer

struct SeqKv {
    void* pool = nullptr;             // the backend's page pool (element type KV)
    const int* page_table = nullptr;  // device [max pages]
    void* ring = nullptr;             // device, element type KV
    int ring_slots = 0;
};

// One forward round: every token's absolute position and sequence.
struct RoundView {
    const int* positions = nullptr;  // device [tokens]
    const int* seq_of = nullptr;     // device [tokens], index into seqs
    const SeqKv* seqs = nullptr;     // device [sequences]
};

struct LayerShape {
    int heads = 0;
    int kv_heads = 0;
    int head_dim = 0;
    int full_layers = 0;  // number of full-attention layers (page stride)
    int layer_slot = 0;   // layer / 2
    int sliding = 0;      // 1 on even layers
    int window = 0;       // sliding window (keys pos-window+1 .. pos)
    GOSSAMER_HD int kv_width() const { return kv_heads * head_dim; }
    GOSSAMER_HD int q_width() const { return heads * head_dim; }
    GOSSAMER_HD int qkv_width() const { return q_width() + 2 * kv_width(); }
};

// Element offset of (kind 0 = key, 1 = value, position) in the pool or ring; head h's
// head_dim values follow at + h * head_dim.
GOSSAMER_HD std::size_t kv_offset(const SeqKv& s, const LayerShape& l, int kind, int pos) {
    const auto width = static_cast<std::size_t>(l.kv_width());
    if (l.sliding) {
        const auto slot = static_cast<std::size_t>(pos % s.ring_slots);
        return ((static_cast<std::size_t>(l.layer_slot) * 2 + static_cast<std::size_t>(kind)) *
                    static_cast<std::size_t>(s.ring_slots) +
                slot) *
               width;
    }
    const auto page = static_cast<std::size_t>(s.page_table[pos / kKvPage]);
    return (((page * static_cast<std::size_t>(l.full_layers) +
              static_cast<std::size_t>(l.layer_slot)) *
                 2 +
             static_cast<std::size_t>(kind)) *
                static_cast<std::size_t>(kKvPage) +
            static_cast<std::size_t>(pos % kKvPage)) *
           width;
}

template <typename KV>
GOSSAMER_HD KV* kv_base(const SeqKv& s, const LayerShape& l) {
    return static_cast<KV*>(l.sliding ? s.ring : s.pool);
}

}  // namespace gossamer::engine::cuda
