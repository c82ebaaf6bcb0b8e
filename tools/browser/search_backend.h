// The search backends behind one interface (simple_browser's Backend): search(query, topn)
// gives a results page, fetch(url) gives a page. You.com and Exa speak the reference's HTTP
// contracts (keys from YDC_API_KEY / EXA_API_KEY, non-200 -> "<Class> error <status>:
// <body>"); SearXNG uses its JSON API and fetches pages directly; the local backend
// searches a folder of .txt/.md/.html documents offline. Results pages are built as the
// reference builds them: an HTML list run through html_page() with URL "" and the query as
// title. Implementations: youcom.cpp, exa.cpp, searxng.cpp, local.cpp.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tools/browser/browser_options.h"
#include "tools/browser/http_client.h"
#include "tools/browser/page.h"

namespace gossamer::tools::browser {

class SearchBackend {
  public:
    virtual ~SearchBackend() = default;
    // The `sources=` value of the tool description.
    virtual std::string source() const { return "web"; }
    // Throws BackendError.
    virtual Page search(const std::string& query, int topn) = 0;
    // `url` without a view-source: prefix. Throws BackendError.
    virtual Page fetch(const std::string& url) = 0;
};

struct SearchResult {
    std::string title;
    std::string url;
    std::string summary;  // inserted into the HTML as is (the reference does not escape it)
};

// <html><body><h1>Search Results</h1><ul><li><a href='url'>title</a> summary</li>...</ul>
// as a page: url "", title = query.
Page results_page(const std::string& query, const std::vector<SearchResult>& results);

// A web page fetched directly (SearXNG and local backends): charset to UTF-8, HTML or plain
// text; other content types, HTTP errors and policy refusals throw BackendError.
Page fetch_web_page(HttpClient& http, const std::string& url);

// One JSON call to a search API: a status other than 200 throws BackendError("{backend}
// error {status}: {body}"), as the reference does; so does a body that is not JSON.
nlohmann::json call_json_api(HttpClient& http, const ApiRequest& request,
                             const std::string& backend);
// The API key from options, else the environment variable; nullopt when neither is set.
std::optional<std::string> api_key(const BrowserOptions& options, const char* variable);
// f"{value}" of a JSON value parsed by Python (None, True, ['a', 'b'], ...).
std::string python_str(const nlohmann::json& value);

// Throws std::invalid_argument naming what is missing (an unknown backend, searxng without
// base_url, local without root).
std::unique_ptr<SearchBackend> make_backend(const BrowserOptions& options,
                                            std::shared_ptr<HttpClient> http);

std::unique_ptr<SearchBackend> make_youcom_backend(const BrowserOptions& options,
                                                   std::shared_ptr<HttpClient> http);
std::unique_ptr<SearchBackend> make_exa_backend(const BrowserOptions& options,
                                                std::shared_ptr<HttpClient> http);
std::unique_ptr<SearchBackend> make_searxng_backend(const BrowserOptions& options,
                                                    std::shared_ptr<HttpClient> http);
std::unique_ptr<SearchBackend> make_local_backend(const BrowserOptions& options,
                                                  std::shared_ptr<HttpClient> http);

}  // namespace gossamer::tools::browser
