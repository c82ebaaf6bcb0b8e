// How one browser is set up: which search backend, where its API or documents are, the
// domain lists and request budget from the agent spec, and the fetch limits. Data only;
// runtime/agent_setup.cpp and `gossamer tool browser` fill it in.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gossamer::tools::browser {

struct BrowserOptions {
    std::string backend = "local";  // local | searxng | exa | youcom
    std::filesystem::path root;     // local: the folder of .txt/.md/.html documents
    // searxng: its base URL (required); exa/youcom: overrides https://api.exa.ai and
    // https://api.ydc-index.io (a test server, a proxy).
    std::string base_url;
    std::optional<std::string> api_key;  // exa/youcom; default EXA_API_KEY / YDC_API_KEY

    std::vector<std::string> allow_domains, deny_domains;
    int max_requests = 100;      // per session: pages, redirect hops, API calls; <= 0: no limit
    bool allow_private = false;  // lift the loopback/private/link-local/metadata block
    // Hosts (as written in URLs) the block does not apply to: an intranet server you trust.
    // Every other host, a redirect's included, is still checked.
    std::vector<std::string> allow_private_hosts;

    std::chrono::milliseconds connect_timeout{10000};
    std::chrono::milliseconds total_timeout{30000};  // one HTTP request, body included
    std::size_t max_page_bytes = 4 * 1024 * 1024;    // after decompression; the rest is cut
    int max_redirects = 5;

    int view_tokens = 1024;       // the window when num_lines is not given
    int max_search_results = 20;  // what the backend is asked for (topn is ignored)
};

}  // namespace gossamer::tools::browser
