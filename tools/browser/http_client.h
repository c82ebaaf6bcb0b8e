// The browser's HTTP over libcurl. Two kinds of request: fetch_page() for a URL the model
// chose (http/https only, the domain lists and the address block checked on every redirect
// hop, at the address curl actually connects to, redirects followed up to a limit and loops
// refused) and call_api() for the operator's configured search API (no redirects; its
// address is trusted, e.g. SearXNG on localhost). Both: connect and total timeouts, a size
// cap (the body is cut there), gzip/br/zstd decoding, no proxies from the environment, the
// per-session request budget, and cancel() from another thread. Failures throw
// BackendError with the text the model reads. It must not parse what it fetches.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "tools/browser/address_policy.h"
#include "tools/browser/browser_options.h"

namespace gossamer::tools::browser {

struct HttpResponse {
    long status = 0;
    std::string content_type;  // as sent, "" when absent
    std::string body;          // decoded transfer/content encoding, at most the size cap
    std::string final_url;     // after redirects
    std::string location;      // a redirect's absolute target ("" when none)
    bool truncated = false;    // the body hit the size cap
};

struct ApiRequest {
    std::string method = "GET";  // GET | POST
    std::string url;
    std::vector<std::string> headers;  // "name: value"
    std::string body;                  // POST: JSON
};

class HttpClient {
  public:
    explicit HttpClient(const BrowserOptions& options);
    HttpResponse fetch_page(const std::string& url);
    HttpResponse call_api(const ApiRequest& request);
    // Aborts the transfers in flight (they fail with "cancelled"); later ones run again.
    void cancel();
    int requests_used() const { return budget_.used(); }
    // W3C trace context sent with call_api() requests from now on ("" for none); never with
    // fetch_page(): pages the model chose do not learn our trace ids. Same thread as calls.
    void set_traceparent(std::string traceparent) { traceparent_ = std::move(traceparent); }

  private:
    struct Transfer;
    HttpResponse perform(const ApiRequest& request, bool check_addresses);
    bool trusted_host(const std::string& host) const;

    BrowserOptions options_;
    DomainPolicy domains_;
    RequestBudget budget_;
    std::atomic<unsigned> cancel_epoch_{0};
    std::string traceparent_;
};

}  // namespace gossamer::tools::browser
