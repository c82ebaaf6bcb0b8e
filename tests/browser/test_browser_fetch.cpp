// Fetching real HTTP from a server on 127.0.0.1 started by the test: charsets, size cap,
// redirects and loops, HTTP errors, timeouts, gzip, content types; and the address block,
// which is on by default (direct, through "localhost", and through a redirect) and lifted
// explicitly for the other tests.
#include <doctest/doctest.h>

#include "tests/browser/browser_fixtures.h"
#include "tools/browser/errors.h"
#include "tools/browser/http_client.h"
#include "tools/browser/search_backend.h"

namespace b = gossamer::tools::browser;
using gossamer::test::FixtureSite;

namespace {

b::BrowserOptions lifted() {
    b::BrowserOptions o;
    o.allow_private = true;  // the fixture server is on loopback
    o.total_timeout = std::chrono::milliseconds(5000);
    return o;
}

b::Page fetch(const b::BrowserOptions& options, const std::string& url) {
    b::HttpClient http(options);
    return b::fetch_web_page(http, url);
}

std::string fetch_error(const b::BrowserOptions& options, const std::string& url) {
    try {
        fetch(options, url);
    } catch (const b::BackendError& e) {
        return e.what();
    }
    return "(no error)";
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("browser: a fixture page is fetched and converted like the reference") {
    FixtureSite site;
    const b::Page page = fetch(lifted(), site.origin + "/page");
    CHECK(page.url == site.origin + "/page");
    CHECK(page.title == "Fixture page");
    CHECK(page.urls.at("0") == site.origin + "/other");
    CHECK(contains(page.text, "Model Params   \ngpt-oss-20b 21B   \n"));
    CHECK_FALSE(contains(page.text, "hidden"));  // script
    CHECK_FALSE(contains(page.text, "color"));   // style
    const auto seen = site.server.exchanges();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].headers.count("accept-encoding") == 1);  // gzip/br offered
}

TEST_CASE("browser: charsets from the header, a meta tag, or neither become UTF-8") {
    FixtureSite site;
    CHECK(contains(fetch(lifted(), site.origin + "/latin1").text, "café crème"));
    CHECK(contains(fetch(lifted(), site.origin + "/cp1252-header").text, "“quoted” € 5"));
    CHECK(contains(fetch(lifted(), site.origin + "/cp1252-meta").text, "“meta” naïve"));
    CHECK(contains(fetch(lifted(), site.origin + "/http-equiv").text, "façade"));
    CHECK(contains(fetch(lifted(), site.origin + "/undeclared").text, "résumé"));
}

TEST_CASE("browser: gzip bodies are decoded; plain text is kept; other types are refused") {
    FixtureSite site;
    const b::Page zipped = fetch(lifted(), site.origin + "/gzip");
    CHECK(zipped.title == "Zipped");
    CHECK(contains(zipped.text, "compressed body"));
    const b::Page plain = fetch(lifted(), site.origin + "/plain");
    CHECK(plain.text == "\nURL: " + site.origin + "/plain\nPlain text line one.\nLine 〖two〗.");
    CHECK(plain.title == "127.0.0.1:" + std::to_string(site.server.port()));
    CHECK(fetch_error(lifted(), site.origin + "/doc.pdf") ==
          "unsupported content type application/pdf (the browser reads HTML and plain text)");
}

TEST_CASE("browser: a huge page is cut at the size cap") {
    FixtureSite site;
    b::BrowserOptions o = lifted();
    o.max_page_bytes = 64 * 1024;
    b::HttpClient http(o);
    const b::HttpResponse r = http.fetch_page(site.origin + "/huge");
    CHECK(r.truncated);
    CHECK(r.body.size() == 64 * 1024);
    const b::Page page = b::fetch_web_page(http, site.origin + "/huge");
    CHECK(page.text.size() < 70 * 1024);
}

TEST_CASE("browser: redirects are followed; loops and long chains are refused") {
    FixtureSite site;
    CHECK(fetch(lifted(), site.origin + "/redirect").url == site.origin + "/page");
    CHECK(fetch(lifted(), site.origin + "/redirect-absolute").title == "Fixture page");
    CHECK(fetch(lifted(), site.origin + "/chain/5").title == "Fixture page");
    CHECK(fetch_error(lifted(), site.origin + "/chain/6") == "too many redirects (more than 5)");
    CHECK(fetch_error(lifted(), site.origin + "/loop-a") ==
          "redirect loop: " + site.origin + "/loop-a was already visited");
}

TEST_CASE("browser: HTTP errors, timeouts and bad schemes become messages") {
    FixtureSite site;
    CHECK(fetch_error(lifted(), site.origin + "/missing") == "HTTP status 404");
    CHECK(fetch_error(lifted(), site.origin + "/broken") == "HTTP status 500");
    b::BrowserOptions quick = lifted();
    quick.total_timeout = std::chrono::milliseconds(300);
    CHECK(fetch_error(quick, site.origin + "/slow").starts_with("timed out ("));
    CHECK(fetch_error(lifted(), "file:///etc/passwd") ==
          "unsupported URL scheme 'file' (the browser opens http and https URLs)");
    CHECK(fetch_error(lifted(), "ftp://example.com/x") ==
          "unsupported URL scheme 'ftp' (the browser opens http and https URLs)");
}

TEST_CASE(
    "browser: loopback and private addresses are blocked by default, also via DNS and redirects") {
    FixtureSite site;
    const b::BrowserOptions strict;  // the defaults
    const std::string port = std::to_string(site.server.port());
    const std::string hint =
        " (the browser does not open loopback, private, link-local or metadata addresses)";
    CHECK(fetch_error(strict, site.origin + "/page") ==
          "refused to connect: 127.0.0.1 is a loopback address" + hint);
    // A name that resolves to loopback is caught at the address curl connects to.
    const std::string via_name = fetch_error(strict, "http://localhost:" + port + "/page");
    CHECK(via_name.starts_with("refused to connect: "));
    CHECK(contains(via_name, "is a loopback address"));
    CHECK(fetch_error(strict, "http://[::ffff:127.0.0.1]:" + port + "/page") ==
          "refused to connect: ::ffff:127.0.0.1 maps to 127.0.0.1 is a loopback address" + hint);
    CHECK(fetch_error(strict, "http://169.254.169.254/latest/meta-data/") ==
          "refused to connect: 169.254.169.254 is a cloud metadata address" + hint);
    CHECK(fetch_error(strict, "http://10.0.0.7/") ==
          "refused to connect: 10.0.0.7 is a private address" + hint);
    CHECK(site.server.exchanges().empty());  // nothing reached the server
    // A trusted host may be reached, but its redirect to 127.0.0.1 is checked again.
    b::BrowserOptions trusted;
    trusted.allow_private_hosts = {"localhost"};
    CHECK(fetch(trusted, "http://localhost:" + port + "/other").title == "Other");
    CHECK(fetch_error(trusted, "http://localhost:" + port + "/to-loopback") ==
          "refused to connect: 127.0.0.1 is a loopback address" + hint);
    const auto seen = site.server.exchanges();
    REQUIRE(seen.size() == 2);
    CHECK(seen[1].target == "/to-loopback");
}

TEST_CASE("browser: domain lists and the request budget apply to every hop") {
    FixtureSite site;
    b::BrowserOptions o = lifted();
    o.deny_domains = {"127.0.0.1"};
    CHECK(fetch_error(o, site.origin + "/page") ==
          "the domain 127.0.0.1 is denied by the browser settings (deny_domains: 127.0.0.1)");
    b::BrowserOptions budget = lifted();
    budget.max_requests = 3;
    b::HttpClient http(budget);
    b::fetch_web_page(http, site.origin + "/redirect");  // two requests
    CHECK_THROWS_WITH_AS(b::fetch_web_page(http, site.origin + "/redirect"),
                         "the browser's request budget for this session is spent (3 requests)",
                         b::BackendError);
}
