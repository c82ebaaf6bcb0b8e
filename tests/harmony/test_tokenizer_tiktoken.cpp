// Cross-check of the o200k_harmony tokenizer against tiktoken@1.0.22 on a large mixed corpus
// (tests/data/tokenizer/tiktoken_cases.json, written by scripts/gen-tokenizer-golden.mjs):
// encode_ordinary, encode with all / some special tokens allowed and decode must agree with
// tiktoken id for id. Also round trips on seeded random bytes (invalid UTF-8 included, which
// tiktoken cannot take) and random Unicode. Needs neither network nor node.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "harmony/tokenizer.h"
#include "harmony/unicode_class.h"
#include "harmony/utf8.h"

using gossamer::harmony::AllowedSpecial;
using gossamer::harmony::Token;
using gossamer::harmony::Tokenizer;
using Ids = std::vector<Token>;

namespace {

const Tokenizer& tok() {
    return Tokenizer::o200k_harmony();
}

struct Case {
    std::string name;
    std::string text;
    Ids ordinary;
    Ids all;   // encode(text, all); equal to ordinary when the text has no special token
    Ids some;  // encode(text, {some_allowed}); equal to ordinary likewise
};

struct Golden {
    std::vector<Case> cases;
    AllowedSpecial some_allowed;
};

// The corpus, parsed once for all test cases of this file.
const Golden& golden() {
    static const Golden g = [] {
        const std::string path = std::string(GOSSAMER_TEST_DATA) + "/tokenizer/tiktoken_cases.json";
        std::ifstream in(path, std::ios::binary);
        if (!in)
            throw std::runtime_error(path + ": cannot open (run scripts/gen-tokenizer-golden.sh)");
        const auto j = nlohmann::json::parse(in);
        Golden out;
        for (const auto& s : j.at("header").at("some_allowed")) {
            auto id = gossamer::harmony::special_token_id(s.get<std::string>());
            if (!id) throw std::runtime_error("some_allowed names a non-special: " + s.dump());
            out.some_allowed.ids.push_back(*id);
        }
        for (const auto& c : j.at("cases")) {
            Case k;
            k.name = c.at("name").get<std::string>();
            k.text = c.at("text").get<std::string>();
            k.ordinary = c.at("ordinary").get<Ids>();
            k.all = c.contains("all") ? c.at("all").get<Ids>() : k.ordinary;
            k.some = c.contains("some") ? c.at("some").get<Ids>() : k.ordinary;
            out.cases.push_back(std::move(k));
        }
        return out;
    }();
    return g;
}

// Bytes made printable: valid UTF-8 as is, control characters and invalid bytes as \xNN
// (a token's bytes are often part of a character).
std::string escape(std::string_view bytes) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes.size();) {
        auto c = static_cast<unsigned char>(bytes[i]);
        char32_t cp = 0;
        std::size_t n = c >= 0x80 ? gossamer::harmony::utf8::decode(bytes, i, cp) : 1;
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (n > 1) {
            out += bytes.substr(i, n);
            i += n;
            continue;
        } else if (c < 0x20 || c >= 0x7F) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
        ++i;
    }
    return out;
}

// "[i] id 'bytes'" for ids[from, to): the decoded piece of each id next to it.
std::string window(const Ids& ids, std::size_t from, std::size_t to) {
    std::ostringstream os;
    for (std::size_t i = from; i < std::min(to, ids.size()); ++i) {
        os << "  [" << i << "] " << ids[i] << " '";
        if (tok().valid(ids[i]))
            os << escape(tok().token_bytes(ids[i]));
        else
            os << "<invalid id>";
        os << "'\n";
    }
    return os.str();
}

// Empty when equal; otherwise the first difference with both id windows and their pieces.
std::string compare(const Case& c, const char* what, const Ids& got, const Ids& want) {
    if (got == want) return {};
    std::size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
    std::size_t from = i >= 6 ? i - 6 : 0, to = i + 8;
    std::ostringstream os;
    os << "case '" << c.name << "' (" << std::string(what) << "): first difference at index " << i
       << " (gossamer " << got.size() << " ids, tiktoken " << want.size() << ")\n"
       << " text near it: '";
    // The text around the difference: decode the common prefix to find its byte offset.
    std::string prefix = tok().decode(std::span<const Token>(want.data(), from));
    os << escape(std::string_view(c.text).substr(std::min(prefix.size(), c.text.size()), 80))
       << "'\n gossamer:\n"
       << window(got, from, to) << " tiktoken:\n"
       << window(want, from, to);
    return os.str();
}

// Encodes every case and compares with `expected`; reports the first few mismatches in full
// and counts them all, by group.
template <class F>
void for_all_cases(const char* what, F&& encode, Ids Case::*expected) {
    const auto& cases = golden().cases;
    REQUIRE(cases.size() > 1000);
    std::size_t failures = 0;
    std::map<std::string, int> failing_groups;
    for (const Case& c : cases) {
        std::string diff = compare(c, what, encode(c.text), c.*expected);
        if (diff.empty()) continue;
        ++failures;
        // "prose/ja/1" counts for prose/ja, "unicode16/U+897" for unicode16.
        std::size_t slash = c.name.find('/');
        std::size_t second = c.name.find('/', slash + 1);
        ++failing_groups[c.name.substr(0, second == std::string::npos ? slash : second)];
        if (failures <= 10) FAIL_CHECK(diff);
    }
    if (failures) {
        std::ostringstream os;
        for (const auto& [group, n] : failing_groups) os << " " << group << ":" << n;
        FAIL_CHECK(failures << " of " << cases.size() << " cases differ (" << std::string(what)
                            << "); by group:" << os.str());
    }
    CHECK(failures == 0);
}

}  // namespace

TEST_CASE("tokenizer tiktoken: encode_ordinary matches on the golden corpus") {
    for_all_cases(
        "encode_ordinary", [](const std::string& t) { return tok().encode_ordinary(t); },
        &Case::ordinary);
}

TEST_CASE("tokenizer tiktoken: encode with all special tokens allowed matches") {
    // The corpus must really exercise special tokens, or this test could not fail.
    std::size_t with_specials = 0;
    for (const Case& c : golden().cases) with_specials += c.all != c.ordinary;
    REQUIRE(with_specials >= 100);
    const AllowedSpecial all = AllowedSpecial::all_tokens();
    for_all_cases(
        "encode(all)", [&](const std::string& t) { return tok().encode(t, all); }, &Case::all);
}

TEST_CASE("tokenizer tiktoken: encode with some special tokens allowed matches") {
    const AllowedSpecial& some = golden().some_allowed;
    REQUIRE(some.ids.size() == 3);
    for_all_cases(
        "encode(some)", [&](const std::string& t) { return tok().encode(t, some); }, &Case::some);
}

TEST_CASE("tokenizer tiktoken: decode of tiktoken's ids gives the text back") {
    std::size_t failures = 0;
    for (const Case& c : golden().cases)
        for (const Ids* ids : {&c.ordinary, &c.all, &c.some}) {
            std::string text = tok().decode(*ids);
            if (text == c.text) continue;
            if (++failures <= 10)
                FAIL_CHECK("case '" << c.name << "': decode gives '" << escape(text)
                                    << "', text is '" << escape(c.text) << "'");
        }
    CHECK(failures == 0);
}

TEST_CASE("tokenizer tiktoken: every code point is classified as tiktoken's regex does") {
    // tests/data/tokenizer/code_point_classes.txt: runs of O (other), N (\\p{N}) and L
    // (letter, mark or whitespace) probed from tiktoken; see scripts/gen-tokenizer-golden.mjs.
    // A code point in the wrong class changes the pieces around it, e.g. "c.re" and "c'll".
    using gossamer::harmony::CodePointClass;
    auto coarse = [](char32_t cp) {
        CodePointClass c = gossamer::harmony::classify(cp);
        return c == CodePointClass::other ? 'O' : c == CodePointClass::number ? 'N' : 'L';
    };
    std::ifstream in(std::string(GOSSAMER_TEST_DATA) + "/tokenizer/code_point_classes.txt");
    REQUIRE(in);
    struct Wrong {
        char32_t first, last;
        char got, want;
    };
    std::vector<Wrong> wrong_runs;  // consecutive code points with the same disagreement
    std::uint64_t covered = 0, wrong = 0;
    char32_t expected_next = 0;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::uint32_t first = 0, last = 0;
        char want = 0;
        fields >> std::hex >> first >> last >> want;
        REQUIRE_MESSAGE((fields && first <= last && last <= 0x10FFFF), "bad line: " << line);
        if (expected_next == 0xD800) expected_next = 0xE000;  // surrogates are not in the file
        REQUIRE_MESSAGE(first == expected_next, "runs must be contiguous: " << line);
        expected_next = last + 1;
        for (char32_t cp = first; cp <= last; ++cp) {
            ++covered;
            char got = coarse(cp);
            if (got == want) continue;
            ++wrong;
            if (!wrong_runs.empty() && wrong_runs.back().last + 1 == cp &&
                wrong_runs.back().got == got && wrong_runs.back().want == want)
                wrong_runs.back().last = cp;
            else
                wrong_runs.push_back({cp, cp, got, want});
        }
    }
    CHECK(covered == 0x110000 - 0x800);
    if (wrong) {
        std::ostringstream os;
        os << std::hex << std::uppercase;
        for (std::size_t i = 0; i < wrong_runs.size() && i < 40; ++i)
            os << "\n  U+" << static_cast<std::uint32_t>(wrong_runs[i].first) << "..U+"
               << static_cast<std::uint32_t>(wrong_runs[i].last) << " gossamer "
               << wrong_runs[i].got << " tiktoken " << wrong_runs[i].want;
        FAIL_CHECK(wrong << " code points in " << wrong_runs.size()
                         << " ranges are classified unlike tiktoken (gossamer's tables are Unicode "
                         << std::string(gossamer::harmony::unicode_version())
                         << "; tiktoken@1.0.22 and openai/harmony use regex-syntax 0.8.5, Unicode "
                            "16.0.0):"
                         << os.str());
    }
    CHECK(wrong == 0);
}

namespace {

// Round trip of one input in every mode; on failure names the input (escaped).
void check_round_trip(const std::string& x, std::size_t& failures) {
    const Ids ordinary = tok().encode_ordinary(x);
    const Ids all = tok().encode(x, AllowedSpecial::all_tokens());
    const Ids none = tok().encode(x, AllowedSpecial::none());
    bool ok = tok().decode(ordinary) == x && tok().decode(all) == x && none == ordinary &&
              std::all_of(ordinary.begin(), ordinary.end(),
                          [](Token t) { return t < gossamer::harmony::kNumMergeableRanks; }) &&
              std::all_of(all.begin(), all.end(), [](Token t) { return tok().valid(t); });
    if (!ok && ++failures <= 10) FAIL_CHECK("round trip fails for '" << escape(x) << "'");
}

std::string random_utf8_scalar(std::mt19937_64& rng) {
    // Mostly the BMP and the supplementary planes that have characters; every plane can occur.
    std::uint64_t r = rng();
    char32_t cp = 0;
    switch (r % 8) {
        case 0:
            cp = static_cast<char32_t>(0x20 + (r >> 8) % 0x5F);
            break;
        case 1:
            cp = static_cast<char32_t>((r >> 8) % 0x80);
            break;
        case 2:
        case 3:
            cp = static_cast<char32_t>(0x80 + (r >> 8) % (0x10000 - 0x80));
            break;
        case 4:
            cp = static_cast<char32_t>(0x10000 + (r >> 8) % 0x10000);
            break;
        case 5:
            cp = static_cast<char32_t>(0x20000 + (r >> 8) % 0x20000);
            break;
        default:
            cp = static_cast<char32_t>((r >> 8) % 0x110000);
            break;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
    std::string s;
    gossamer::harmony::utf8::append(s, cp);
    return s;
}

}  // namespace

TEST_CASE("tokenizer tiktoken: random bytes round trip, invalid UTF-8 kept byte for byte") {
    std::mt19937_64 rng(0x5eed'0001);
    // Byte sequences that sit on UTF-8 and pre-tokenizer edges: lead bytes without their
    // continuation, stray continuations, overlongs, surrogates, > U+10FFFF, and ASCII that
    // the regex treats specially.
    const std::vector<std::string> atoms = {"\x80",
                                            "\xBF",
                                            "\xC0",
                                            "\xC1\xBF",
                                            "\xC2",
                                            "\xC3\xA9",
                                            "\xE0\x80\x80",
                                            "\xE0\xA0",
                                            "\xED\xA0\x80",
                                            "\xED\x9F\xBF",
                                            "\xEF\xBB\xBF",
                                            "\xF0\x9F\x98",
                                            "\xF0\x9F\x98\x80",
                                            "\xF4\x8F\xBF\xBF",
                                            "\xF4\x90\x80\x80",
                                            "\xF5",
                                            "\xF8\x88\x80\x80\x80",
                                            "\xFE",
                                            "\xFF",
                                            " ",
                                            "  ",
                                            "\t",
                                            "\n",
                                            "\r\n",
                                            "\xC2\xA0",
                                            "\xE3\x80\x80",
                                            "a",
                                            "Z",
                                            "'s",
                                            "'LL",
                                            "1",
                                            "123",
                                            "!",
                                            "/",
                                            "<|start|>",
                                            "<|end|>",
                                            "<|",
                                            "|>",
                                            "\xCC\x81",
                                            "\xE6\x97\xA5",
                                            "\0"};
    std::size_t failures = 0;
    for (int n = 0; n < 3000; ++n) {
        std::string x;
        std::size_t len = rng() % 64;
        int style = n % 3;
        for (std::size_t i = 0; i < len; ++i) {
            if (style == 0)
                x += static_cast<char>(rng() & 0xFF);  // uniform bytes
            else if (style == 1)
                x += atoms[rng() % atoms.size()];
            else
                x += (rng() % 4 == 0) ? atoms[rng() % atoms.size()] : random_utf8_scalar(rng);
        }
        check_round_trip(x, failures);
    }
    // Long inputs: one long piece of invalid bytes, and long mixed runs through the long merge.
    std::string long_invalid(5000, '\xFF');
    check_round_trip(long_invalid, failures);
    std::string long_mixed;
    for (int i = 0; i < 4000; ++i) long_mixed += static_cast<char>(0x80 | (rng() & 0x7F));
    check_round_trip(long_mixed, failures);
    CHECK(failures == 0);
}

TEST_CASE("tokenizer tiktoken: random Unicode round trip") {
    std::mt19937_64 rng(0x5eed'0002);
    std::size_t failures = 0;
    for (int n = 0; n < 2000; ++n) {
        std::string x;
        std::size_t len = rng() % 200;
        for (std::size_t i = 0; i < len; ++i) x += random_utf8_scalar(rng);
        REQUIRE(gossamer::harmony::utf8::is_valid(x));
        check_round_trip(x, failures);
    }
    CHECK(failures == 0);
}

TEST_CASE("tokenizer tiktoken: an invalid byte is one punctuation-like character") {
    // tokenizer.h: invalid bytes pre-tokenize like punctuation, so a lone one is its own
    // single-byte token, and a run of them is one piece merged like any other bytes.
    auto byte_rank = [](const char* b) { return *tok().rank_of(b); };
    CHECK(tok().encode_ordinary("\xFF") == Ids{byte_rank("\xFF")});
    CHECK(tok().encode_ordinary("\x80") == Ids{byte_rank("\x80")});
    CHECK(tok().decode(tok().encode_ordinary(" \xFFx")) == " \xFFx");
    // Truncated UTF-8 followed by ASCII: the valid text after it is encoded as usual.
    const Ids tail = tok().encode_ordinary("\xE6\x97 hello world");
    const Ids plain = tok().encode_ordinary(" hello world");
    REQUIRE(tail.size() >= plain.size());
    CHECK(Ids(tail.end() - static_cast<std::ptrdiff_t>(plain.size()), tail.end()) == plain);
}
