#include "tools/browser/http_client.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <memory>
#include <mutex>
#include <set>

#include "tools/browser/errors.h"
#include "tools/browser/str_cat.h"
#include "tools/browser/url.h"

namespace gossamer::tools::browser {
namespace {

constexpr const char* kUserAgent = "Mozilla/5.0 (compatible; gossamer-browser/0.1)";
constexpr const char* kPageAccept =
    "Accept: text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5";

const char* kBlockedHint =
    " (the browser does not open loopback, private, link-local or metadata addresses)";

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool is_redirect(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

struct HttpClient::Transfer {
    const HttpClient* client = nullptr;
    unsigned epoch = 0;
    bool check_addresses = false;
    std::size_t max_bytes = 0;
    std::string body;
    bool truncated = false;
    std::string blocked;  // why the address check refused a connection

    static std::size_t on_write(char* data, std::size_t size, std::size_t n, void* user) {
        auto* t = static_cast<Transfer*>(user);
        const std::size_t len = size * n;
        const std::size_t room = t->max_bytes - t->body.size();
        if (len > room) {
            t->body.append(data, room);
            t->truncated = true;
            return 0;  // stops the transfer; perform() keeps what fits
        }
        t->body.append(data, len);
        return len;
    }

    // Every connection curl opens, after DNS: the actual address is checked here.
    static curl_socket_t on_open(void* user, curlsocktype, curl_sockaddr* address) {
        auto* t = static_cast<Transfer*>(user);
        if (t->check_addresses) {
            if (auto why = blocked_address(&address->addr)) {
                if (t->blocked.empty()) t->blocked = *why;
                return CURL_SOCKET_BAD;
            }
        }
        return ::socket(address->family, address->socktype, address->protocol);
    }

    static int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
        const auto* t = static_cast<const Transfer*>(user);
        return t->client->cancel_epoch_.load() != t->epoch ? 1 : 0;
    }
};

HttpClient::HttpClient(const BrowserOptions& options)
    : options_(options),
      domains_(options.allow_domains, options.deny_domains),
      budget_(options.max_requests) {
    global_init();
}

void HttpClient::cancel() {
    ++cancel_epoch_;
}

HttpResponse HttpClient::perform(const ApiRequest& request, bool check_addresses) {
    budget_.spend();
    std::unique_ptr<CURL, void (*)(CURL*)> easy(curl_easy_init(), curl_easy_cleanup);
    if (!easy) throw BackendError("could not start an HTTP request (libcurl)");
    curl_slist* list = nullptr;
    for (const auto& h : request.headers) list = curl_slist_append(list, h.c_str());
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(list, curl_slist_free_all);

    Transfer t;
    t.client = this;
    t.epoch = cancel_epoch_.load();
    t.check_addresses = check_addresses;
    t.max_bytes = options_.max_page_bytes;
    char error[CURL_ERROR_SIZE] = {};
    CURL* h = easy.get();
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");  // no proxy from the environment
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT, kUserAgent);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Transfer::on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, &Transfer::on_open);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &t);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &Transfer::on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    if (request.method == "POST") {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
    }

    const CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t.truncated)) {
        if (!t.blocked.empty())
            throw BackendError(cat({"refused to connect: ", t.blocked, kBlockedHint}));
        if (rc == CURLE_ABORTED_BY_CALLBACK) throw BackendError("cancelled");
        if (rc == CURLE_OPERATION_TIMEDOUT)
            throw BackendError(cat({"timed out (", error[0] ? error : "no answer in time", ")"}));
        throw BackendError(error[0] ? std::string(error) : std::string(curl_easy_strerror(rc)));
    }
    HttpResponse r;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    const char* type = nullptr;
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type)
        r.content_type = type;
    const char* location = nullptr;
    if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location)
        r.location = location;
    r.body = std::move(t.body);
    r.truncated = t.truncated;
    r.final_url = request.url;
    return r;
}

HttpResponse HttpClient::fetch_page(const std::string& start_url) {
    std::string current = start_url;
    std::set<std::string> seen{current};
    for (int hop = 0;; ++hop) {
        const url::Parts parts = url::split(current);
        if (parts.scheme != "http" && parts.scheme != "https")
            throw BackendError(cat({"unsupported URL scheme '", parts.scheme,
                                    "' (the browser opens http and https URLs)"}));
        const std::string host = url::host(current);
        if (host.empty()) throw BackendError(cat({"the URL has no host: ", current}));
        if (auto why = domains_.refuse(host)) throw BackendError(*why);
        const bool check = !options_.allow_private && !trusted_host(host);
        if (check)
            if (auto why = blocked_address(host))
                throw BackendError(cat({"refused to connect: ", *why, kBlockedHint}));
        ApiRequest request;
        request.url = current;
        request.headers = {kPageAccept};
        HttpResponse r = perform(request, check);
        if (!is_redirect(r.status) || r.location.empty()) return r;
        if (hop >= options_.max_redirects)
            throw BackendError(cat(
                {"too many redirects (more than ", std::to_string(options_.max_redirects), ")"}));
        if (!seen.insert(r.location).second)
            throw BackendError(cat({"redirect loop: ", r.location, " was already visited"}));
        current = r.location;
    }
}

bool HttpClient::trusted_host(const std::string& host) const {
    for (const auto& h : options_.allow_private_hosts)
        if (url::host("http://" + h) == host) return true;
    return false;
}

HttpResponse HttpClient::call_api(const ApiRequest& request) {
    if (traceparent_.empty()) return perform(request, false);
    ApiRequest traced = request;
    traced.headers.push_back("traceparent: " + traceparent_);
    return perform(traced, false);
}

}  // namespace gossamer::tools::browser
