// Every code point of the assigned Unicode planes, in several pre-tokenizer contexts, encodes
// to the same ids as tiktoken@1.0.22: proof that the generated Unicode class tables agree with
// the regex crate inside tiktoken. The expected token counts and id hashes come from
// scripts/gen-codepoint-golden.mjs (tiktoken, npm) in tests/data/tokenizer/code_points.txt.
#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "harmony/tokenizer.h"
#include "harmony/utf8.h"

namespace {

// Must match blockText() in scripts/gen-codepoint-golden.mjs.
std::string block_text(char32_t start, char32_t end) {
    std::string s;
    for (char32_t cp = start; cp < end; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        std::string c;
        gossamer::harmony::utf8::append(c, cp);
        s += "x" + c + "y " + c + "1 " + c + c + "A'S\t" + c + "\n";
    }
    return s;
}

std::uint64_t fnv1a64(const std::vector<gossamer::harmony::Token>& ids) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (auto id : ids)
        for (int k = 0; k < 4; ++k) {
            h ^= (id >> (8 * k)) & 0xFFu;
            h *= 0x100000001b3ull;
        }
    return h;
}

}  // namespace

TEST_CASE("tokenizer: every code point agrees with tiktoken") {
    std::ifstream in(std::string(GOSSAMER_TEST_DATA) + "/tokenizer/code_points.txt");
    REQUIRE(in);
    const auto& tok = gossamer::harmony::Tokenizer::o200k_harmony();
    std::string line;
    int blocks = 0, mismatches = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::uint32_t start = 0, end = 0;
        std::size_t count = 0;
        std::string hash;
        fields >> std::hex >> start >> end >> std::dec >> count >> hash;
        auto ids = tok.encode_ordinary(block_text(start, end));
        std::uint64_t expected = std::stoull(hash, nullptr, 16);
        ++blocks;
        if (ids.size() != count || fnv1a64(ids) != expected) {
            ++mismatches;
            if (mismatches <= 5)
                FAIL_CHECK("code points U+" << std::hex << start << "..U+" << end << std::dec
                                            << ": " << ids.size() << " tokens, tiktoken " << count);
        }
    }
    CHECK(blocks > 3000);
    CHECK(mismatches == 0);
}
