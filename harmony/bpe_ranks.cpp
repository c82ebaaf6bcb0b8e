#include "harmony/bpe_ranks.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <queue>
#include <stdexcept>

namespace gossamer::harmony {
namespace {

std::uint64_t load64(const char* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
std::uint64_t load32(const char* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// The first min(n, 8) bytes of p as a little-endian number, zero-padded, without reading
// past p + n (pieces can end at the end of the caller's buffer).
std::uint64_t load_prefix(const char* p, std::size_t n) {
    if (n >= 8) return load64(p);
    if (n >= 4) return load32(p) | (load32(p + n - 4) << (8 * (n - 4)));
    if (n == 0) return 0;
    auto b = [&](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(p[i])}; };
    return b(0) | (b(n / 2) << (8 * (n / 2))) | (b(n - 1) << (8 * (n - 1)));
}

// A fast hash for short byte strings (most tokens are 1-8 bytes): the prefix word, the tail
// words, one multiply-xorshift finalizer. Not for hostile keys: keys come from the rank file.
std::uint64_t hash_bytes(const char* p, std::size_t n, std::uint64_t prefix) {
    constexpr std::uint64_t k1 = 0x9E3779B97F4A7C15ull, k2 = 0xC2B2AE3D27D4EB4Full;
    std::uint64_t h = (prefix ^ (n * k2)) * k1;
    for (std::size_t i = 8; i < n; i += 8) h = (h ^ load64(p + std::min(i, n - 8))) * k2;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return h;
}

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Standard base64 with '=' padding; false on any other character or a bad length.
bool base64_decode(std::string_view in, std::string& out) {
    if (in.empty() || in.size() % 4 != 0) return false;
    std::size_t pad = in.ends_with("==") ? 2 : in.ends_with('=') ? 1 : 0;
    for (std::size_t i = 0; i < in.size(); i += 4) {
        std::uint32_t v = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            bool padding = i + 4 == in.size() && k >= 4 - pad;
            int d = padding ? 0 : base64_value(in[i + k]);
            if (d < 0) return false;
            v = (v << 6) | static_cast<std::uint32_t>(d);
        }
        std::size_t bytes = i + 4 == in.size() ? 3 - pad : 3;
        for (std::size_t k = 0; k < bytes; ++k) out.push_back(static_cast<char>(v >> (16 - 8 * k)));
    }
    return true;
}

[[noreturn]] void fail(std::string_view origin, std::size_t line, const std::string& what) {
    throw std::runtime_error(std::string(origin) + ":" + std::to_string(line) + ": " + what);
}

}  // namespace

std::unique_ptr<BpeRanks> BpeRanks::parse(std::string_view file, std::string_view origin) {
    auto ranks = std::make_unique<BpeRanks>();
    struct Entry {
        std::uint32_t rank, offset, length;
    };
    std::vector<Entry> entries;
    std::string arena;  // token bytes in file order
    std::size_t line_no = 0;
    for (std::size_t pos = 0; pos < file.size();) {
        std::size_t eol = file.find('\n', pos);
        if (eol == std::string_view::npos) eol = file.size();
        std::string_view line = file.substr(pos, eol - pos);
        pos = eol + 1;
        ++line_no;
        if (line.empty()) continue;
        std::size_t space = line.find(' ');
        if (space == std::string_view::npos) fail(origin, line_no, "expected '<base64> <rank>'");
        auto offset = static_cast<std::uint32_t>(arena.size());
        if (!base64_decode(line.substr(0, space), arena))
            fail(origin, line_no, "invalid base64 token");
        std::string_view digits = line.substr(space + 1);
        std::uint32_t rank = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), rank);
        if (ec != std::errc() || end != digits.data() + digits.size() || rank == kNoRank)
            fail(origin, line_no, "invalid rank '" + std::string(digits) + "'");
        entries.push_back({rank, offset, static_cast<std::uint32_t>(arena.size() - offset)});
    }
    auto by_rank = [](const Entry& a, const Entry& b) { return a.rank < b.rank; };
    if (!std::is_sorted(entries.begin(), entries.end(), by_rank))  // real files are sorted
        std::sort(entries.begin(), entries.end(), by_rank);
    for (std::size_t i = 0; i < entries.size(); ++i)
        if (entries[i].rank != i)
            throw std::runtime_error(std::string(origin) + ": ranks are not dense: rank " +
                                     std::to_string(i) + " is " +
                                     (entries[i].rank > i ? "missing" : "repeated"));
    ranks->arena_.reserve(arena.size());
    ranks->offsets_.reserve(entries.size() + 1);
    for (const auto& e : entries) {
        ranks->offsets_.push_back(static_cast<std::uint32_t>(ranks->arena_.size()));
        ranks->arena_.append(arena, e.offset, e.length);
    }
    ranks->offsets_.push_back(static_cast<std::uint32_t>(ranks->arena_.size()));

    std::size_t capacity = 1024;
    while (capacity < entries.size() * 2 + 2) capacity *= 2;
    ranks->slots_.assign(capacity, Slot{});
    ranks->mask_ = capacity - 1;
    for (std::uint32_t r = 0; r < entries.size(); ++r) ranks->insert(r);
    for (int b = 0; b < 256; ++b) {
        char c = static_cast<char>(b);
        ranks->byte_rank_[b] = ranks->find(std::string_view(&c, 1));
        if (ranks->byte_rank_[b] == kNoRank)
            throw std::runtime_error(std::string(origin) + ": no rank for the single byte " +
                                     std::to_string(b) + " (every byte needs one)");
    }
    return ranks;
}

void BpeRanks::insert(std::uint32_t rank) {
    std::string_view key = bytes_of(rank);
    if (find(key) != kNoRank)
        throw std::runtime_error("rank file lists the same bytes twice (ranks " +
                                 std::to_string(find(key)) + " and " + std::to_string(rank) + ")");
    std::uint64_t prefix = load_prefix(key.data(), key.size());
    std::uint64_t i = hash_bytes(key.data(), key.size(), prefix) & mask_;
    while (slots_[i].rank != kNoRank) i = (i + 1) & mask_;
    slots_[i] = {prefix, rank, static_cast<std::uint32_t>(key.size())};
}

std::uint32_t BpeRanks::find(std::string_view bytes) const {
    std::uint64_t prefix = load_prefix(bytes.data(), bytes.size());
    return find_hashed(bytes, prefix, hash_bytes(bytes.data(), bytes.size(), prefix));
}

std::uint32_t BpeRanks::find_hashed(std::string_view bytes, std::uint64_t prefix,
                                    std::uint64_t hash) const {
    const std::size_t n = bytes.size();
    for (std::uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
        const Slot& slot = slots_[i];
        if (slot.rank == kNoRank) return kNoRank;
        if (slot.prefix == prefix && slot.length == n &&
            (n <= 8 ||
             std::memcmp(arena_.data() + offsets_[slot.rank] + 8, bytes.data() + 8, n - 8) == 0))
            return slot.rank;
    }
}

namespace {

// Pieces that need merging repeat a lot in real text (identifiers, inflected words), so each
// thread keeps the merge results of recent short pieces in a small direct-mapped cache. The
// cache is keyed by the piece's exact bytes: a hit is the same answer the merge would give.
struct MergeCache {
    static constexpr std::size_t kEntries = 4096, kMaxBytes = 30, kMaxTokens = 8;
    struct Entry {
        std::uint64_t hash = 0;
        std::uint8_t length = 0;  // 0 = empty
        std::uint8_t count = 0;
        char bytes[kMaxBytes];
        std::uint32_t tokens[kMaxTokens];
    };
    Entry entries[kEntries];

    Entry& slot(std::uint64_t hash) { return entries[(hash >> 20) & (kEntries - 1)]; }
};

MergeCache& merge_cache() {
    thread_local auto cache = std::make_unique<MergeCache>();
    return *cache;
}

}  // namespace

void BpeRanks::encode_piece(std::string_view piece, std::vector<std::uint32_t>& out) const {
    const std::size_t n = piece.size();
    if (n == 1) {
        out.push_back(byte_rank_[static_cast<unsigned char>(piece[0])]);
        return;
    }
    const std::uint64_t prefix = load_prefix(piece.data(), n);
    const std::uint64_t hash = hash_bytes(piece.data(), n, prefix);
    if (std::uint32_t whole = find_hashed(piece, prefix, hash); whole != kNoRank) {
        out.push_back(whole);
        return;
    }
    // The quadratic scan is fastest for the short pieces of real text; very long pieces (runs
    // of one character) take the heap so that a megabyte piece stays O(n log n).
    if (n > 128) return merge_long(piece, out);
    if (n > MergeCache::kMaxBytes) return merge_short(piece, out);
    MergeCache::Entry& entry = merge_cache().slot(hash);
    if (entry.hash == hash && entry.length == n && std::memcmp(entry.bytes, piece.data(), n) == 0) {
        out.insert(out.end(), entry.tokens, entry.tokens + entry.count);
        return;
    }
    std::size_t before = out.size();
    merge_short(piece, out);
    std::size_t count = out.size() - before;
    if (count <= MergeCache::kMaxTokens) {
        entry.hash = hash;
        entry.length = static_cast<std::uint8_t>(n);
        entry.count = static_cast<std::uint8_t>(count);
        std::memcpy(entry.bytes, piece.data(), n);
        std::copy(out.begin() + static_cast<std::ptrdiff_t>(before), out.end(), entry.tokens);
    }
}

// tiktoken's loop: parts[i] starts at start[i]; pair[i] is the rank of parts i and i+1
// merged. Each step merges the lowest pair (leftmost on ties) and rescans.
void BpeRanks::merge_short(std::string_view piece, std::vector<std::uint32_t>& out) const {
    std::uint32_t start[130], token[130], pair[130];
    std::size_t n = piece.size();
    for (std::size_t i = 0; i < n; ++i) {
        start[i] = static_cast<std::uint32_t>(i);
        token[i] = byte_rank_[static_cast<unsigned char>(piece[i])];
    }
    start[n] = static_cast<std::uint32_t>(n);
    auto pair_rank = [&](std::size_t i, std::size_t parts) {
        return i + 2 <= parts ? find(piece.substr(start[i], start[i + 2] - start[i])) : kNoRank;
    };
    std::size_t parts = n;
    for (std::size_t i = 0; i + 1 < parts; ++i) pair[i] = pair_rank(i, parts);
    while (parts > 1) {
        std::size_t best = 0;
        for (std::size_t i = 1; i + 1 < parts; ++i)
            if (pair[i] < pair[best]) best = i;
        if (pair[best] == kNoRank) break;
        token[best] = pair[best];
        // Remove part best+1.
        for (std::size_t i = best + 1; i < parts; ++i) start[i] = start[i + 1];  // + sentinel
        for (std::size_t i = best + 1; i + 1 < parts; ++i) token[i] = token[i + 1];
        for (std::size_t i = best + 1; i + 2 < parts; ++i) pair[i] = pair[i + 1];
        --parts;
        if (best + 1 < parts) pair[best] = pair_rank(best, parts);
        if (best > 0) pair[best - 1] = pair_rank(best - 1, parts);
    }
    out.insert(out.end(), token, token + parts);
}

// The same merge order with a linked list of parts and a min-heap of (rank, start) pairs;
// stale heap entries are skipped when popped.
void BpeRanks::merge_long(std::string_view piece, std::vector<std::uint32_t>& out) const {
    const std::uint32_t n = static_cast<std::uint32_t>(piece.size());
    std::vector<std::uint32_t> next(n), prev(n), token(n), pair(n, kNoRank);
    std::vector<bool> alive(n, true);
    for (std::uint32_t i = 0; i < n; ++i) {
        next[i] = i + 1;
        prev[i] = i == 0 ? n : i - 1;
        token[i] = byte_rank_[static_cast<unsigned char>(piece[i])];
    }
    using Entry = std::pair<std::uint32_t, std::uint32_t>;  // (rank, start): leftmost on ties
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
    auto update = [&](std::uint32_t p) {
        std::uint32_t q = next[p];
        pair[p] = q < n ? find(piece.substr(p, (next[q]) - p)) : kNoRank;
        if (pair[p] != kNoRank) heap.emplace(pair[p], p);
    };
    for (std::uint32_t i = 0; i < n; ++i) update(i);
    while (!heap.empty()) {
        auto [rank, p] = heap.top();
        heap.pop();
        if (!alive[p] || pair[p] != rank) continue;
        std::uint32_t q = next[p];
        alive[q] = false;
        token[p] = rank;
        next[p] = next[q];
        if (next[p] < n) prev[next[p]] = p;
        update(p);
        if (prev[p] < n) update(prev[p]);
    }
    for (std::uint32_t p = 0; p < n; p = next[p]) out.push_back(token[p]);
}

}  // namespace gossamer::harmony
