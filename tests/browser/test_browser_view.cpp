// What the model reads, exactly: the 80-column wrap (Python's textwrap), the display header
// and line numbers, the ~1024-token window, scrolling errors, find pages, link stripping,
// citations (batch and streaming), URL helpers and the address and domain policies.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harmony/tokenizer.h"
#include "harmony/utf8.h"
#include "tools/browser/address_policy.h"
#include "tools/browser/citations.h"
#include "tools/browser/errors.h"
#include "tools/browser/find_in_page.h"
#include "tools/browser/line_wrap.h"
#include "tools/browser/page_view.h"
#include "tools/browser/py_text.h"
#include "tools/browser/url.h"

namespace b = gossamer::tools::browser;
using Lines = std::vector<std::string>;

TEST_CASE("browser: lines wrap at 80 columns exactly as Python's textwrap does") {
    CHECK(b::wrap_lines("") == Lines{""});
    CHECK(b::wrap_lines("a\n\nb") == Lines{"a", "", "b"});
    CHECK(b::wrap_lines("   ") == Lines{"   "});  // whitespace is kept (drop_whitespace=False)
    const std::string words(60, 'a');
    CHECK(b::wrap_lines(words + " " + std::string(30, 'b')) ==
          Lines{words + " ", std::string(30, 'b')});
    // Long words break at 80; hyphenated words break after a hyphen that fits.
    CHECK(b::wrap_lines(std::string(100, 'x')) ==
          Lines{std::string(80, 'x'), std::string(20, 'x')});
    CHECK(b::wrap_lines(std::string(75, 'a') + " well-known-thing") ==
          Lines{std::string(75, 'a') + " ", "well-known-thing"});
    CHECK(b::wrap_lines(std::string(70, 'a') + "-" + std::string(20, 'b')) ==
          Lines{std::string(70, 'a') + "-", std::string(20, 'b')});
    // Tabs expand to 8 columns before wrapping; widths count code points, not bytes.
    CHECK(b::wrap_lines("a\tb") == Lines{"a       b"});
    const std::string cjk = "日本語テキスト";  // 7 code points, 21 bytes
    std::string many;
    for (int i = 0; i < 12; ++i) many += cjk;  // 84 code points, no spaces
    const Lines wrapped = b::wrap_lines(many);
    REQUIRE(wrapped.size() == 2);
    CHECK(b::py::length(wrapped[0]) == 80);
}

TEST_CASE("browser: the display has the reference's header, line numbers and errors") {
    b::Page page;
    page.url = "https://example.com/a%20b";
    page.title = "Example";
    page.text = "\nURL: https://example.com/a\nHello world";
    CHECK(b::render_page(page, 3, 0, -1) ==
          "[3] Example (https://example.com/a b)\n**viewing lines [0 - 2] of 2**\n\n"
          "L0: \nL1: URL: https://example.com/a\nL2: Hello world");
    CHECK(b::render_page(page, 4, 1, 1) ==
          "[4] Example (https://example.com/a b)\n**viewing lines [1 - 1] of 2**\n\n"
          "L1: URL: https://example.com/a");
    CHECK_THROWS_WITH_AS(b::render_page(page, 5, 3, -1),
                         "Invalid location parameter: `3`. Cannot exceed page maximum of 2.",
                         b::UsageError);
    page.url = "";  // search results: no " (url)"
    page.title = "what is gossamer";
    CHECK(b::render_page(page, 0, 2, 5) ==
          "[0] what is gossamer\n**viewing lines [2 - 2] of 2**\n\nL2: Hello world");
}

TEST_CASE("browser: the window holds about 1024 tokens of numbered lines") {
    b::Page page;
    page.url = "https://example.com/long";
    page.title = "Long";
    for (int i = 0; i < 400; ++i)
        page.text += "line " + std::to_string(i) + " has several ordinary words in it\n";
    const Lines lines = b::wrap_lines(page.text);
    // The reference: tokenize the numbered text from loc, take the character offset of
    // token 1024 (summing each token's decoded length), show the lines up to there.
    auto expected_end = [&](std::size_t loc) {
        const std::string txt = b::numbered_lines(lines, loc, lines.size());
        const auto& tok = gossamer::harmony::Tokenizer::o200k_harmony();
        const auto ids = tok.encode_ordinary(txt);
        std::size_t chars = 0;
        for (std::size_t k = 0; k < 1024; ++k)
            chars +=
                b::py::length(gossamer::harmony::utf8::to_valid_lossy(tok.token_bytes(ids[k])));
        std::size_t newlines = 0;
        for (std::size_t i = 0; i < b::py::byte_offset(txt, chars); ++i) newlines += txt[i] == '\n';
        return loc + newlines + 1;
    };
    const std::size_t end0 = b::end_line(lines, 0, -1);
    CHECK(end0 == expected_end(0));
    CHECK(end0 > 20);
    CHECK(end0 < 200);
    CHECK(b::end_line(lines, 100, -1) == expected_end(100));
    CHECK(b::end_line(lines, 390, -1) == lines.size());  // the rest fits
    CHECK(b::end_line(lines, 10, 5) == 15);
    const std::string shown = b::render_page(page, 0, 0, -1);
    CHECK(shown.find("**viewing lines [0 - " + std::to_string(end0 - 1) + "] of " +
                     std::to_string(lines.size() - 1) + "**") != std::string::npos);
}

TEST_CASE("browser: find shows 4 lines per match, skips ahead, strips link markup") {
    b::Page page;
    page.url = "https://example.com/";
    page.title = "Ex";
    page.text =
        "\nURL: https://example.com/\nalpha 【0†Beta link】 gamma\nnothing\nmore\n"
        "BETA again\nx\ny\nbeta three";
    const b::Page found = b::find_in_page("beta", page);
    CHECK(found.url == "https://example.com//find?pattern=beta");
    CHECK(found.title == "Find results for text: `beta` in `Ex`");
    REQUIRE(found.snippets);
    CHECK(found.snippets->at("1").line_idx == 8);
    CHECK(found.urls.at("0") == "https://example.com/");
    CHECK(b::render_page(found, 1, 0, -1) ==
          "[1] Find results for text: `beta` in `Ex` (https://example.com//find?pattern=beta)\n"
          "**viewing lines [0 - 7] of 7**\n\n"
          "L0: # 【0†match at L2】\nL1: alpha Beta link gamma\nL2: nothing\nL3: more\n"
          "L4: BETA again\nL5: \nL6: # 【1†match at L8】\nL7: beta three");
    const b::Page none = b::find_in_page("zz top", page);
    CHECK(none.text == "No `find` results for pattern: `zz top`");
    CHECK(none.url == "https://example.com//find?pattern=zz%20top");
    CHECK(none.snippets);  // still a find page: find refuses to run on it
}

TEST_CASE("browser: link markup is stripped, also when cut off at either end") {
    CHECK(b::strip_links("a 【12†text†x.org】 b 【3†same】") == "a text b same");
    CHECK(b::strip_links("cut】 rest") == " rest");
    CHECK(b::strip_links("rest 【4†unfini") == "rest unfini");
    CHECK(b::strip_links("no 【links】 here") == "no 【links】 here");
}

TEST_CASE("browser: citations become URL annotations; unknown cursors stay as written") {
    const std::vector<std::string> urls = {"", "https://example.com/a",
                                           "https://other.org/x%20y/z"};
    const std::string first = " ([example.com](https://example.com/a)) ";
    const std::string second = " ([other.org](https://other.org/x%20y/z)) ";
    const b::CitedText out = b::normalize_citations(
        "See 【1†L3-L5】 and 【2†L1】, not 【0†L2】 or 【9†L1】. Partial 【1†L", urls);
    CHECK(out.text ==
          "See " + first + " and " + second + ", not 【0†L2】 or 【9†L1】. Partial 【1†L");
    CHECK(out.has_partial);
    REQUIRE(out.citations.size() == 2);
    CHECK(out.citations[0].start_index == 4);
    CHECK(out.citations[0].end_index == 4 + first.size());
    CHECK(out.citations[0].title == "example.com");
    CHECK(out.citations[0].url == "https://example.com/a");
    CHECK(out.citations[1].start_index == 4 + first.size() + 5);
    CHECK(out.citations[1].title == "other.org");
    const b::CitedText hidden = b::normalize_citations("Done 【1†L", urls, true);
    CHECK(hidden.text == "Done ");
    const b::CitedText unicode = b::normalize_citations("é 【1†L1】", urls);
    CHECK(unicode.citations[0].start_index == 2);
    CHECK(unicode.citations[0].start_byte == 3);
}

TEST_CASE("browser: streaming holds back an unfinished citation until it closes") {
    b::CitationStream stream({"", "https://example.com/a"});
    const b::CitedText a = stream.push("See 【1†L3");
    CHECK(a.text == "See ");
    CHECK(a.has_partial);
    CHECK(stream.push("-L").text.empty());
    const b::CitedText c = stream.push("5】 done");
    CHECK(c.text == " ([example.com](https://example.com/a))  done");
    REQUIRE(c.citations.size() == 1);
    CHECK(c.citations[0].start_index == 4);  // counted from the start of the whole answer
    CHECK(stream.push(" and 【").text == " and ");
    CHECK(stream.finish().text == "【");
}

TEST_CASE("browser: URLs are joined, shown and quoted as Python's urllib does") {
    namespace u = b::url;
    CHECK(u::join("https://a.com/b/c", "../d") == "https://a.com/d");
    CHECK(u::join("https://a.com/b/c?x=1", "?y=2") == "https://a.com/b/c?y=2");
    CHECK(u::join("https://a.com", "x") == "https://a.com/x");
    CHECK(u::join("https://a.com/b/", "//c.org/p") == "https://c.org/p");
    CHECK(u::join("https://a.com/b", "#f") == "https://a.com/b#f");
    CHECK(u::join("https://a.com/b", " /sp\nace ") == "https://a.com/space");
    CHECK(u::join("", "rel/x") == "rel/x");
    CHECK(u::domain("example.com/x") == "example.com");
    CHECK(u::domain("https://u@h.com:8/x") == "u@h.com:8");
    CHECK(u::domain("local://docs/a.md") == "docs");
    CHECK(u::domain("") == "");
    CHECK(u::host("http://[::1]:80/") == "::1");
    CHECK(u::host("https://User@Example.COM:443/x") == "example.com");
    CHECK(u::quote("a b/é") == "a%20b/%C3%A9");
    CHECK(u::unquote("a%20b%C3%A9%zz%") == "a bé%zz%");
    CHECK(u::arxiv_to_ar5iv("https://arxiv.org/abs/1") == "https://ar5iv.org/abs/1");
}

TEST_CASE("browser: loopback, private, link-local and metadata addresses are classified") {
    for (const char* a : {"127.0.0.1",
                          "127.8.9.10",
                          "10.1.2.3",
                          "172.16.0.1",
                          "172.31.255.1",
                          "192.168.1.1",
                          "169.254.169.254",
                          "169.254.1.1",
                          "100.64.0.1",
                          "0.0.0.0",
                          "224.0.0.1",
                          "255.255.255.255",
                          "::1",
                          "::",
                          "fe80::1",
                          "fd00:ec2::254",
                          "fc00::1",
                          "::ffff:127.0.0.1",
                          "::ffff:10.0.0.1",
                          "64:ff9b::a9fe:a9fe",
                          "ff02::1"})
        CHECK_MESSAGE(b::blocked_address(std::string_view(a)).has_value(), a);
    for (const char* a : {"93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111",
                          "::ffff:8.8.8.8", "example.com"})
        CHECK_MESSAGE(!b::blocked_address(std::string_view(a)).has_value(), a);
    CHECK(*b::blocked_address(std::string_view("169.254.169.254")) ==
          "169.254.169.254 is a cloud metadata address");
    CHECK(*b::blocked_address(std::string_view("::ffff:127.0.0.1")) ==
          "::ffff:127.0.0.1 maps to 127.0.0.1 is a loopback address");
}

TEST_CASE("browser: domain lists cover subdomains; deny wins; the budget runs out") {
    const b::DomainPolicy open;
    CHECK_FALSE(open.refuse("anything.org"));
    const b::DomainPolicy policy({"example.com", "*.wiki.org"}, {"bad.example.com"});
    CHECK_FALSE(policy.refuse("example.com"));
    CHECK_FALSE(policy.refuse("docs.Example.com"));
    CHECK_FALSE(policy.refuse("en.wiki.org"));
    CHECK(policy.refuse("notexample.com"));
    CHECK(*policy.refuse("x.bad.example.com") ==
          "the domain x.bad.example.com is denied by the browser settings (deny_domains: "
          "bad.example.com)");
    CHECK(*policy.refuse("other.net") ==
          "the domain other.net is not in the browser's allow_domains");
    b::RequestBudget budget(2);
    budget.spend();
    budget.spend();
    CHECK_THROWS_WITH_AS(budget.spend(),
                         "the browser's request budget for this session is spent (2 requests)",
                         b::BackendError);
}
