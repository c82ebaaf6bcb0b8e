// Byte-pair ranks of a tiktoken encoding: an open-addressing table from token bytes to rank,
// and tiktoken's merge loop (repeatedly merge the adjacent pair of lowest rank, leftmost on
// ties). Knows nothing of the pre-tokenizer, special tokens or text encodings.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gossamer::harmony {

class BpeRanks {
  public:
    static constexpr std::uint32_t kNoRank = UINT32_MAX;

    // Parses a tiktoken rank file (`<base64 bytes> <rank>` per line). Ranks must be dense
    // from 0 and every single byte must have one (so any input can be encoded). Throws
    // std::runtime_error naming `origin` and the line.
    static std::unique_ptr<BpeRanks> parse(std::string_view file, std::string_view origin);

    std::size_t size() const { return offsets_.size() - 1; }
    // Rank of exactly these bytes, or kNoRank.
    std::uint32_t find(std::string_view bytes) const;
    // Bytes of a rank < size().
    std::string_view bytes_of(std::uint32_t rank) const {
        return std::string_view(arena_).substr(offsets_[rank], offsets_[rank + 1] - offsets_[rank]);
    }
    // Appends the ranks of one pre-tokenized piece (non-empty) to out.
    void encode_piece(std::string_view piece, std::vector<std::uint32_t>& out) const;

  private:
    // The first 8 bytes of the key live in the slot, so a lookup of a key of up to 8 bytes
    // (almost every merge candidate) touches one cache line; longer keys finish in arena_.
    struct Slot {
        std::uint64_t prefix = 0;  // key bytes 0..7, zero-padded
        std::uint32_t rank = kNoRank;
        std::uint32_t length = 0;
    };

    void insert(std::uint32_t rank);
    std::uint32_t find_hashed(std::string_view bytes, std::uint64_t prefix,
                              std::uint64_t hash) const;
    void merge_short(std::string_view piece, std::vector<std::uint32_t>& out) const;
    void merge_long(std::string_view piece, std::vector<std::uint32_t>& out) const;

    std::string arena_;                   // all token bytes, concatenated in rank order
    std::vector<std::uint32_t> offsets_;  // rank -> offset in arena_; one extra at the end
    std::vector<Slot> slots_;
    std::uint64_t mask_ = 0;
    std::uint32_t byte_rank_[256] = {};
};

}  // namespace gossamer::harmony
