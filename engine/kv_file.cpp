#include "engine/kv_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

#include "engine/hash64.h"

namespace gossamer::engine {
namespace fs = std::filesystem;

const char* to_string(KvPrecision precision) {
    return precision == KvPrecision::Bf16 ? "bf16" : "fp32";
}

namespace {

constexpr char kMagic[8] = {'G', 'S', 'K', 'V', 'C', 0, 1, 0};  // format 1
constexpr std::uint32_t kRecordMagic = 0x52564b47;              // "GKVR"
constexpr std::size_t kRecordHead = 32;  // magic, first, count, layers, payload bytes, checksum
constexpr std::size_t kChunkRows = 2048;

struct FileCloser {
    void operator()(std::FILE* f) const {
        if (f) std::fclose(f);
    }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

bool read_exact(std::FILE* f, void* out, std::size_t n) {
    return std::fread(out, 1, n, f) == n;
}

template <class T>
T load(const unsigned char* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

std::uint64_t record_hash_head(Hash64& h, std::uint32_t first, std::uint32_t count,
                               std::uint32_t layers, std::uint64_t payload) {
    h.add(first);
    h.add(count);
    h.add(layers);
    h.add(payload);
    return payload;
}

std::string header_bytes(const std::string& identity) {
    std::string out(kMagic, sizeof kMagic);
    const auto n = static_cast<std::uint32_t>(identity.size());
    out.append(reinterpret_cast<const char*>(&n), 4);
    out += identity;
    Hash64 h;
    h.add(identity);
    const std::uint64_t digest = h.digest();
    out.append(reinterpret_cast<const char*>(&digest), 8);
    return out;
}

// The payload bytes of a record of `count` positions from `first` whose layer l keeps
// positions >= from[l].
std::uint64_t payload_bytes(int first, int count, const std::vector<int>& from,
                            std::size_t row_bytes) {
    std::uint64_t bytes = static_cast<std::uint64_t>(count) * 4 + from.size() * 4;
    for (int f : from)
        bytes += 2 * static_cast<std::uint64_t>(first + count - std::max(f, first)) * row_bytes;
    return bytes;
}

std::string os_error(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

}  // namespace

std::string kv_identity(const std::string& model_fingerprint, const Backend& backend,
                        const KvCache& sample) {
    const std::string name = backend.name();
    const std::string kind = name.substr(0, name.find(' '));
    return "model " + model_fingerprint + "; backend " + kind + "; kv " +
           to_string(sample.precision()) + "; layers " + std::to_string(sample.layers()) +
           "; row " + std::to_string(sample.row_elements()) + "; window " +
           std::to_string(backend.config().sliding_window) +
           (backend.expert_activations() == Mxfp4Activations::Int8 ? "; experts int8" : "") +
           (backend.dense_activations() == DenseActivations::Bf16 ? "; dense bf16" : "");
}

KvFile::KvFile(fs::path path, std::string identity, std::optional<KvDiskBudget> budget)
    : path_(std::move(path)),
      identity_(std::move(identity)),
      header_(header_bytes(identity_)),
      budget_(std::move(budget)) {}

namespace {

// A record's bytes still in use: its share of live positions (a later record may cut it).
std::uint64_t live_part(const KvFile::Record& r, int end) {
    const int live = std::clamp(end - r.first, 0, r.count);
    return r.stored == 0
               ? 0
               : r.bytes * static_cast<std::uint64_t>(live) / static_cast<std::uint64_t>(r.stored);
}

}  // namespace

void KvFile::add(Record r, std::span<const TokenId> tokens) {
    // A record starting below the end cuts what came before it there.
    while (!records_.empty() && records_.back().first >= r.first) records_.pop_back();
    if (!records_.empty())
        records_.back().count = std::min(records_.back().count, r.first - records_.back().first);
    tokens_.resize(static_cast<std::size_t>(r.first));
    tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
    records_.push_back(std::move(r));
}

std::uint64_t KvFile::live_bytes() const {
    std::uint64_t total = header_.size();
    for (const auto& r : records_) total += live_part(r, r.first + r.count);
    return total;
}

bool KvFile::scan(std::string& why, bool verify) {
    known_ = false;
    records_.clear();
    tokens_.clear();
    file_bytes_ = 0;
    std::error_code ec;
    const auto size = fs::file_size(path_, ec);
    if (ec) {
        if (!fs::exists(path_, ec)) {  // nothing saved yet: an empty, known file
            known_ = true;
            return true;
        }
        why = "cannot read " + path_.string() + ": " + ec.message();
        return false;
    }
    File f(std::fopen(path_.c_str(), "rb"));
    if (!f) return why = os_error("cannot open " + path_.string()), false;
    const std::string& want = header_;
    std::string head(want.size(), '\0');
    if (size < sizeof kMagic + 4 || !read_exact(f.get(), head.data(), sizeof kMagic + 4) ||
        std::memcmp(head.data(), kMagic, sizeof kMagic) != 0)
        return why = "not a gossamer KV cache file (or another format version)", false;
    const auto identity_len =
        load<std::uint32_t>(reinterpret_cast<const unsigned char*>(head.data()) + 8);
    if (identity_len != identity_.size() || size < want.size() ||
        !read_exact(f.get(), head.data() + 12, want.size() - 12) || head != want) {
        std::string theirs;
        if (identity_len < 4096 && size >= 12 + identity_len) {
            theirs.resize(identity_len);
            std::fseek(f.get(), 12, SEEK_SET);
            if (!read_exact(f.get(), theirs.data(), identity_len)) theirs.clear();
        }
        why = "it was saved for another model or engine setting (" +
              (theirs.empty() ? std::string("unreadable header") : theirs) + "; now " + identity_ +
              ")";
        return false;
    }
    std::uint64_t offset = want.size();
    std::vector<unsigned char> buffer;
    while (offset < size) {
        unsigned char rh[kRecordHead];
        const auto at = std::to_string(offset);
        if (size - offset < kRecordHead || !read_exact(f.get(), rh, kRecordHead)) {
            why = "a record at byte " + at + " is cut short (the process stopped while saving?)";
            return false;
        }
        const auto magic = load<std::uint32_t>(rh), first = load<std::uint32_t>(rh + 4),
                   count = load<std::uint32_t>(rh + 8), nlayers = load<std::uint32_t>(rh + 12);
        const auto payload = load<std::uint64_t>(rh + 16), checksum = load<std::uint64_t>(rh + 24);
        if (magic != kRecordMagic || count == 0 || nlayers == 0 || nlayers > 4096 ||
            first > tokens_.size() || count > (1u << 24)) {
            why = "the record at byte " + at + " is damaged";
            return false;
        }
        if (payload > size - offset - kRecordHead) {
            why = "a record at byte " + at + " is cut short (the process stopped while saving?)";
            return false;
        }
        Hash64 h;
        record_hash_head(h, first, count, nlayers, payload);
        Record r;
        r.offset = offset + kRecordHead;
        r.first = static_cast<int>(first);
        r.count = r.stored = static_cast<int>(count);
        r.bytes = kRecordHead + payload;
        // Tokens and per-layer starts first (kept), then the rows (only hashed).
        const std::uint64_t lead = static_cast<std::uint64_t>(count) * 4 + nlayers * 4;
        if (payload < lead) {
            why = "the record at byte " + at + " is damaged";
            return false;
        }
        buffer.resize(lead);
        if (!read_exact(f.get(), buffer.data(), lead)) {
            why = "a record at byte " + at + " is cut short";
            return false;
        }
        h.update(buffer.data(), lead);
        std::vector<TokenId> tokens(count);
        std::memcpy(tokens.data(), buffer.data(), count * 4);
        r.from.resize(nlayers);
        bool from_ok = true;
        for (std::uint32_t l = 0; l < nlayers; ++l) {
            const auto v = load<std::uint32_t>(buffer.data() + count * 4 + l * 4);
            from_ok = from_ok && v >= first && v <= first + count;
            r.from[l] = static_cast<int>(v);
        }
        std::uint64_t rows_bytes = payload - lead;
        std::uint64_t row_total = 0;
        for (int v : r.from) row_total += 2 * static_cast<std::uint64_t>(first + count - v);
        if (!from_ok || (row_total == 0 ? rows_bytes != 0 : rows_bytes % row_total != 0)) {
            why = "the record at byte " + at + " is damaged";
            return false;
        }
        if (!verify) {  // tokens only: the rows are skipped, not checked
            if (std::fseek(f.get(), static_cast<long>(rows_bytes), SEEK_CUR) != 0) {
                why = "a record at byte " + at + " is cut short";
                return false;
            }
            add(std::move(r), tokens);
            offset += kRecordHead + payload;
            continue;
        }
        buffer.resize(1 << 20);
        for (std::uint64_t left = rows_bytes; left > 0;) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
            if (!read_exact(f.get(), buffer.data(), n)) {
                why = "a record at byte " + at + " is cut short";
                return false;
            }
            h.update(buffer.data(), n);
            left -= n;
        }
        if (h.digest() != checksum) {
            why = "the record at byte " + at + " fails its checksum (the file was damaged)";
            return false;
        }
        if (!records_.empty() && records_.front().from.size() != nlayers) {
            why = "the record at byte " + at + " is damaged";
            return false;
        }
        add(std::move(r), tokens);
        offset += kRecordHead + payload;
    }
    file_bytes_ = size;
    known_ = true;
    return true;
}

namespace {

// Positions of `layer` the live records hold, as sorted disjoint [begin, end) ranges.
std::vector<std::pair<int, int>> held(const std::vector<KvFile::Record>& records,
                                      std::size_t layer) {
    std::vector<std::pair<int, int>> out;
    for (const auto& r : records) {
        const int begin = std::max(r.from[layer], r.first), end = r.first + r.count;
        if (begin >= end) continue;
        if (!out.empty() && out.back().second == begin)
            out.back().second = end;
        else
            out.emplace_back(begin, end);
    }
    return out;
}

// The largest position in [begin, end) that `ranges` lacks, or -1.
int largest_missing(const std::vector<std::pair<int, int>>& ranges, int begin, int end) {
    int probe = end - 1;
    for (auto it = ranges.rbegin(); it != ranges.rend() && probe >= begin; ++it) {
        if (it->first > probe) continue;
        if (it->second <= probe) return probe;
        probe = it->first - 1;
    }
    return probe >= begin ? probe : -1;
}

// The end of the last range that ends at or below `position` (0 if none).
int held_end_below(const std::vector<std::pair<int, int>>& ranges, int position) {
    int end = 0;
    for (const auto& r : ranges)
        if (r.second <= position) end = r.second;
    return end;
}

}  // namespace

std::vector<TokenId> KvFile::saved_tokens() {
    std::string why;
    scan(why, false);
    std::vector<TokenId> out = std::move(tokens_);
    known_ = false;
    records_.clear();
    tokens_.clear();
    return out;
}

KvFile::Restored KvFile::restore(KvCache& cache, std::span<const TokenId> prompt, int limit) {
    Restored out;
    if (!cache.copyable() || cache.size() != 0) return out;
    std::error_code ec;
    if (!seed_.empty() && !fs::exists(path_, ec)) {
        // Nothing of its own yet: start from the saved cache this one branches from. The
        // first save then writes the whole cache here; the seed is left as it is.
        KvFile seed(seed_, identity_);
        return seed.restore(cache, prompt, limit);
    }
    std::string why;
    if (!scan(why) && records_.empty()) {
        out.warning = "saved KV cache " + path_.string() + " not used: " + why;
        return out;
    }
    if (!why.empty())
        out.warning = "saved KV cache " + path_.string() + " only partly used: " + why;
    if (!records_.empty() &&
        records_.front().from.size() != static_cast<std::size_t>(cache.layers())) {
        out.warning = "saved KV cache " + path_.string() + " not used: its shape differs";
        known_ = false;
        return out;
    }
    const auto common = static_cast<int>(
        std::mismatch(tokens_.begin(), tokens_.end(), prompt.begin(), prompt.end()).first -
        tokens_.begin());
    int n = std::min(common, limit);
    const auto layers = static_cast<std::size_t>(cache.layers());
    std::vector<std::vector<std::pair<int, int>>> ranges(layers);
    for (std::size_t l = 0; l < layers; ++l) ranges[l] = held(records_, l);
    // Cut back until every layer holds what a query at n looks at.
    for (bool moved = true; moved && n > 0;) {
        moved = false;
        for (std::size_t l = 0; l < layers && n > 0; ++l) {
            const int back = cache.lookback(static_cast<int>(l));
            const int gap = largest_missing(ranges[l], back == 0 ? 0 : std::max(0, n - back), n);
            // Every n' in (end of the held range below the gap, gap] lacks position n' - 1.
            if (gap >= 0) n = held_end_below(ranges[l], gap), moved = true;
        }
    }
    if (n <= 0) return out;
    // Sliding layers load as far back as their ring and the file allow (room to cut back).
    int sliding_from = std::max(0, n - cache.ring_positions());
    for (std::size_t l = 0; l < layers; ++l) {
        if (cache.lookback(static_cast<int>(l)) == 0) continue;
        int from = std::max(0, n - cache.ring_positions());
        for (auto it = ranges[l].rbegin(); it != ranges[l].rend(); ++it)
            if (it->first < n && it->second >= n) {
                from = std::max(from, it->first);
                break;
            }
        sliding_from = std::max(sliding_from, from);
    }
    File f(std::fopen(path_.c_str(), "rb"));
    if (!f) {
        out.warning = "saved KV cache not used: " + os_error("cannot open " + path_.string());
        return out;
    }
    const std::size_t row_bytes =
        static_cast<std::size_t>(cache.row_elements()) * element_bytes(cache.precision());
    try {
        cache.restore(n, sliding_from);
        std::vector<unsigned char> keys(kChunkRows * row_bytes), values(kChunkRows * row_bytes);
        for (const auto& r : records_) {
            std::uint64_t layer_offset =
                r.offset + static_cast<std::uint64_t>(r.stored) * 4 + layers * 4;
            for (std::size_t l = 0; l < layers; ++l) {
                const int stored_from = std::max(r.from[l], r.first);
                const int stored = r.first + r.stored - stored_from;
                const int want_from = cache.lookback(static_cast<int>(l)) == 0 ? 0 : sliding_from;
                const int begin = std::max(stored_from, want_from);
                const int end = std::min(r.first + r.count, n);
                for (int p = begin; p < end;) {
                    const int rows = std::min<int>(end - p, static_cast<int>(kChunkRows));
                    const std::uint64_t skip =
                        static_cast<std::uint64_t>(p - stored_from) * row_bytes;
                    const std::size_t bytes = static_cast<std::size_t>(rows) * row_bytes;
                    if (std::fseek(f.get(), static_cast<long>(layer_offset + skip), SEEK_SET) !=
                            0 ||
                        !read_exact(f.get(), keys.data(), bytes) ||
                        std::fseek(f.get(),
                                   static_cast<long>(
                                       layer_offset +
                                       static_cast<std::uint64_t>(stored) * row_bytes + skip),
                                   SEEK_SET) != 0 ||
                        !read_exact(f.get(), values.data(), bytes))
                        throw std::runtime_error("the file changed while it was read");
                    cache.write(static_cast<int>(l), p, rows, keys.data(), values.data());
                    p += rows;
                }
                layer_offset += 2 * static_cast<std::uint64_t>(stored) * row_bytes;
            }
        }
    } catch (const std::exception& e) {
        cache.truncate(0);
        known_ = false;
        out.warning = "saved KV cache " + path_.string() + " not used: " + e.what();
        return out;
    }
    out.tokens.assign(prompt.begin(), prompt.begin() + n);
    fs::last_write_time(path_, fs::file_time_type::clock::now(), ec);  // recently used
    return out;
}

std::uint64_t KvFile::write_record(std::FILE* f, const KvCache& cache,
                                   std::span<const TokenId> tokens, int first) {
    const int size = cache.size();
    const int count = size - first;
    const auto layers = static_cast<std::size_t>(cache.layers());
    const std::size_t row_bytes =
        static_cast<std::size_t>(cache.row_elements()) * element_bytes(cache.precision());
    std::vector<int> from(layers);
    for (std::size_t l = 0; l < layers; ++l)
        from[l] = std::max(first, cache.oldest(static_cast<int>(l)));
    const std::uint64_t payload = payload_bytes(first, count, from, row_bytes);

    const long head_at = std::ftell(f);
    unsigned char rh[kRecordHead] = {};
    if (std::fwrite(rh, 1, kRecordHead, f) != kRecordHead)
        throw std::runtime_error(os_error("cannot write " + path_.string()));
    Hash64 h;
    record_hash_head(h, static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(count),
                     static_cast<std::uint32_t>(layers), payload);
    auto put = [&](const void* data, std::size_t n) {
        h.update(data, n);
        if (std::fwrite(data, 1, n, f) != n)
            throw std::runtime_error(os_error("cannot write " + path_.string()));
    };
    put(tokens.data() + first, static_cast<std::size_t>(count) * 4);
    for (int v : from) {
        const auto u = static_cast<std::uint32_t>(v);
        put(&u, 4);
    }
    std::vector<unsigned char> keys(kChunkRows * row_bytes), values(kChunkRows * row_bytes);
    for (std::size_t l = 0; l < layers; ++l) {
        for (int pass = 0; pass < 2; ++pass)  // keys, then values
            for (int p = from[l]; p < size;) {
                const int rows = std::min<int>(size - p, static_cast<int>(kChunkRows));
                cache.read(static_cast<int>(l), p, rows, keys.data(), values.data());
                put(pass == 0 ? keys.data() : values.data(),
                    static_cast<std::size_t>(rows) * row_bytes);
                p += rows;
            }
    }
    const auto c = static_cast<std::uint32_t>(count), fi = static_cast<std::uint32_t>(first),
               nl = static_cast<std::uint32_t>(layers);
    const std::uint64_t digest = h.digest();
    std::memcpy(rh, &kRecordMagic, 4);
    std::memcpy(rh + 4, &fi, 4);
    std::memcpy(rh + 8, &c, 4);
    std::memcpy(rh + 12, &nl, 4);
    std::memcpy(rh + 16, &payload, 8);
    std::memcpy(rh + 24, &digest, 8);
    if (std::fseek(f, head_at, SEEK_SET) != 0 ||
        std::fwrite(rh, 1, kRecordHead, f) != kRecordHead || std::fseek(f, 0, SEEK_END) != 0 ||
        std::fflush(f) != 0)
        throw std::runtime_error(os_error("cannot write " + path_.string()));

    Record r;
    r.offset = static_cast<std::uint64_t>(head_at) + kRecordHead;
    r.first = first;
    r.count = r.stored = count;
    r.from = std::move(from);
    r.bytes = kRecordHead + payload;
    add(std::move(r),
        tokens.subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(count)));
    return kRecordHead + payload;
}

KvFile::Saved KvFile::rewrite(const KvCache& cache, std::span<const TokenId> tokens) {
    Saved out;
    const fs::path temp = path_.string() + ".tmp";
    records_.clear();
    tokens_.clear();
    known_ = false;
    try {
        std::error_code ec;
        fs::create_directories(path_.parent_path(), ec);
        File f(std::fopen(temp.c_str(), "w+b"));
        if (!f) throw std::runtime_error(os_error("cannot create " + temp.string()));
        const std::string& head = header_;
        if (std::fwrite(head.data(), 1, head.size(), f.get()) != head.size())
            throw std::runtime_error(os_error("cannot write " + temp.string()));
        out.bytes = head.size() + write_record(f.get(), cache, tokens, 0);
        if (std::fclose(f.release()) != 0)
            throw std::runtime_error(os_error("cannot write " + temp.string()));
        fs::rename(temp, path_);
        file_bytes_ = out.bytes;
        known_ = true;
    } catch (const std::exception& e) {
        std::error_code ec;
        fs::remove(temp, ec);
        records_.clear();
        tokens_.clear();
        out.bytes = 0;
        out.warning = std::string("the KV cache was not saved: ") + e.what();
    }
    return out;
}

KvFile::Saved KvFile::save(const KvCache& cache, std::span<const TokenId> tokens) {
    Saved out;
    if (!cache.copyable() || cache.size() == 0 ||
        tokens.size() != static_cast<std::size_t>(cache.size()))
        return out;
    std::string why;
    if (!known_ && !scan(why)) {
        out = rewrite(cache, tokens);
    } else {
        const auto m = static_cast<int>(
            std::mismatch(tokens_.begin(), tokens_.end(), tokens.begin(), tokens.end()).first -
            tokens_.begin());
        if (m == cache.size()) return out;  // the file holds all of it already
        // Records that this one cuts become dead bytes: rewrite when most of the file is dead.
        std::uint64_t live_after = header_.size();
        for (const auto& r : records_) live_after += live_part(r, m);
        const std::uint64_t dead = file_bytes_ - live_after;
        if (records_.empty() || dead > std::max(live_after, rewrite_floor_)) {
            out = rewrite(cache, tokens);
        } else {
            try {
                File f(std::fopen(path_.c_str(), "r+b"));
                if (!f || std::fseek(f.get(), 0, SEEK_END) != 0 ||
                    static_cast<std::uint64_t>(std::ftell(f.get())) != file_bytes_)
                    throw std::runtime_error("the file changed on disk");
                out.bytes = write_record(f.get(), cache, tokens, m);
                if (std::fclose(f.release()) != 0)
                    throw std::runtime_error(os_error("cannot write " + path_.string()));
                file_bytes_ += out.bytes;
            } catch (const std::exception& e) {
                std::error_code ec;
                fs::resize_file(path_, file_bytes_, ec);  // drop the partial record
                known_ = false;
                out.bytes = 0;
                out.warning = std::string("the KV cache was not saved: ") + e.what();
            }
        }
    }
    if (budget_ && budget_->bytes > 0 && out.warning.empty())
        out.evicted = enforce_kv_budget(*budget_, path_);
    return out;
}

std::vector<fs::path> enforce_kv_budget(const KvDiskBudget& budget, const fs::path& keep) {
    struct Entry {
        fs::path path;
        std::uint64_t bytes;
        fs::file_time_type used;
    };
    std::vector<Entry> entries;
    std::uint64_t total = 0;
    std::error_code ec;
    for (fs::directory_iterator it(budget.folder, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() != ".gkv") continue;
        std::error_code e1, e2;
        const auto bytes = it->file_size(e1);
        const auto used = it->last_write_time(e2);
        if (e1 || e2) continue;
        total += bytes;
        entries.push_back({it->path(), bytes, used});
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.used < b.used; });
    std::vector<fs::path> removed;
    for (const auto& e : entries) {
        if (budget.bytes == 0 || total <= budget.bytes) break;
        if (!keep.empty() && fs::equivalent(e.path, keep, ec)) continue;
        if (fs::remove(e.path, ec)) {
            total -= e.bytes;
            removed.push_back(e.path);
        }
    }
    return removed;
}

}  // namespace gossamer::engine
