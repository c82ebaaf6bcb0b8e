// The Exa backend: POST {base}/search {"query", "numResults": n, "contents": {"text": true,
// "summary": true}} -> results[].{title,url,summary}; POST {base}/contents {"urls":[u],
// "text":{"includeHtmlTags":true}} -> results[0].{text (HTML), title}. Header x-api-key.
#include "tools/browser/errors.h"
#include "tools/browser/html_to_text.h"
#include "tools/browser/search_backend.h"
#include "tools/browser/str_cat.h"

namespace gossamer::tools::browser {
namespace {

using Json = nlohmann::json;
constexpr const char* kName = "ExaBackend";

std::string field(const Json& item, const char* key) {
    return item.contains(key) ? python_str(item.at(key)) : std::string();
}

class ExaBackend final : public SearchBackend {
  public:
    ExaBackend(const BrowserOptions& options, std::shared_ptr<HttpClient> http)
        : options_(options),
          base_(options.base_url.empty() ? "https://api.exa.ai" : options.base_url),
          http_(std::move(http)) {}

    Page search(const std::string& query, int topn) override {
        const Json data = post("/search", Json{{"query", query},
                                               {"numResults", topn},
                                               {"contents", {{"text", true}, {"summary", true}}}});
        std::vector<SearchResult> found;
        for (const Json& r : data.value("results", Json::array()))
            found.push_back({field(r, "title"), field(r, "url"), field(r, "summary")});
        return results_page(query, found);
    }

    Page fetch(const std::string& page_url) override {
        const Json data =
            post("/contents", Json{{"urls", {page_url}}, {"text", {{"includeHtmlTags", true}}}});
        const Json results = data.value("results", Json::array());
        if (!results.is_array() || results.empty())
            throw BackendError(cat({"No contents returned for ", page_url}));
        const Json& first = results[0];
        const Json text = first.value("text", Json(""));
        return html_page(text.is_string() ? text.get<std::string>() : "", page_url,
                         field(first, "title"));
    }

  private:
    Json post(const std::string& endpoint, const Json& payload) {
        const auto key = api_key(options_, "EXA_API_KEY");
        if (!key) throw BackendError("Exa API key not provided");
        ApiRequest request;
        request.method = "POST";
        request.url = base_ + endpoint;
        request.headers = {cat({"x-api-key: ", *key}), "Content-Type: application/json"};
        request.body = payload.dump();
        return call_json_api(*http_, request, kName);
    }

    BrowserOptions options_;
    std::string base_;
    std::shared_ptr<HttpClient> http_;
};

}  // namespace

std::unique_ptr<SearchBackend> make_exa_backend(const BrowserOptions& options,
                                                std::shared_ptr<HttpClient> http) {
    return std::make_unique<ExaBackend>(options, std::move(http));
}

}  // namespace gossamer::tools::browser
