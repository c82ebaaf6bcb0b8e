// The You.com backend (the reference's default): GET {base}/v1/search?query=&count=n with
// header x-api-key -> results.web[].{title,url,snippets} then results.news[].{title,url,
// description}; POST {base}/v1/contents {"urls":[u],"livecrawl_formats":"html"} ->
// [0].{html,title}. The snippets list is written into the results page as Python's repr.
#include <stdexcept>

#include "tools/browser/errors.h"
#include "tools/browser/html_to_text.h"
#include "tools/browser/search_backend.h"
#include "tools/browser/str_cat.h"
#include "tools/browser/url.h"

namespace gossamer::tools::browser {
namespace {

using Json = nlohmann::json;
constexpr const char* kName = "YouComBackend";

std::string field(const Json& item, const char* key) {
    return item.contains(key) ? python_str(item.at(key)) : std::string();
}

class YouComBackend final : public SearchBackend {
  public:
    YouComBackend(const BrowserOptions& options, std::shared_ptr<HttpClient> http)
        : options_(options),
          base_(options.base_url.empty() ? "https://api.ydc-index.io" : options.base_url),
          http_(std::move(http)) {}

    Page search(const std::string& query, int topn) override {
        ApiRequest request;
        request.url =
            cat({base_, "/v1/search?query=", url::quote(query), "&count=", std::to_string(topn)});
        request.headers = {key_header()};
        const Json data = call_json_api(*http_, request, kName);
        const Json results = data.value("results", Json::object());
        std::vector<SearchResult> found;
        if (results.contains("web"))
            for (const Json& r : results.at("web"))
                found.push_back({field(r, "title"), field(r, "url"),
                                 r.contains("snippets") ? python_str(r.at("snippets")) : "[]"});
        if (results.contains("news"))
            for (const Json& r : results.at("news"))
                found.push_back({field(r, "title"), field(r, "url"), field(r, "description")});
        return results_page(query, found);
    }

    Page fetch(const std::string& page_url) override {
        ApiRequest request;
        request.method = "POST";
        request.url = base_ + "/v1/contents";
        request.headers = {key_header(), "Content-Type: application/json"};
        request.body = Json{{"urls", {page_url}}, {"livecrawl_formats", "html"}}.dump();
        const Json data = call_json_api(*http_, request, kName);
        if (!data.is_array() || data.empty())
            throw BackendError(cat({"No contents returned for ", page_url}));
        const Json& first = data[0];
        if (!first.is_object() || !first.contains("html"))
            throw BackendError(cat({"No HTML returned for ", page_url}));
        const Json& html = first.at("html");
        return html_page(html.is_string() ? html.get<std::string>() : "", page_url,
                         field(first, "title"));
    }

  private:
    std::string key_header() const {
        const auto key = api_key(options_, "YDC_API_KEY");
        if (!key)
            throw BackendError("You.com API key not provided. Get one at https://you.com/platform");
        return cat({"x-api-key: ", *key});
    }

    BrowserOptions options_;
    std::string base_;
    std::shared_ptr<HttpClient> http_;
};

}  // namespace

std::unique_ptr<SearchBackend> make_youcom_backend(const BrowserOptions& options,
                                                   std::shared_ptr<HttpClient> http) {
    return std::make_unique<YouComBackend>(options, std::move(http));
}

}  // namespace gossamer::tools::browser
