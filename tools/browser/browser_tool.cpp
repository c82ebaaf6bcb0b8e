#include "tools/browser/browser_tool.h"

#include <boost/asio/post.hpp>
#include <cmath>
#include <stdexcept>

#include "harmony/builtin_tools.h"
#include "tools/browser/errors.h"
#include "tools/browser/find_in_page.h"
#include "tools/browser/page_view.h"
#include "tools/browser/py_text.h"
#include "tools/browser/str_cat.h"

namespace gossamer::tools::browser {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kViewSource = "view-source:";

// A call the tool cannot make sense of (missing or unknown arguments, wrong JSON types);
// reported as the reference reports bad JSON.
struct InvalidArguments {};

void require_known(const Json& args, std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : args.items()) {
        bool ok = false;
        for (std::string_view k : known) ok = ok || key == k;
        if (!ok) throw InvalidArguments{};
    }
}

long integer_arg(const Json& args, const char* key, long fallback) {
    if (!args.contains(key)) return fallback;
    const Json& v = args.at(key);
    if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
    if (!v.is_number()) throw InvalidArguments{};
    return static_cast<long>(std::floor(v.get<double>()));
}

std::string python_type(const Json& v) {
    if (v.is_string()) return "str";
    if (v.is_null()) return "NoneType";
    if (v.is_array()) return "list";
    if (v.is_object()) return "dict";
    if (v.is_number_float()) return "float";
    return "int";
}

}  // namespace

BrowserTool::BrowserTool(BrowserOptions options)
    : options_(std::move(options)),
      http_(std::make_shared<HttpClient>(options_)),
      backend_(make_backend(options_, http_)),
      worker_([this] { work(); }) {}

BrowserTool::~BrowserTool() {
    cancel();
    {
        std::lock_guard lock(jobs_mutex_);
        stopping_ = true;
    }
    jobs_ready_.notify_all();
    worker_.join();
}

harmony::ToolNamespace BrowserTool::describe() const {
    return harmony::builtin_tools::browser_with_source(backend_->source());
}

void BrowserTool::invoke(const ToolCall& call, const ToolContext& context, ToolDone done) {
    {
        std::lock_guard lock(jobs_mutex_);
        jobs_.push_back({call, context.executor, std::move(done), context.traceparent});
    }
    jobs_ready_.notify_one();
}

void BrowserTool::cancel() {
    http_->cancel();
}

void BrowserTool::work() {
    while (true) {
        Job job;
        bool stopping = false;
        {
            std::unique_lock lock(jobs_mutex_);
            jobs_ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
            stopping = stopping_;
        }
        http_->set_traceparent(job.traceparent);  // for the search API's requests
        ToolOutput out =
            stopping ? ToolOutput{"Error: the browser was shut down.", true} : run(job.call);
        boost::asio::post(job.executor, [done = std::move(job.done),
                                         out = std::move(out)]() mutable { done(std::move(out)); });
    }
}

ToolOutput BrowserTool::run(const ToolCall& call) {
    std::string function = call.function;
    if (function.empty() && call.recipient.starts_with("browser."))
        function = call.recipient.substr(8);
    Json args;
    try {
        args = call.arguments.empty() ? Json::object() : Json::parse(call.arguments);
    } catch (const Json::exception&) {
        return {py::json_error("Invalid function arguments"), true};
    }
    if (!args.is_object()) return {py::json_error("Invalid function arguments"), true};
    if (function != "search" && function != "open" && function != "find")
        return {py::json_error(cat({"Unknown function: ", function})), true};
    std::lock_guard lock(state_mutex_);
    try {
        return {dispatch(function, args), false};
    } catch (const InvalidArguments&) {
        return {py::json_error("Invalid function arguments"), true};
    } catch (const UsageError& e) {
        return {e.what(), true};
    } catch (const BackendError& e) {
        return {e.what(), true};
    }
}

std::string BrowserTool::dispatch(const std::string& function, const Json& args) {
    if (function == "search") return search(args);
    if (function == "open") return open(args);
    return find(args);
}

std::string BrowserTool::search(const Json& args) {
    require_known(args, {"query", "topn", "top_n", "source"});
    if (!args.contains("query")) throw InvalidArguments{};
    const std::string query = python_str(args.at("query"));
    Page page;
    try {
        page = backend_->search(query, options_.max_search_results);
    } catch (const std::exception& e) {
        throw BackendError(
            cat({"Error during search for `", query, "`: ", py::truncate(e.what())}));
    }
    state_.add_page(std::make_shared<const Page>(std::move(page)));
    return show_page_safely(0, -1);
}

std::string BrowserTool::open(const Json& args) {
    require_known(args, {"id", "cursor", "loc", "num_lines", "view_source", "source"});
    const Json id = args.value("id", Json(-1));
    const Json cursor = args.value("cursor", Json(-1));
    long loc = integer_arg(args, "loc", -1);
    const long num_lines = integer_arg(args, "num_lines", -1);
    const Json view_source_arg = args.value("view_source", Json(false));
    const bool view_source =
        view_source_arg.is_boolean() ? view_source_arg.get<bool>() : !view_source_arg.is_null();

    PagePtr current;
    std::optional<Extract> snippet;
    bool stay = false, direct = false;
    std::string target;
    if (id.is_string()) {
        target = id.get<std::string>();
        direct = true;
    } else {
        if (!id.is_number() && !id.is_boolean()) throw InvalidArguments{};
        current = page_for(cursor);
        if (id.get<double>() >= 0) {
            const std::string key = id.is_boolean() ? python_str(id) : id.dump();
            const auto link = current->urls.find(key);
            if (link == current->urls.end())
                throw UsageError(cat({"Invalid link id `", key, "`."}));
            target = link->second;
            if (current->snippets)
                if (auto s = current->snippets->find(key); s != current->snippets->end())
                    snippet = s->second;
        } else {
            stay = !view_source;
            target = current->url;
        }
    }
    if (view_source) {
        target = cat({kViewSource, target});
        snippet.reset();
    }
    PagePtr next = stay ? current : open_url(target, direct);
    state_.add_page(next);
    if (loc < 0) {
        loc = 0;
        if (snippet && snippet->line_idx) {
            loc = *snippet->line_idx;
            if (loc > 4) loc -= 4;
        }
    }
    return show_page_safely(loc, num_lines);
}

std::string BrowserTool::find(const Json& args) {
    require_known(args, {"pattern", "cursor"});
    if (!args.contains("pattern")) throw InvalidArguments{};
    const std::string pattern = py::lower(python_str(args.at("pattern")));
    const PagePtr page = page_for(args.value("cursor", Json(-1)));
    if (page->snippets)
        throw UsageError("Cannot run `find` on search results page or find results page");
    state_.add_page(std::make_shared<const Page>(find_in_page(pattern, *page)));
    return show_page_safely(0, -1);
}

std::string BrowserTool::show_page_safely(long loc, long num_lines) {
    try {
        return render_page(*state_.page(), state_.current_cursor(), loc, num_lines,
                           options_.view_tokens);
    } catch (const UsageError&) {
        state_.pop();
        throw;
    }
}

PagePtr BrowserTool::page_for(const Json& cursor) const {
    const long current = state_.current_cursor();
    if (current < 0) return state_.page(-1);  // "No pages to access!"
    if (cursor.is_number_integer() || cursor.is_boolean())
        return state_.page(cursor.is_boolean() ? (cursor.get<bool>() ? 1 : 0) : cursor.get<long>());
    if (cursor.is_number_float()) {
        const double c = cursor.get<double>();
        if (c == -1.0 || c == static_cast<double>(current)) return state_.page(-1);
    }
    throw UsageError(cat({"`cursor` should be an integer, not `", python_type(cursor), "`"}));
}

PagePtr BrowserTool::open_url(const std::string& target, bool direct) {
    if (!direct)
        if (PagePtr cached = state_.cached(target)) return cached;
    try {
        std::string fetch_url = target;
        if (fetch_url.starts_with(kViewSource)) fetch_url.erase(0, kViewSource.size());
        return std::make_shared<const Page>(backend_->fetch(fetch_url));
    } catch (const std::exception& e) {
        throw BackendError(
            cat({"Error fetching URL `", py::truncate(target), "`: ", py::truncate(e.what())}));
    }
}

std::vector<std::string> BrowserTool::cursor_urls() const {
    std::lock_guard lock(state_mutex_);
    return state_.cursor_urls();
}

CitedText BrowserTool::cite(std::string_view final_answer) const {
    return normalize_citations(final_answer, cursor_urls());
}

std::optional<AnnotatedAnswer> BrowserTool::annotate_final(std::string_view final_answer) const {
    const CitedText cited = cite(final_answer);
    if (cited.citations.empty()) return std::nullopt;
    AnnotatedAnswer out;
    out.text = cited.text;
    for (const auto& c : cited.citations)
        out.annotations.push_back({{"type", "url_citation"},
                                   {"start_index", c.start_index},
                                   {"end_index", c.end_index},
                                   {"title", c.title},
                                   {"url", c.url}});
    return out;
}

}  // namespace gossamer::tools::browser
