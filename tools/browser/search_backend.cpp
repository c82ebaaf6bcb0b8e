#include "tools/browser/search_backend.h"

#include <cctype>
#include <cstdlib>
#include <stdexcept>

#include "harmony/utf8.h"
#include "tools/browser/charset.h"
#include "tools/browser/errors.h"
#include "tools/browser/html_to_text.h"
#include "tools/browser/py_text.h"
#include "tools/browser/str_cat.h"

namespace gossamer::tools::browser {
namespace {

enum class Kind { html, text, other };

std::string media_type(std::string_view content_type) {
    std::string t(content_type.substr(0, content_type.find(';')));
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return t;
}

Kind kind_of(const std::string& type, std::string_view body) {
    if (type == "text/html" || type == "application/xhtml+xml") return Kind::html;
    if (type.starts_with("text/") || type == "application/json" || type == "application/xml" ||
        type.ends_with("+json") || type.ends_with("+xml"))
        return Kind::text;
    if (!type.empty() && type != "application/octet-stream") return Kind::other;
    const std::size_t first = body.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && body[first] == '<') return Kind::html;
    return harmony::utf8::is_valid(body.substr(0, 4096)) ? Kind::text : Kind::other;
}

std::string python_repr(const nlohmann::json& v) {
    if (v.is_string()) return py::repr(v.get_ref<const std::string&>());
    if (v.is_array()) {
        std::string out = "[";
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i) out += ", ";
            out += python_repr(v[i]);
        }
        return out + "]";
    }
    if (v.is_object()) {
        std::string out = "{";
        bool first = true;
        for (const auto& [key, value] : v.items()) {
            if (!first) out += ", ";
            first = false;
            out += cat({py::repr(key), ": ", python_repr(value)});
        }
        return out + "}";
    }
    return python_str(v);
}

}  // namespace

std::string python_str(const nlohmann::json& v) {
    if (v.is_null()) return "None";
    if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_array() || v.is_object()) return python_repr(v);
    return v.dump();
}

std::optional<std::string> api_key(const BrowserOptions& options, const char* variable) {
    if (options.api_key && !options.api_key->empty()) return options.api_key;
    const char* env = std::getenv(variable);
    if (env && *env) return std::string(env);
    return std::nullopt;
}

nlohmann::json call_json_api(HttpClient& http, const ApiRequest& request,
                             const std::string& backend) {
    const HttpResponse r = http.call_api(request);
    if (r.status != 200)
        throw BackendError(cat({backend, " error ", std::to_string(r.status), ": ", r.body}));
    try {
        return nlohmann::json::parse(r.body);
    } catch (const nlohmann::json::exception&) {
        throw BackendError(
            cat({backend, " error: the answer is not JSON: ", py::truncate(r.body, 200)}));
    }
}

Page results_page(const std::string& query, const std::vector<SearchResult>& results) {
    std::string items;
    for (const auto& r : results)
        items += cat({"<li><a href='", r.url, "'>", r.title, "</a> ", r.summary, "</li>"});
    const std::string html = cat(
        {"\n<html><body>\n<h1>Search Results</h1>\n<ul>\n", items, "\n</ul>\n</body></html>\n"});
    return html_page(html, "", query);
}

Page fetch_web_page(HttpClient& http, const std::string& url) {
    HttpResponse r = http.fetch_page(url);
    if (r.status < 200 || r.status >= 300)
        throw BackendError(cat({"HTTP status ", std::to_string(r.status)}));
    const std::string type = media_type(r.content_type);
    switch (kind_of(type, r.body)) {
        case Kind::html:
            return html_page(decode_body(r.body, r.content_type, true), r.final_url);
        case Kind::text:
            return text_page(decode_body(r.body, r.content_type, false), r.final_url);
        case Kind::other:
            break;
    }
    throw BackendError(
        cat({"unsupported content type ", type.empty() ? "(none, binary data)" : type,
             " (the browser reads HTML and plain text)"}));
}

std::unique_ptr<SearchBackend> make_backend(const BrowserOptions& options,
                                            std::shared_ptr<HttpClient> http) {
    if (options.backend == "youcom") return make_youcom_backend(options, std::move(http));
    if (options.backend == "exa") return make_exa_backend(options, std::move(http));
    if (options.backend == "searxng") return make_searxng_backend(options, std::move(http));
    if (options.backend == "local") return make_local_backend(options, std::move(http));
    throw std::invalid_argument(cat({"unknown browser backend '", options.backend,
                                     "' (expected local, searxng, exa or youcom)"}));
}

}  // namespace gossamer::tools::browser
