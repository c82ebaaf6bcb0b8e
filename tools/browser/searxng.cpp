// The SearXNG backend (a self-hosted metasearch engine): GET {base}/search?q=&format=json ->
// results[].{title,url,content}, the first n kept; pages are fetched directly
// (fetch_web_page, under the address and domain policy). The instance must have the json
// format enabled (search.formats in its settings.yml).
#include <stdexcept>

#include "tools/browser/search_backend.h"
#include "tools/browser/str_cat.h"
#include "tools/browser/url.h"

namespace gossamer::tools::browser {
namespace {

using Json = nlohmann::json;

std::string field(const Json& item, const char* key) {
    return item.contains(key) ? python_str(item.at(key)) : std::string();
}

class SearxngBackend final : public SearchBackend {
  public:
    SearxngBackend(std::string base, std::shared_ptr<HttpClient> http)
        : base_(std::move(base)), http_(std::move(http)) {
        while (!base_.empty() && base_.back() == '/') base_.pop_back();
    }

    Page search(const std::string& query, int topn) override {
        ApiRequest request;
        request.url = cat({base_, "/search?q=", url::quote(query), "&format=json"});
        request.headers = {"Accept: application/json"};
        const Json data = call_json_api(*http_, request, "SearxngBackend");
        std::vector<SearchResult> found;
        for (const Json& r : data.value("results", Json::array())) {
            if (static_cast<int>(found.size()) >= topn) break;
            found.push_back({field(r, "title"), field(r, "url"), field(r, "content")});
        }
        return results_page(query, found);
    }

    Page fetch(const std::string& page_url) override { return fetch_web_page(*http_, page_url); }

  private:
    std::string base_;
    std::shared_ptr<HttpClient> http_;
};

}  // namespace

std::unique_ptr<SearchBackend> make_searxng_backend(const BrowserOptions& options,
                                                    std::shared_ptr<HttpClient> http) {
    if (options.base_url.empty())
        throw std::invalid_argument("the searxng backend needs the instance's URL (url:)");
    return std::make_unique<SearxngBackend>(options.base_url, std::move(http));
}

}  // namespace gossamer::tools::browser
