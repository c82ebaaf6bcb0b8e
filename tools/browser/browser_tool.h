// The browser tool (namespace "browser": search, open, find) as gpt-oss's SimpleBrowserTool
// behaves: the same arguments and defaults, a new cursor for every call, the same displays
// and error texts, the search backend chosen in BrowserOptions. Calls run one at a time on
// the tool's own worker thread (fetching blocks) and complete on the caller's executor.
// One instance per session: it holds the session's pages, cursors and request budget.
// It must not render harmony or know the agent loop; citations of the final answer are
// computed from its cursors by citations.h.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tools/browser/browser_options.h"
#include "tools/browser/browser_state.h"
#include "tools/browser/citations.h"
#include "tools/browser/http_client.h"
#include "tools/browser/search_backend.h"
#include "tools/tool.h"

namespace gossamer::tools::browser {

class BrowserTool final : public Tool {
  public:
    // Throws std::invalid_argument for unusable options (unknown backend, no root...).
    explicit BrowserTool(BrowserOptions options);
    ~BrowserTool() override;
    BrowserTool(const BrowserTool&) = delete;
    BrowserTool& operator=(const BrowserTool&) = delete;

    harmony::ToolNamespace describe() const override;
    void invoke(const ToolCall& call, const ToolContext& context, ToolDone done) override;
    void cancel() override;
    // Searching and reading change nothing outside the tool.
    bool idempotent() const override { return true; }

    // One call, synchronously: the text the model reads (errors included, is_error set).
    ToolOutput run(const ToolCall& call);
    // The URL of each cursor's page ("" for search results), for citations.
    std::vector<std::string> cursor_urls() const;
    // The final answer with its 【cursor†Lx-Ly】 marks turned into URL citations.
    CitedText cite(std::string_view final_answer) const;
    // cite() as the runtime asks for it: nullopt when the answer has no citation of a page.
    std::optional<AnnotatedAnswer> annotate_final(std::string_view final_answer) const override;

  private:
    struct Job {
        ToolCall call;
        boost::asio::any_io_executor executor;
        ToolDone done;
        std::string traceparent;
    };
    void work();
    std::string dispatch(const std::string& function, const nlohmann::json& args);
    std::string search(const nlohmann::json& args);
    std::string open(const nlohmann::json& args);
    std::string find(const nlohmann::json& args);
    std::string show_page_safely(long loc, long num_lines);
    PagePtr page_for(const nlohmann::json& cursor) const;
    PagePtr open_url(const std::string& url, bool direct);

    BrowserOptions options_;
    std::shared_ptr<HttpClient> http_;
    std::unique_ptr<SearchBackend> backend_;
    mutable std::mutex state_mutex_;  // state_ (run() and cursor_urls() may race)
    BrowserState state_;

    std::mutex jobs_mutex_;
    std::condition_variable jobs_ready_;
    std::deque<Job> jobs_;
    bool stopping_ = false;
    std::thread worker_;
};

}  // namespace gossamer::tools::browser
