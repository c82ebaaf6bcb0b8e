// The local backend: offline research over a folder of .txt, .md and .html documents.
// search() scores every document by its query terms (1 + ln tf, weighted by ln(1 + N/df),
// title hits counting double) and lists the best as a results page whose links are
// local://{folder name}/{path}; fetch() opens those from disk (never leaving the folder:
// no "..", no symlinks out) and any http(s) URL through the network like SearXNG does.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <system_error>

#include "tools/browser/charset.h"
#include "tools/browser/errors.h"
#include "tools/browser/find_in_page.h"
#include "tools/browser/html_to_text.h"
#include "tools/browser/py_text.h"
#include "tools/browser/search_backend.h"
#include "tools/browser/str_cat.h"
#include "tools/browser/url.h"

namespace gossamer::tools::browser {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxDocuments = 20000;
constexpr std::size_t kSummaryChars = 240;

struct Document {
    std::string url;
    std::string title;
    std::string text;  // what is searched: the file's text, or the page's without markup
    std::string lower;
};

bool is_html(const fs::path& p) {
    const std::string e = py::lower(p.extension().string());
    return e == ".html" || e == ".htm";
}
bool is_document(const fs::path& p) {
    const std::string e = py::lower(p.extension().string());
    return e == ".txt" || e == ".md" || e == ".markdown" || is_html(p);
}

std::string escape_html(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// The first "# " heading of a markdown or text file, else the file name.
std::string text_title(const std::string& text, const fs::path& path) {
    std::size_t b = 0;
    while (b < text.size()) {
        std::size_t e = text.find('\n', b);
        if (e == std::string::npos) e = text.size();
        std::string line = py::strip(std::string_view(text).substr(b, e - b));
        if (line.starts_with("# ")) return py::strip(line.substr(2));
        if (!line.empty()) break;
        b = e + 1;
    }
    return path.filename().string();
}

std::vector<std::string> terms_of(const std::string& query) {
    std::vector<std::string> terms;
    std::u32string current;
    for (char32_t c : py::lower(py::to_u32(query)) + U" ") {
        if (py::is_word(c)) {
            current.push_back(c);
        } else if (!current.empty()) {
            const std::string t = py::to_utf8(current);
            if (std::find(terms.begin(), terms.end(), t) == terms.end()) terms.push_back(t);
            current.clear();
        }
    }
    return terms;
}

std::size_t count_of(const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t i = hay.find(needle); i != std::string::npos;
         i = hay.find(needle, i + needle.size()))
        ++n;
    return n;
}

// About kSummaryChars of the text around the first hit, whitespace collapsed.
std::string summary_of(const Document& d, const std::vector<std::string>& terms) {
    std::size_t hit = std::string::npos;
    for (const auto& t : terms) hit = std::min(hit, d.lower.find(t));
    if (hit == std::string::npos) hit = 0;
    const std::u32string text = py::to_u32(d.text);
    const std::size_t hit_char = py::length(std::string_view(d.lower).substr(0, hit));
    const std::size_t begin = hit_char > kSummaryChars / 3 ? hit_char - kSummaryChars / 3 : 0;
    std::string s = py::strip(
        py::collapse_space(py::to_utf8(std::u32string_view(text).substr(begin, kSummaryChars))));
    if (begin > 0) s = "..." + s;
    if (begin + kSummaryChars < text.size()) s += "...";
    return s;
}

class LocalBackend final : public SearchBackend {
  public:
    LocalBackend(const BrowserOptions& options, std::shared_ptr<HttpClient> http)
        : options_(options), http_(std::move(http)) {
        std::error_code ec;
        root_ = fs::canonical(options.root, ec);
        if (ec || !fs::is_directory(root_))
            throw std::invalid_argument(
                cat({"the local browser backend's root is not a folder: ", options.root.string()}));
        name_ = root_.filename().string();
        if (name_.empty()) name_ = "docs";
    }

    Page search(const std::string& query, int topn) override {
        const std::vector<Document> docs = load_all();
        const std::vector<std::string> terms = terms_of(query);
        std::map<std::string, std::size_t> df;
        for (const auto& d : docs)
            for (const auto& t : terms)
                if (d.lower.find(t) != std::string::npos) ++df[t];
        std::vector<std::pair<double, const Document*>> scored;
        for (const auto& d : docs) {
            const std::string title = py::lower(d.title);
            double score = 0;
            for (const auto& t : terms) {
                const std::size_t tf = count_of(d.lower, t) + 2 * count_of(title, t);
                if (tf == 0) continue;
                const double idf =
                    std::log(1.0 + static_cast<double>(docs.size()) /
                                       static_cast<double>(std::max<std::size_t>(df[t], 1)));
                score += (1.0 + std::log(static_cast<double>(tf))) * idf;
            }
            if (score > 0) scored.emplace_back(score, &d);
        }
        std::stable_sort(scored.begin(), scored.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        std::vector<SearchResult> results;
        for (const auto& [score, d] : scored) {
            if (static_cast<int>(results.size()) >= topn) break;
            results.push_back({escape_html(d->title), d->url, escape_html(summary_of(*d, terms))});
        }
        return results_page(query, results);
    }

    Page fetch(const std::string& page_url) override {
        const url::Parts parts = url::split(page_url);
        if (parts.scheme != "local") return fetch_web_page(*http_, page_url);
        if (parts.authority != name_) throw BackendError(cat({"no such document: ", page_url}));
        const fs::path path = inside_root(url::unquote(parts.path), page_url);
        const std::string content = read(path);
        if (is_html(path)) return html_page(content, page_url);
        return text_page(content, page_url, text_title(content, path));
    }

  private:
    fs::path inside_root(const std::string& relative, const std::string& shown) const {
        fs::path rel = fs::path(relative).relative_path();
        for (const auto& part : rel)
            if (part == "..") throw BackendError(cat({"no such document: ", shown}));
        std::error_code ec;
        const fs::path full = fs::weakly_canonical(root_ / rel, ec);
        auto [r, f] = std::mismatch(root_.begin(), root_.end(), full.begin(), full.end());
        if (ec || r != root_.end() || !fs::is_regular_file(full))
            throw BackendError(cat({"no such document: ", shown}));
        return full;
    }

    std::string read(const fs::path& path) const {
        std::ifstream in(path, std::ios::binary);
        std::string bytes;
        bytes.resize(options_.max_page_bytes);
        in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        bytes.resize(static_cast<std::size_t>(in.gcount()));
        return decode_body(bytes, "", is_html(path));
    }

    std::string url_of(const fs::path& path) const {
        return cat(
            {"local://", name_, "/", url::quote(fs::relative(path, root_).generic_string())});
    }

    Document load(const fs::path& path, const std::string& doc_url) const {
        Document d;
        d.url = doc_url;
        const std::string content = read(path);
        if (is_html(path)) {
            const Page page = html_page(content, doc_url);
            d.title = page.title;
            const std::size_t header = page.text.find('\n', 1);  // "\nURL: ...\n"
            d.text =
                strip_links(header == std::string::npos ? page.text : page.text.substr(header + 1));
        } else {
            d.title = text_title(content, path);
            d.text = content;
            const std::size_t heading = content.find("# " + d.title);  // shown as the title
            if (heading != std::string::npos && py::strip(content.substr(0, heading)).empty())
                d.text = content.substr(heading + 2 + d.title.size());
        }
        d.lower = py::lower(d.text);
        return d;
    }

    std::vector<Document> load_all() const {
        std::vector<fs::path> paths;
        std::error_code ec;
        for (fs::recursive_directory_iterator it(root_, ec), end; !ec && it != end;
             it.increment(ec)) {
            if (it->path().filename().string().starts_with(".")) {
                if (it->is_directory()) it.disable_recursion_pending();
                continue;
            }
            if (it->is_regular_file() && !it->is_symlink() && is_document(it->path()))
                paths.push_back(it->path());
            if (paths.size() >= kMaxDocuments) break;
        }
        std::sort(paths.begin(), paths.end());
        std::vector<Document> docs;
        for (const auto& p : paths) docs.push_back(load(p, url_of(p)));
        return docs;
    }

    BrowserOptions options_;
    std::shared_ptr<HttpClient> http_;
    fs::path root_;
    std::string name_;
};

}  // namespace

std::unique_ptr<SearchBackend> make_local_backend(const BrowserOptions& options,
                                                  std::shared_ptr<HttpClient> http) {
    if (options.root.empty())
        throw std::invalid_argument(
            "the local browser backend needs a folder of documents (root:)");
    return std::make_unique<LocalBackend>(options, std::move(http));
}

}  // namespace gossamer::tools::browser
