// The o200k_harmony tokenizer: o200k_base byte-pair ranks plus harmony's special tokens.
// Exact with tiktoken (same pre-tokenizer, same merges); pure and thread-safe after
// construction. It must not know about messages or headers: that is the renderer's job.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harmony/special_tokens.h"

namespace gossamer::harmony {

class BpeRanks;

// Which special-token strings encode() turns into special tokens. Strings of special tokens
// that are not allowed are encoded as ordinary text, as encode_ordinary does.
struct AllowedSpecial {
    bool all = false;
    std::vector<Token> ids;

    static AllowedSpecial all_tokens() { return {true, {}}; }
    static AllowedSpecial none() { return {}; }
    bool allows(Token t) const;
};

class Tokenizer {
  public:
    // The rank file vendored into the binary at build time; SHA-256 verified on first use.
    // Throws std::runtime_error when the embedded data is corrupt.
    static const Tokenizer& o200k_harmony();
    // A tiktoken rank file on disk (`<base64> <rank>` lines). When expected_sha256 is
    // non-empty the file must hash to it. Throws std::runtime_error naming the file and line.
    static Tokenizer from_rank_file(const std::filesystem::path& path,
                                    std::string_view expected_sha256 = {});
    // The same from bytes already in memory; `origin` names them in errors.
    static Tokenizer from_rank_bytes(std::string_view bytes, std::string_view origin,
                                     std::string_view expected_sha256 = {});

    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;
    ~Tokenizer();

    // Text to ids. Any bytes are accepted: invalid UTF-8 bytes are pre-tokenized as
    // punctuation-like characters and kept byte for byte, so decode(encode(x)) == x always.
    std::vector<Token> encode(std::string_view text, const AllowedSpecial& allowed) const;
    // Special-token strings in text stay ordinary text ("<|start|>" -> 27 91 5236 91 29).
    std::vector<Token> encode_ordinary(std::string_view text) const;
    // Appends to out instead of returning a new vector (the renderer's hot path).
    void encode_ordinary_into(std::string_view text, std::vector<Token>& out) const;

    // Concatenated bytes of the ids; special tokens decode to their text ("<|end|>").
    // Throws std::out_of_range for an id >= kVocabSize. The result may be invalid UTF-8.
    std::string decode(std::span<const Token> ids) const;
    // The bytes of one id (the special token's text for specials). Throws std::out_of_range.
    std::string_view token_bytes(Token id) const;
    // True for ids this tokenizer can decode: a rank or a special token.
    bool valid(Token id) const;

    // Id of a whole byte string when it is one mergeable token.
    std::optional<Token> rank_of(std::string_view bytes) const;

  private:
    explicit Tokenizer(std::unique_ptr<BpeRanks> ranks);
    std::unique_ptr<BpeRanks> ranks_;
    std::vector<std::string> special_text_;  // index = id - kFirstSpecial
};

}  // namespace gossamer::harmony
