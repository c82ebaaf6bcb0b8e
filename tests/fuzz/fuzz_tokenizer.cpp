// libFuzzer target for the o200k_harmony tokenizer and the UTF-8 helpers: any bytes must
// round-trip through encode_ordinary / encode(all) / encode(none) / decode, every id must be
// valid, decode of arbitrary in-range ids must equal the concatenated token bytes, and the
// streaming UTF-8 decoder must agree with the one-shot lossy conversion however the bytes are
// split. Any violated property aborts with a message (libFuzzer then saves the input).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "harmony/pretokenizer.h"
#include "harmony/tokenizer.h"
#include "harmony/utf8.h"

namespace {

using gossamer::harmony::AllowedSpecial;
using gossamer::harmony::Token;
using gossamer::harmony::Tokenizer;
namespace utf8 = gossamer::harmony::utf8;

[[noreturn]] void fail(const char* what, std::string_view input) {
    std::fprintf(stderr, "fuzz_tokenizer: %s (input %zu bytes:", what, input.size());
    for (std::size_t i = 0; i < input.size() && i < 256; ++i)
        std::fprintf(stderr, " %02x", static_cast<unsigned char>(input[i]));
    std::fprintf(stderr, ")\n");
    std::abort();
}

void check(bool ok, const char* what, std::string_view input) {
    if (!ok) fail(what, input);
}

// The streaming decoder fed `bytes` in chunks whose sizes (0..6) come from `sizes`, cycled; a
// 0 is an empty push (must return nothing) followed by a 1-byte one.
std::string stream_decode(std::string_view bytes, std::string_view sizes) {
    utf8::StreamDecoder d;
    std::string out;
    std::size_t k = 0;
    for (std::size_t i = 0; i < bytes.size();) {
        std::size_t n =
            sizes.empty() ? 1 : static_cast<unsigned char>(sizes[k++ % sizes.size()]) % 7;
        if (n == 0) {
            if (!d.push({}).empty()) return "<output from an empty push>";
            n = 1;
        }
        n = std::min(n, bytes.size() - i);
        std::string part = d.push(bytes.substr(i, n));
        if (!utf8::is_valid(part)) return "<invalid output from push>";
        out += part;
        i += n;
    }
    std::string tail = d.flush();
    if (!utf8::is_valid(tail) || d.has_pending()) return "<invalid flush>";
    return out + tail;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Tokenizer& tok = Tokenizer::o200k_harmony();
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    // Pieces cover the text exactly, in order, and are never empty.
    std::size_t covered = 0;
    gossamer::harmony::for_each_piece(text, [&](std::string_view piece) {
        check(!piece.empty() && piece.data() == text.data() + covered, "piece gap or overlap",
              text);
        covered += piece.size();
    });
    check(covered == text.size(), "pieces do not cover the text", text);

    // Round trips; ordinary ids are ranks, never special tokens.
    const std::vector<Token> ordinary = tok.encode_ordinary(text);
    check(tok.decode(ordinary) == text, "decode(encode_ordinary(x)) != x", text);
    for (Token t : ordinary)
        check(t < gossamer::harmony::kNumMergeableRanks, "encode_ordinary gave a special id", text);
    check(tok.encode(text, AllowedSpecial::none()) == ordinary, "encode(none) != encode_ordinary",
          text);
    std::vector<Token> appended{42};
    tok.encode_ordinary_into(text, appended);
    check(appended.size() == ordinary.size() + 1 && appended[0] == 42 &&
              std::equal(ordinary.begin(), ordinary.end(), appended.begin() + 1),
          "encode_ordinary_into differs from encode_ordinary", text);
    const std::vector<Token> all = tok.encode(text, AllowedSpecial::all_tokens());
    check(tok.decode(all) == text, "decode(encode(x, all)) != x", text);
    for (Token t : all) {
        check(tok.valid(t), "encode(all) gave an invalid id", text);
        if (gossamer::harmony::is_special(t))
            check(gossamer::harmony::special_token_id(tok.token_bytes(t)) == t,
                  "special id whose text does not map back", text);
    }
    // Only <|start|> allowed: every other special string stays ordinary text.
    AllowedSpecial only_start{false, {gossamer::harmony::tok::kStart}};
    const std::vector<Token> some = tok.encode(text, only_start);
    check(tok.decode(some) == text, "decode(encode(x, {start})) != x", text);
    for (Token t : some)
        check(!gossamer::harmony::is_special(t) || t == gossamer::harmony::tok::kStart,
              "a special token that was not allowed", text);

    // Decode of arbitrary in-range ids: the concatenated bytes of each id.
    std::vector<Token> ids;
    for (std::size_t i = 0; i + 4 <= size; i += 4) {
        std::uint32_t v = 0;
        std::memcpy(&v, data + i, 4);
        ids.push_back(v % gossamer::harmony::kVocabSize);
    }
    std::string expected;
    for (Token t : ids) {
        check(tok.valid(t), "an id below kVocabSize is not valid", text);
        expected += tok.token_bytes(t);
    }
    check(tok.decode(ids) == expected, "decode != concatenated token_bytes", text);
    bool threw = false;
    try {
        Token bad = gossamer::harmony::kVocabSize + (size > 0 ? data[0] : 0u);
        (void)tok.decode(std::vector<Token>{bad});
    } catch (const std::out_of_range&) {
        threw = true;
    }
    check(threw, "decode of an id >= kVocabSize did not throw std::out_of_range", text);

    // UTF-8: the stream decoder, fed in any chunks, equals the one-shot lossy conversion.
    const std::string lossy = utf8::to_valid_lossy(text);
    check(utf8::is_valid(lossy), "to_valid_lossy gave invalid UTF-8", text);
    if (utf8::is_valid(text)) check(lossy == text, "to_valid_lossy changed valid text", text);
    check(utf8::valid_prefix(text) <= text.size(), "valid_prefix past the end", text);
    check(stream_decode(text, text.substr(0, std::min<std::size_t>(size, 16))) == lossy,
          "StreamDecoder (chunked by input) != to_valid_lossy", text);
    // Token by token, as the CLI streams model output.
    utf8::StreamDecoder by_token;
    std::string streamed;
    for (Token t : ordinary) {
        std::string part = by_token.push(tok.token_bytes(t));
        check(utf8::is_valid(part), "StreamDecoder push gave invalid UTF-8", text);
        streamed += part;
    }
    streamed += by_token.flush();
    check(streamed == lossy, "StreamDecoder (token by token) != to_valid_lossy", text);
    // decode() of one code point agrees with is_valid for the bytes it claims.
    for (std::size_t i = 0; i < text.size();) {
        char32_t cp = 0;
        std::size_t n = utf8::decode(text, i, cp);
        check(n <= 4 && i + n <= text.size(), "utf8::decode length out of range", text);
        if (n == 0) {
            ++i;
            continue;
        }
        check(
            utf8::is_valid(text.substr(i, n)) && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF),
            "utf8::decode accepted an invalid sequence", text);
        std::string again;
        utf8::append(again, cp);
        check(again == text.substr(i, n), "utf8::append(decode(x)) != x", text);
        i += n;
    }
    return 0;
}
