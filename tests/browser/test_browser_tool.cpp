// The browser tool end to end: search, open, scroll, find and every error text, with the
// exact displays of the reference, against the fixture server's fake search APIs (SearXNG,
// You.com, Exa) and the local document backend; the asynchronous invoke(); and
// `gossamer tool browser`.
#include <doctest/doctest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "harmony/builtin_tools.h"
#include "tests/browser/browser_fixtures.h"
#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"
#include "tools/browser/browser_tool.h"

namespace b = gossamer::tools::browser;
using gossamer::test::FixtureSite;
using gossamer::test::with_port;

namespace {

std::string call(b::BrowserTool& tool, const std::string& function, const std::string& args) {
    gossamer::tools::ToolCall c;
    c.recipient = "browser." + function;
    c.function = function;
    c.arguments = args;
    c.channel = "analysis";
    return tool.run(c).text;
}

b::BrowserOptions searx(const FixtureSite& site) {
    b::BrowserOptions o;
    o.backend = "searxng";
    o.base_url = site.origin + "/searx";
    o.allow_private = true;
    o.deny_domains = {"example.org"};  // never leave the machine
    return o;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
    for (auto i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size()))
        s.replace(i, from.size(), to);
    return s;
}

}  // namespace

TEST_CASE("browser: search, open, scroll and find show the reference's displays") {
    FixtureSite site;
    b::BrowserTool tool(searx(site));
    const unsigned short port = site.server.port();
    CHECK(call(tool, "search", R"({"query": "needle", "topn": 3})") ==
          with_port("[0] needle\n**viewing lines [0 - 5] of 5**\n\nL0: \nL1: URL: \n"
                    "L2: # Search Results\nL3: \n"
                    "L4:   * 【0†Fixture page†127.0.0.1:PORT】 The word needle appears here.\n"
                    "L5:   * 【1†Remote & site†example.org】 Elsewhere",
                    port));
    const auto api = site.server.exchanges();
    REQUIRE(api.size() == 1);
    CHECK(api[0].target == "/searx/search?q=needle&format=json");

    const std::string page = with_port(gossamer::test::kFixtureDisplay, port);
    CHECK(call(tool, "open", R"({"id": 0})") == replace(page, "[0] ", "[1] "));
    CHECK(call(tool, "open", R"({"loc": 11, "num_lines": 2})") ==
          with_port("[2] Fixture page (http://127.0.0.1:PORT/page)\n"
                    "**viewing lines [11 - 12] of 15**\n\n"
                    "L11: The word needle appears here, and a long sentence follows so that this "
                    "paragraph\nL12:  is wrapped at eighty columns by the browser.",
                    port));
    CHECK(call(tool, "find", R"({"pattern": "NEEDLE"})") ==
          with_port("[3] Find results for text: `needle` in `Fixture page` "
                    "(http://127.0.0.1:PORT/page/find?pattern=needle)\n"
                    "**viewing lines [0 - 4] of 4**\n\n"
                    "L0: # 【0†match at L11】\n"
                    "L1: The word needle appears here, and a long sentence follows so that this "
                    "paragraph\nL2:  is wrapped at eighty columns by the browser.\nL3: \n"
                    "L4:   * first needle ",
                    port));
    // Following a find result opens the page (from memory) 4 lines above the match.
    const std::string back = call(tool, "open", R"({"id": 0})");
    CHECK(
        back.starts_with(with_port("[4] Fixture page (http://127.0.0.1:PORT/page)\n"
                                   "**viewing lines [7 - 15] of 15**\n\nL7: Model Params",
                                   port)));
    CHECK(call(tool, "open", R"({"cursor": 1, "id": 0})")
              .starts_with(with_port("[5] Other (http://127.0.0.1:PORT/other)\n", port)));
    CHECK(site.server.exchanges().size() == 3);  // search, /page, /other: the rest from memory
    CHECK(tool.cursor_urls().size() == 6);
    const auto cited = tool.cite("Both models 【1†L8-L9】.");
    REQUIRE(cited.citations.size() == 1);
    CHECK(cited.citations[0].url == site.origin + "/page");
    CHECK(cited.text ==
          "Both models  ([127.0.0.1:" + std::to_string(port) + "](" + site.origin + "/page)) .");
}

TEST_CASE("browser: every error text of the reference") {
    FixtureSite site;
    b::BrowserTool tool(searx(site));
    CHECK(call(tool, "open", R"({"id": 1})") == "No pages to access!");
    CHECK(call(tool, "find", R"({"pattern": "x"})") == "No pages to access!");
    CHECK(call(tool, "search", "{not json") == R"({"error": "Invalid function arguments"})");
    CHECK(call(tool, "search", "[1, 2]") == R"({"error": "Invalid function arguments"})");
    CHECK(call(tool, "search", R"({"q": "x"})") == R"({"error": "Invalid function arguments"})");
    CHECK(call(tool, "fly", "{}") == R"({"error": "Unknown function: fly"})");
    call(tool, "search", R"({"query": "needle"})");  // cursor 0
    call(tool, "open", R"({"id": 0})");              // cursor 1
    CHECK(call(tool, "open", R"({"id": 7})") == "Invalid link id `7`.");
    CHECK(call(tool, "open", R"({"cursor": 42})") ==
          "Cursor `42` is out of range. Available cursor indices: [0 - 1].");
    CHECK(call(tool, "open", R"({"cursor": "1"})") == "`cursor` should be an integer, not `str`");
    // A bad location pushes no cursor: the next display is [2].
    CHECK(call(tool, "open", R"({"loc": 99})") ==
          "Invalid location parameter: `99`. Cannot exceed page maximum of 15.");
    CHECK(call(tool, "find", R"({"pattern": "zzz"})")
              .starts_with("[2] Find results for text: `zzz` in `Fixture page`"));
    CHECK(call(tool, "find", R"({"pattern": "zzz"})") ==
          "Cannot run `find` on search results page or find results page");
    CHECK(call(tool, "open", R"({"cursor": 2, "loc": 0})")
              .ends_with("L0: No `find` results for pattern: `zzz`"));
    const std::string missing = site.origin + "/missing";
    CHECK(call(tool, "open", R"({"id": ")" + missing + R"("})") ==
          "Error fetching URL `" + missing + "`: HTTP status 404");
    CHECK(call(tool, "open", R"({"id": "https://example.org/x"})") ==
          "Error fetching URL `https://example.org/x`: the domain example.org is denied by the "
          "browser settings (deny_domains: example.org)");
    b::BrowserOptions down = searx(site);
    down.base_url = site.origin + "/exa";  // answers 500 to everything but Exa's paths
    b::BrowserTool broken(down);
    CHECK(call(broken, "search", R"({"query": "q"})") ==
          "Error during search for `q`: SearxngBackend error 500: {\"error\":\"boom\"}");
}

TEST_CASE("browser: the You.com backend speaks its HTTP contract") {
    FixtureSite site;
    b::BrowserOptions o;
    o.backend = "youcom";
    o.base_url = site.origin + "/ydc";
    o.api_key = "ydc-test-key";
    b::BrowserTool tool(o);
    CHECK(call(tool, "search", R"({"query": "needle"})") ==
          "[0] needle\n**viewing lines [0 - 6] of 6**\n\nL0: \nL1: URL: \nL2: # Search Results\n"
          "L3: \nL4:   * 【0†Needle docs†docs.example.com】 ['The word needle appears here.', "
          "\"It's a \nL5: fixture\"]\nL6:   * 【1†Gossamer ships†news.example.net】 A news item");
    CHECK(
        call(tool, "open", R"({"id": "https://docs.example.com/guide"})") ==
        "[1] The Guide (https://docs.example.com/guide)\n**viewing lines [0 - 4] of 4**\n\n"
        "L0: \nL1: URL: https://docs.example.com/guide\nL2: ## Guide \nL3: \nL4: Read 【0†next】.");
    const auto seen = site.server.exchanges();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].method == "GET");
    CHECK(seen[0].target == "/ydc/v1/search?query=needle&count=20");
    CHECK(seen[0].headers.at("x-api-key") == "ydc-test-key");
    CHECK(seen[1].method == "POST");
    CHECK(seen[1].target == "/ydc/v1/contents");
    CHECK(nlohmann::json::parse(seen[1].body) ==
          nlohmann::json::parse(
              R"({"urls":["https://docs.example.com/guide"],"livecrawl_formats":"html"})"));
    o.api_key = "wrong";
    b::BrowserTool refused(o);
    CHECK(call(refused, "search", R"({"query": "needle"})") ==
          "Error during search for `needle`: YouComBackend error 401: {\"detail\":\"Invalid API "
          "key\"}");
    o.api_key.reset();
    ::unsetenv("YDC_API_KEY");
    b::BrowserTool keyless(o);
    CHECK(call(keyless, "search", R"({"query": "needle"})") ==
          "Error during search for `needle`: You.com API key not provided. Get one at "
          "https://you.com/platform");
}

TEST_CASE("browser: the Exa backend speaks its HTTP contract") {
    FixtureSite site;
    b::BrowserOptions o;
    o.backend = "exa";
    o.base_url = site.origin + "/exa";
    ::setenv("EXA_API_KEY", "exa-test-key", 1);
    b::BrowserTool tool(o);
    CHECK(call(tool, "search", R"({"query": "transformers"})") ==
          "[0] transformers\n**viewing lines [0 - 5] of 5**\n\nL0: \nL1: URL: \n"
          "L2: # Search Results\nL3: \nL4:   * 【0†Exa result A†exa.example.com】 Summary of A\n"
          "L5:   * 【1†None†other.example.net】 Summary of B");
    CHECK(call(tool, "open", R"({"id": 0})") ==
          "[1] Exa page (https://exa.example.com/a)\n**viewing lines [0 - 2] of 2**\n\n"
          "L0: \nL1: URL: https://exa.example.com/a\nL2: Exa HTML text with 【0†a link】");
    const auto seen = site.server.exchanges();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].headers.at("x-api-key") == "exa-test-key");
    CHECK(
        nlohmann::json::parse(seen[0].body) ==
        nlohmann::json::parse(
            R"({"query":"transformers","numResults":20,"contents":{"text":true,"summary":true}})"));
    CHECK(nlohmann::json::parse(seen[1].body) ==
          nlohmann::json::parse(
              R"({"urls":["https://exa.example.com/a"],"text":{"includeHtmlTags":true}})"));
    ::unsetenv("EXA_API_KEY");
}

TEST_CASE("browser: the local backend searches a folder and opens its documents offline") {
    gossamer::test::TempDir dir("papers");
    std::ofstream(dir.path / "attention.md")
        << "# Attention Is All You Need\n\nThe transformer relies on attention. Attention again.\n";
    std::ofstream(dir.path / "notes.txt") << "Unrelated notes about cooking.\n";
    std::ofstream(dir.path / "page.html")
        << "<title>HTML doc</title><p>Self-attention in <a href='attention.md'>the paper</a>.</p>";
    std::ofstream(dir.path / ".hidden.md") << "attention attention attention";
    b::BrowserOptions o;
    o.root = dir.path;
    b::BrowserTool tool(o);
    const std::string name = dir.path.filename().string();
    const std::string results = call(tool, "search", R"({"query": "attention"})");
    CHECK(results.starts_with("[0] attention\n**viewing lines [0 - "));
    CHECK(results.find("L4:   * 【0†Attention Is All You Need†" + name + "】 The transformer") !=
          std::string::npos);
    CHECK(results.find("【1†HTML doc†" + name + "】") != std::string::npos);
    CHECK(results.find("cooking") == std::string::npos);
    CHECK(results.find("hidden") == std::string::npos);
    CHECK(call(tool, "open", R"({"id": 0})") ==
          "[1] Attention Is All You Need (local://" + name +
              "/attention.md)\n"
              "**viewing lines [0 - 4] of 4**\n\nL0: \nL1: URL: local://" +
              name +
              "/attention.md\nL2: # Attention Is All You Need\nL3: \n"
              "L4: The transformer relies on attention. Attention again.");
    const std::string html = call(tool, "open", R"({"cursor": 0, "id": 1})");
    CHECK(html.find("Self-attention in 【0†the paper】.") != std::string::npos);
    CHECK(call(tool, "open", R"({"id": 0})").starts_with("[3] Attention Is All You Need"));
    const std::string escape = "local://" + name + "/../../etc/passwd";
    CHECK(call(tool, "open", R"({"id": ")" + escape + R"("})") ==
          "Error fetching URL `" + escape + "`: no such document: " + escape);
}

TEST_CASE("browser: invoke() answers on the caller's executor; describe() is gpt-oss's") {
    gossamer::test::TempDir dir("docs");
    std::ofstream(dir.path / "a.txt") << "alpha beta\n";
    b::BrowserOptions o;
    o.root = dir.path;
    b::BrowserTool tool(o);
    const auto ns = tool.describe();
    const auto expected = gossamer::harmony::builtin_tools::browser_with_source("web");
    CHECK(ns.name == "browser");
    CHECK(ns.description == expected.description);
    CHECK(ns.tools.size() == 3);
    boost::asio::io_context io;
    auto guard = boost::asio::make_work_guard(io);
    std::string answer;
    std::thread::id answered_on;
    gossamer::tools::ToolCall c{
        "browser.search", "search", R"({"query": "alpha"})", "analysis", {}};
    tool.invoke(c, {io.get_executor(), "s", dir.path}, [&](gossamer::tools::ToolOutput out) {
        answer = out.text;
        answered_on = std::this_thread::get_id();
        guard.reset();
    });
    io.run();
    CHECK(answered_on == std::this_thread::get_id());
    CHECK(answer.starts_with("[0] alpha\n"));
    CHECK_THROWS_AS(b::BrowserTool(b::BrowserOptions{}), std::invalid_argument);  // no root
}

TEST_CASE("browser: gossamer tool browser prints the tool messages as a JSON array") {
    gossamer::test::TempDir dir("cli");
    std::ofstream(dir.path / "guide.md") << "# Guide\n\nInstall with apt.\n";
    const auto run = gossamer::test::run_gossamer(
        "tool browser --backend local --root '" + dir.path.string() + "'",
        R"([{"recipient": "browser.search", "arguments": {"query": "install"}},
            {"recipient": "browser.open", "arguments": "{\"id\": 0}"},
            {"recipient": "browser.find", "arguments": {"pattern": "apt"}}])");
    REQUIRE(run.exit_code == 0);
    const auto out = nlohmann::json::parse(run.out);
    REQUIRE(out.size() == 3);
    CHECK(out[0].get<std::string>().starts_with("[0] install\n"));
    CHECK(out[1].get<std::string>().starts_with("[1] Guide (local://"));
    CHECK(out[2].get<std::string>().find("L1: Install with apt.") != std::string::npos);
    const auto bad = gossamer::test::run_gossamer("tool browser --backend nope", "[]");
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("unknown browser backend 'nope'") != std::string::npos);
}
