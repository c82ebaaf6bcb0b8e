// Test support for the browser tests: the fixture site served by FixtureServer (pages with
// links, images, tables and scripts; bad charsets; a huge page; redirects and a loop; 404 and
// 500; a slow page; gzip; plain text and PDF) and fake You.com, Exa and SearXNG endpoints
// answering with the JSON shapes those APIs return. Paths under /ydc, /exa and /searx.
#pragma once

#include <string>

#include "tests/browser/fixture_server.h"

namespace gossamer::test {

inline const char* kFixturePage = R"HTML(<!DOCTYPE html>
<html><head><title>Fixture page</title>
<style>p { color: blue }</style><script>document.write("hidden")</script></head>
<body>
<h1>Gossamer fixture</h1>
<p>The browser reads <a href="/other">another page</a>, a <a href="https://example.org/ext">remote site</a> and an image <img src="x.png" alt="diagram">.</p>
<table><tr><th>Model</th><th>Params</th></tr><tr><td>gpt-oss-20b</td><td>21B</td></tr><tr><td>gpt-oss-120b</td><td>117B</td></tr></table>
<p>The word needle appears here, and a long sentence follows so that this paragraph is wrapped at eighty columns by the browser.</p>
<ul><li>first needle</li><li>second</li></ul>
</body></html>
)HTML";

// The reference's display of kFixturePage opened at cursor 0 ("PORT" stands for the port).
inline const char* kFixtureDisplay = R"TXT([0] Fixture page (http://127.0.0.1:PORT/page)
**viewing lines [0 - 15] of 15**

L0: 
L1: URL: http://127.0.0.1:PORT/page
L2: # Gossamer fixture
L3: 
L4: The browser reads 【0†another page】, a 【1†remote site†example.org】 and an image 
L5: [Image 0: diagram].
L6: 
L7: Model Params   
L8: gpt-oss-20b 21B   
L9: gpt-oss-120b 117B  
L10: 
L11: The word needle appears here, and a long sentence follows so that this paragraph
L12:  is wrapped at eighty columns by the browser.
L13: 
L14:   * first needle 
L15:   * second)TXT";

inline std::string with_port(std::string text, unsigned short port) {
    const std::string p = std::to_string(port);
    for (auto i = text.find("PORT"); i != std::string::npos; i = text.find("PORT", i + p.size()))
        text.replace(i, 4, p);
    return text;
}

inline FixtureResponse html(std::string body) {
    FixtureResponse r;
    r.body = std::move(body);
    return r;
}

inline FixtureResponse redirect(unsigned status, std::string location) {
    FixtureResponse r;
    r.status = status;
    r.content_type = "text/html";
    r.headers = {{"Location", std::move(location)}};
    return r;
}

inline FixtureResponse json(std::string body) {
    FixtureResponse r;
    r.content_type = "application/json";
    r.body = std::move(body);
    return r;
}

// You.com GET /v1/search and POST /v1/contents (shapes from api.ydc-index.io).
inline FixtureResponse youcom(const HttpExchange& ex) {
    if (ex.headers.count("x-api-key") == 0 || ex.headers.at("x-api-key") != "ydc-test-key") {
        FixtureResponse r = json(R"({"detail":"Invalid API key"})");
        r.status = 401;
        return r;
    }
    if (ex.target.starts_with("/ydc/v1/search"))
        return json(
            R"({"results":{"web":[{"url":"https://docs.example.com/needle","title":"Needle docs",
          "description":"A page served by the tests","snippets":["The word needle appears here.","It's a fixture"],
          "page_age":"2025-01-01T00:00:00","favicon_url":null}],
          "news":[{"url":"https://news.example.net/story","title":"Gossamer ships","description":"A <b>news</b> item",
          "page_age":"2025-02-02T00:00:00","thumbnail_url":"https://news.example.net/t.png"}]},
          "metadata":{"request_uuid":"00000000-0000-0000-0000-000000000000","query":"needle","latency":0.1}})");
    if (ex.target == "/ydc/v1/contents")
        return json(R"([{"url":"https://docs.example.com/guide","title":"The Guide",
          "html":"<html><body><h2>Guide</h2><p>Read <a href='/next'>next</a>.</p></body></html>","markdown":null}])");
    FixtureResponse r = json(R"({"detail":"Not Found"})");
    r.status = 404;
    return r;
}

// Exa POST /search and POST /contents (shapes from api.exa.ai).
inline FixtureResponse exa(const HttpExchange& ex) {
    if (ex.target == "/exa/search")
        return json(R"({"requestId":"r1","resolvedSearchType":"neural","results":[
          {"id":"https://exa.example.com/a","title":"Exa result A","url":"https://exa.example.com/a",
           "publishedDate":null,"author":null,"score":0.91,"text":"full text","summary":"Summary of A"},
          {"id":"https://other.example.net/b","title":null,"url":"https://other.example.net/b",
           "publishedDate":null,"author":"Someone","text":"more","summary":"Summary of B"}],
          "costDollars":{"total":0.005}})");
    if (ex.target == "/exa/contents")
        return json(
            R"({"requestId":"r2","results":[{"id":"https://exa.example.com/a","url":"https://exa.example.com/a",
          "title":"Exa page","text":"<p>Exa <b>HTML</b> text with <a href='https://exa.example.com/b'>a link</a></p>"}],
          "statuses":[{"id":"https://exa.example.com/a","status":"success"}]})");
    FixtureResponse r = json(R"({"error":"boom"})");
    r.status = 500;
    return r;
}

// SearXNG GET /search?q=...&format=json.
inline FixtureResponse searxng(const HttpExchange& ex, const std::string& origin) {
    (void)ex;
    return json(R"({"query":"needle","number_of_results":0,"results":[
      {"url":")" +
                origin + R"(/page","title":"Fixture page","content":"The word needle appears here.",
       "engine":"duckduckgo","engines":["duckduckgo"],"positions":[1],"score":1.0,"category":"general"},
      {"url":"https://example.org/ext","title":"Remote & site","content":"Elsewhere",
       "engine":"bing","engines":["bing"],"positions":[2],"score":0.5,"category":"general"}],
      "answers":[],"corrections":[],"infoboxes":[],"suggestions":[],"unresponsive_engines":[]})");
}

// The whole fixture site.
inline FixtureResponse fixture_site(const HttpExchange& ex, const std::string& origin) {
    const std::string& t = ex.target;
    if (t.starts_with("/ydc/")) return youcom(ex);
    if (t.starts_with("/exa/")) return exa(ex);
    if (t.starts_with("/searx/")) return searxng(ex, origin);
    if (t == "/page") return html(kFixturePage);
    if (t == "/other")
        return html("<title>Other</title><p>Back to <a href='/page'>the page</a>.</p>");
    if (t == "/latin1") {
        FixtureResponse r = html("<p>caf\xe9 cr\xe8me</p>");
        r.content_type = "text/html; charset=ISO-8859-1";
        return r;
    }
    if (t == "/cp1252-header") {
        FixtureResponse r = html("<p>\x93quoted\x94 \x80 5</p>");
        r.content_type = "text/html; charset=windows-1252";
        return r;
    }
    if (t == "/cp1252-meta") {
        FixtureResponse r = html(
            "<html><head><meta charset=\"windows-1252\"></head><p>\x93meta\x94 "
            "na\xefve</p></html>");
        r.content_type = "text/html";
        return r;
    }
    if (t == "/http-equiv") {
        FixtureResponse r = html(
            "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
            "charset=iso-8859-1\">"
            "</head><p>fa\xe7"
            "ade</p></html>");
        r.content_type = "text/html";
        return r;
    }
    if (t == "/undeclared") {
        FixtureResponse r = html("<p>r\xe9sum\xe9</p>");
        r.content_type = "text/html";
        return r;
    }
    if (t == "/huge") return html("<p>" + std::string(3 * 1024 * 1024, 'x') + "</p>");
    if (t == "/redirect") return redirect(302, "/page");
    if (t == "/redirect-absolute") return redirect(301, origin + "/page");
    if (t == "/loop-a") return redirect(302, "/loop-b");
    if (t == "/loop-b") return redirect(307, "/loop-a");
    if (t.starts_with("/chain/")) {
        const int n = std::stoi(t.substr(7));
        return n == 0 ? html(kFixturePage) : redirect(302, "/chain/" + std::to_string(n - 1));
    }
    if (t == "/to-loopback") return redirect(302, origin + "/page");
    if (t == "/slow") {
        FixtureResponse r = html("<p>late</p>");
        r.delay = std::chrono::milliseconds(1500);
        return r;
    }
    if (t == "/gzip") {
        FixtureResponse r = html(gzip_stored("<title>Zipped</title><p>compressed body</p>"));
        r.headers = {{"Content-Encoding", "gzip"}};
        return r;
    }
    if (t == "/plain") {
        FixtureResponse r;
        r.content_type = "text/plain; charset=utf-8";
        r.body = "Plain text line one.\nLine 【two】.";
        return r;
    }
    if (t == "/doc.pdf") {
        FixtureResponse r;
        r.content_type = "application/pdf";
        r.body = "%PDF-1.4 binary";
        return r;
    }
    if (t == "/broken") {
        FixtureResponse r = html("<p>Internal Server Error</p>");
        r.status = 500;
        return r;
    }
    FixtureResponse r = html("<p>Not Found</p>");
    r.status = 404;
    return r;
}

// A FixtureServer serving fixture_site.
struct FixtureSite {
    FixtureServer server{[this](const HttpExchange& ex) { return fixture_site(ex, origin); }};
    std::string origin = server.origin();
};

}  // namespace gossamer::test
