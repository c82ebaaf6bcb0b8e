#include "harmony/tokenizer.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "harmony/bpe_ranks.h"
#include "harmony/pretokenizer.h"
#include "harmony/sha256.h"

extern "C" const char gossamer_o200k_base_begin[];  // data/o200k_base.tiktoken, linked in
extern "C" const char gossamer_o200k_base_end[];

namespace gossamer::harmony {
namespace {

constexpr std::string_view kO200kSha256 =
    "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d";
// The longest special token text, "<|reserved_201088|>", bounds the search after "<|".
constexpr std::size_t kMaxSpecialLength = 24;

void check_sha256(std::string_view bytes, std::string_view origin, std::string_view expected) {
    if (expected.empty()) return;
    std::string actual = sha256_hex(bytes);
    if (actual != expected)
        throw std::runtime_error(std::string(origin) + ": SHA-256 mismatch: expected " +
                                 std::string(expected) + ", got " + actual +
                                 " (corrupt or wrong rank file)");
}

}  // namespace

bool AllowedSpecial::allows(Token t) const {
    return all || std::find(ids.begin(), ids.end(), t) != ids.end();
}

Tokenizer::Tokenizer(std::unique_ptr<BpeRanks> ranks) : ranks_(std::move(ranks)) {
    if (ranks_->size() > kFirstSpecial)
        throw std::runtime_error("rank file has " + std::to_string(ranks_->size()) +
                                 " ranks; harmony's special tokens start at " +
                                 std::to_string(kFirstSpecial));
    special_text_.reserve(kLastSpecial - kFirstSpecial + 1);
    for (Token t = kFirstSpecial; t <= kLastSpecial; ++t)
        special_text_.push_back(*special_token_name(t));
}

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

const Tokenizer& Tokenizer::o200k_harmony() {
    static const Tokenizer tokenizer = from_rank_bytes(
        std::string_view(
            gossamer_o200k_base_begin,
            static_cast<std::size_t>(gossamer_o200k_base_end - gossamer_o200k_base_begin)),
        "o200k_base.tiktoken (embedded)", kO200kSha256);
    return tokenizer;
}

Tokenizer Tokenizer::from_rank_bytes(std::string_view bytes, std::string_view origin,
                                     std::string_view expected_sha256) {
    check_sha256(bytes, origin, expected_sha256);
    return Tokenizer(BpeRanks::parse(bytes, origin));
}

Tokenizer Tokenizer::from_rank_file(const std::filesystem::path& path,
                                    std::string_view expected_sha256) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path.string() + ": cannot open rank file");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw std::runtime_error(path.string() + ": error reading rank file");
    return from_rank_bytes(bytes, path.string(), expected_sha256);
}

void Tokenizer::encode_ordinary_into(std::string_view text, std::vector<Token>& out) const {
    out.reserve(out.size() + text.size() / 4);
    for_each_piece(text, [&](std::string_view piece) { ranks_->encode_piece(piece, out); });
}

std::vector<Token> Tokenizer::encode_ordinary(std::string_view text) const {
    std::vector<Token> out;
    encode_ordinary_into(text, out);
    return out;
}

std::vector<Token> Tokenizer::encode(std::string_view text, const AllowedSpecial& allowed) const {
    std::vector<Token> out;
    if (!allowed.all && allowed.ids.empty()) {
        encode_ordinary_into(text, out);
        return out;
    }
    // Ordinary text between allowed special tokens is encoded on its own, as tiktoken does:
    // no pre-tokenizer piece crosses a special token.
    std::size_t done = 0;
    for (std::size_t at = text.find("<|"); at != std::string_view::npos;
         at = text.find("<|", at + 1)) {
        std::size_t close = text.substr(at, kMaxSpecialLength).find("|>");
        if (close == std::string_view::npos) continue;
        auto id = special_token_id(text.substr(at, close + 2));
        if (!id || !allowed.allows(*id)) continue;
        encode_ordinary_into(text.substr(done, at - done), out);
        out.push_back(*id);
        done = at + close + 2;
        at = done - 1;
    }
    encode_ordinary_into(text.substr(done), out);
    return out;
}

bool Tokenizer::valid(Token id) const {
    return id < ranks_->size() || is_special(id);
}

std::string_view Tokenizer::token_bytes(Token id) const {
    if (id < ranks_->size()) return ranks_->bytes_of(id);
    if (is_special(id)) return special_text_[id - kFirstSpecial];
    throw std::out_of_range("Invalid token for decoding: " + std::to_string(id));
}

std::string Tokenizer::decode(std::span<const Token> ids) const {
    std::string out;
    for (Token id : ids) out += token_bytes(id);
    return out;
}

std::optional<Token> Tokenizer::rank_of(std::string_view bytes) const {
    std::uint32_t r = ranks_->find(bytes);
    if (r == BpeRanks::kNoRank) return std::nullopt;
    return r;
}

}  // namespace gossamer::harmony
