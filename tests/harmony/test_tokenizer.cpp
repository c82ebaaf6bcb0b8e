// Tokenizer tests: the reference vectors of harmony.md section 1, special tokens, decoding
// and the rank-file checks. Cross-checks against tiktoken on a large corpus are in
// test_tokenizer_tiktoken.cpp.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "harmony/pretokenizer.h"
#include "harmony/sha256.h"
#include "harmony/tokenizer.h"

using gossamer::harmony::AllowedSpecial;
using gossamer::harmony::Token;
using gossamer::harmony::Tokenizer;
using Ids = std::vector<Token>;

namespace {
const Tokenizer& tok() {
    return Tokenizer::o200k_harmony();
}

std::vector<std::string> pieces(std::string_view text) {
    std::vector<std::string> out;
    gossamer::harmony::for_each_piece(text, [&](std::string_view p) { out.emplace_back(p); });
    return out;
}
}  // namespace

TEST_CASE("tokenizer: reference vectors (harmony.md 1.2)") {
    struct Case {
        const char* text;
        Ids ids;
    };
    const Case cases[] = {
        {"hello world", {24912, 2375}},
        {"  hello", {220, 40617}},
        {"a  b", {64, 220, 287}},
        {"x\n\ny", {87, 279, 88}},
        {" \n ", {793, 220}},
        {"I'M HERE", {40, 95346, 32396}},
        {"don't", {91418}},
        {"Don'T", {11210, 51532}},
        {"123456", {7633, 19354}},
        {"1,234.5", {16, 11, 20771, 13, 20}},
        {"<|start|>", {27, 91, 5236, 91, 29}},
        {"na\xC3\xAFve", {1503, 9954, 737}},
        {"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88",
         {9048, 40909, 16056, 18368, 38236}},
        {"foo   \n", {16660, 10190}},
        {"tab\tsep", {11957, 197, 46643}},
        {"\r\n", {370}},
        {"\xF0\x9F\x92\x96", {31446, 244}},
        {"system", {17360}},
        {"user", {1428}},
        {"assistant", {173781}},
        {"developer", {77944}},
        {"tool", {17952}},
        {"analysis", {35644}},
        {"final", {17196}},
        {"commentary", {12606, 815}},
        {" to", {316}},
        {"=", {28}},
        {"functions", {44580}},
        {"json", {4108}},
        {" json", {5701}},
        {" code", {3490}},
        {" ", {220}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        CHECK(tok().encode_ordinary(c.text) == c.ids);
        CHECK(tok().decode(c.ids) == c.text);
    }
    CHECK(tok().token_bytes(9552) == " \xF0\x9F");
    CHECK(tok().token_bytes(132990) == "Chicken");
}

TEST_CASE("tokenizer: pre-tokenizer pieces follow the regex alternatives") {
    CHECK(pieces(" \n ") == std::vector<std::string>{" \n", " "});
    CHECK(pieces("foo   \nbar") == std::vector<std::string>{"foo", "   \n", "bar"});
    CHECK(pieces("a   b") == std::vector<std::string>{"a", "  ", " b"});
    CHECK(pieces("end  ") == std::vector<std::string>{"end", "  "});
    CHECK(pieces("1234567") == std::vector<std::string>{"123", "456", "7"});
    CHECK(pieces("x !!!\n/y") == std::vector<std::string>{"x", " !!!\n/", "y"});
    CHECK(pieces("HELLOworld's") == std::vector<std::string>{"HELLOworld's"});
    CHECK(pieces("HELLO World") == std::vector<std::string>{"HELLO", " World"});
    CHECK(pieces("they'RE we'Ll") == std::vector<std::string>{"they'RE", " we'Ll"});
    CHECK(pieces("it'x") == std::vector<std::string>{"it", "'x"});
    CHECK(pieces("\tsep") == std::vector<std::string>{"\tsep"});
    CHECK(pieces("a\r\n\r\nb") == std::vector<std::string>{"a", "\r\n\r\n", "b"});
    // Lo letters are in both letter sets: an all-Lo run is one piece.
    CHECK(pieces("\xE6\x97\xA5\xE6\x9C\xAC") ==
          std::vector<std::string>{"\xE6\x97\xA5\xE6\x9C\xAC"});
    // Invalid bytes are punctuation-like single characters and are kept.
    CHECK(pieces("a\xFF\xFE b") == std::vector<std::string>{"a", "\xFF\xFE", " b"});
}

TEST_CASE("tokenizer: special tokens") {
    CHECK(tok().encode("<|start|>user<|message|>Hi<|end|>", AllowedSpecial::all_tokens()) ==
          Ids{200006, 1428, 200008, 12194, 200007});
    // Not allowed: special-token text stays ordinary text.
    CHECK(tok().encode("<|start|>", AllowedSpecial::none()) == Ids{27, 91, 5236, 91, 29});
    CHECK(tok().encode("<|start|><|end|>", AllowedSpecial{false, {200007}}) ==
          Ids{27, 91, 5236, 91, 29, 200007});
    CHECK(tok().encode("a<|<|call|>b", AllowedSpecial::all_tokens()) ==
          Ids{64, 27, 91, 200012, 65});
    CHECK(tok().encode("<|reserved_200013|>", AllowedSpecial::all_tokens()) == Ids{200013});
    CHECK(tok().encode("<|reserved_0200013|>", AllowedSpecial::all_tokens()).size() > 1);
    CHECK(tok().decode(Ids{201088}) == "<|reserved_201088|>");
    CHECK(tok().decode(Ids{200018}) == "<|reserved_200018|>");
    CHECK(tok().decode(Ids{200006, 173781, 200005, 17196, 200008}) ==
          "<|start|>assistant<|channel|>final<|message|>");
    CHECK_THROWS_AS(tok().decode(Ids{201089}), std::out_of_range);
    CHECK_THROWS_AS(tok().token_bytes(0xFFFFFFFFu), std::out_of_range);
    CHECK(tok().valid(199997));
    CHECK(tok().valid(201088));
    CHECK_FALSE(tok().valid(201089));
}

TEST_CASE("tokenizer: long pieces merge like short ones") {
    // 5000 'a' and 3000 spaces take the heap path; the result must decode back and match the
    // quadratic path's merges on the same prefix structure (every chunk is one token here).
    std::string as(5000, 'a');
    auto ids = tok().encode_ordinary(as);
    CHECK(tok().decode(ids) == as);
    CHECK(ids.size() < 1000);
    std::string spaces(3000, ' ');
    auto sp = tok().encode_ordinary(spaces + "x");
    CHECK(tok().decode(sp) == spaces + "x");
    // 129 bytes (heap) vs the same run split at 128 by hand must differ only at the join.
    std::string run(129, '=');
    CHECK(tok().decode(tok().encode_ordinary(run)) == run);
}

TEST_CASE("tokenizer: rank file errors name the file") {
    auto dir = std::filesystem::temp_directory_path() / "gossamer_tokenizer_test";
    std::filesystem::create_directories(dir);
    auto write = [&](const std::string& name, const std::string& content) {
        std::ofstream(dir / name, std::ios::binary) << content;
        return dir / name;
    };
    CHECK_THROWS_WITH(Tokenizer::from_rank_file(dir / "missing.tiktoken"),
                      doctest::Contains("cannot open"));
    CHECK_THROWS_WITH(Tokenizer::from_rank_file(write("bad64.tiktoken", "!!!! 0\n")),
                      doctest::Contains("bad64.tiktoken:1: invalid base64"));
    CHECK_THROWS_WITH(Tokenizer::from_rank_file(write("gap.tiktoken", "IQ== 0\nIg== 2\n")),
                      doctest::Contains("not dense"));
    CHECK_THROWS_WITH(Tokenizer::from_rank_file(write("few.tiktoken", "IQ== 0\n")),
                      doctest::Contains("single byte"));
    // The real file with the wrong expected hash is refused.
    std::string all_bytes;
    for (int b = 0; b < 256; ++b) {
        static const char* kB64 =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        all_bytes += std::string{kB64[b >> 2], kB64[(b & 3) << 4], '=', '='} + " " +
                     std::to_string(b) + "\n";
    }
    auto bytes_only = write("bytes.tiktoken", all_bytes);
    CHECK_THROWS_WITH(Tokenizer::from_rank_file(bytes_only, std::string(64, '0')),
                      doctest::Contains("SHA-256 mismatch"));
    auto t = Tokenizer::from_rank_file(bytes_only, gossamer::harmony::sha256_hex(all_bytes));
    CHECK(t.encode_ordinary("hi") == Ids{'h', 'i'});
    CHECK_FALSE(t.valid(300));
    std::filesystem::remove_all(dir);
}

TEST_CASE("tokenizer: sha256 known answers") {
    CHECK(gossamer::harmony::sha256_hex("") ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(gossamer::harmony::sha256_hex("abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(gossamer::harmony::sha256_hex(std::string(1000000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("tokenizer: long pieces match tiktoken (heap merge path)") {
    // Expected ids from tiktoken@1.0.22 (npm, o200k_base encode_ordinary). Pieces over 128
    // bytes take the heap merge, pieces over 30 bytes bypass the merge cache.
    auto repeat = [](std::string_view s, int n) {
        std::string out;
        for (int i = 0; i < n; ++i) out += s;
        return out;
    };
    const std::pair<std::string, Ids> cases[] = {
        {std::string(300, 'a'),
         {117525, 117525, 117525, 117525, 117525, 117525, 117525, 117525, 117525, 117525,
          117525, 117525, 117525, 117525, 117525, 117525, 117525, 117525, 117525, 117525,
          117525, 117525, 117525, 117525, 117525, 117525, 117525, 117525, 117525, 117525,
          117525, 117525, 117525, 117525, 117525, 117525, 117525, 45037}},
        {std::string(200, ' ') + "x", {72056, 46371, 1215}},
        {std::string(129, '='), {17686, 17686, 28}},
        {repeat("ab", 100),
         {68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822,
          68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822,
          68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822,
          68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822, 68822}},
        {repeat("\xCE\xA9", 150),
         {45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879,
          45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879,
          45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879,
          45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879,
          45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879,
          45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879,
          45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879,
          45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879,
          45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879,
          45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879,
          45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879, 45879,
          45879, 45879, 45879, 45879, 45879, 45879, 45879}},
        {std::string(400, '0'),
         {1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302,
          1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302,
          1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302,
          1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302,
          1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302,
          1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302,
          1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302,
          1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302,
          1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 1302, 15}},
        {repeat("\xC3\xA9", 70) + "z",
         {377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377,
          377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377,
          377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377,
          377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 377, 89}},
        {repeat("xyzzy", 60),
         {51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705,
          51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705,
          51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705,
          51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705,
          51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705,
          51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705,
          51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705,
          51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705,
          51089, 3705, 51089, 3705, 51089, 3705, 51089, 3705}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.first.size());
        CHECK(tok().encode_ordinary(c.first) == c.second);
    }
}
