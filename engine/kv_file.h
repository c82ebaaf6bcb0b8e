// A sequence's KV cache kept on disk, so that a new process (resume, the next chat turn, a
// fleet or server restart) computes only what is new. One file per sequence, append only: a
// header naming what the cache belongs to (the model's fingerprint, the backend, the precision
// and shape), then records, each the keys and values of positions [first, first + count) with
// their token ids, checksummed. A record whose first position is below the end of the ones
// before it cuts them there (the conversation changed). Sliding-window layers save only what
// their ring still holds. A missing, foreign, corrupt or truncated file is never trusted:
// restore() keeps the valid records before the first bad one, or nothing, and says why.
// It reads and writes caches through engine/kv_cache.h only; it must not compute.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/kv_cache.h"

namespace gossamer::engine {

// What a saved cache is valid for: "model <fingerprint>; backend cpu; kv bf16; layers 24;
// row 512; window 128", and "; experts int8" when the expert matmuls quantise their
// activations. A file written under another identity is ignored.
std::string kv_identity(const std::string& model_fingerprint, const Backend& backend,
                        const KvCache& sample);

struct KvDiskBudget {
    std::filesystem::path folder;  // every *.gkv in it counts
    std::uint64_t bytes = 0;       // 0: no limit
};

class KvFile {
  public:
    KvFile(std::filesystem::path path, std::string identity,
           std::optional<KvDiskBudget> budget = std::nullopt);

    const std::filesystem::path& path() const { return path_; }

    // A cache saved elsewhere that this one branches from: while this file does not exist,
    // restore() reads `seed` instead (a new conversation sharing a prefix with a saved one).
    void set_seed(std::filesystem::path seed) { seed_ = std::move(seed); }

    // The token ids the file's records hold, read without checking the rows (a hint for
    // choosing a seed: restore() checks everything). Empty for a missing or foreign file.
    std::vector<TokenId> saved_tokens();

    struct Restored {
        std::vector<TokenId> tokens;  // what the cache now holds (a prefix of the prompt)
        std::string warning;          // why less than the file's whole matching prefix
    };
    // Reads the file and puts into `cache` (which must be empty) the longest prefix of `prompt`
    // the file holds, at most `limit` positions, cut back further if a sliding layer lacks a
    // position that prefix needs. Never throws for the file's contents: problems come back as
    // the warning (and the cache is left empty).
    Restored restore(KvCache& cache, std::span<const TokenId> prompt, int limit);

    struct Saved {
        std::uint64_t bytes = 0;  // written by this call
        std::string warning;      // the save failed (disk full, permissions): nothing is trusted
        std::vector<std::filesystem::path> evicted;  // other caches removed for the budget
    };
    // Writes what `cache` holds (`tokens`, one per position) beyond what the file already has:
    // one record from the first position where they differ. Rewrites the file whole (to a
    // temporary, then renamed over it) when it is unknown, foreign, or mostly dead records.
    Saved save(const KvCache& cache, std::span<const TokenId> tokens);

    // A file is rewritten whole when its dead bytes pass both its live bytes and this floor
    // (default 64 MiB).
    void set_rewrite_floor(std::uint64_t bytes) { rewrite_floor_ = bytes; }

    // Bytes on disk, and of those the records still live (tests, benchmarks).
    std::uint64_t file_bytes() const { return file_bytes_; }
    std::uint64_t live_bytes() const;

    struct Record {                // one record's place in the file
        std::uint64_t offset = 0;  // of its payload
        int first = 0;
        int count = 0;            // live positions (a later record may cut it)
        int stored = 0;           // positions stored
        std::vector<int> from;    // per layer: first position whose keys and values are stored
        std::uint64_t bytes = 0;  // whole record
    };

  private:
    // Reads the header and records into records_/tokens_; `verify`: the rows' checksums too.
    bool scan(std::string& why, bool verify = true);
    // Takes a record (and its tokens) into records_/tokens_, cutting what it starts below.
    void add(Record r, std::span<const TokenId> tokens);
    Saved rewrite(const KvCache& cache, std::span<const TokenId> tokens);
    std::uint64_t write_record(std::FILE* f, const KvCache& cache, std::span<const TokenId> tokens,
                               int first);

    std::filesystem::path path_;
    std::filesystem::path seed_;
    std::string identity_;
    std::string header_;  // the file's first bytes for this identity
    std::optional<KvDiskBudget> budget_;
    bool known_ = false;  // records_/tokens_ describe the file as it is on disk
    std::vector<Record> records_;
    std::vector<TokenId> tokens_;
    std::uint64_t file_bytes_ = 0;
    std::uint64_t rewrite_floor_ = 64ull << 20;
};

// Removes the least recently used *.gkv files in `budget.folder` until the rest fit in
// `budget.bytes`, never `keep`. Returns what it removed.
std::vector<std::filesystem::path> enforce_kv_budget(const KvDiskBudget& budget,
                                                     const std::filesystem::path& keep = {});

}  // namespace gossamer::engine
