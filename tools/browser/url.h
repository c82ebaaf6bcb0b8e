// URL handling with the semantics of Python's urllib.parse that simple_browser relies on:
// urljoin for links, the domain shown in link markup (urlparse(url).netloc), quote/unquote
// for the find-page URL and the page header, and the arxiv.org -> ar5iv.org rewrite.
// Pure string functions; no DNS and no policy (address_policy.h decides what may be fetched).
#pragma once

#include <string>
#include <string_view>

namespace gossamer::tools::browser::url {

struct Parts {
    std::string scheme;  // lower-cased, without ':'; empty for a relative reference
    bool has_authority = false;
    std::string authority;  // netloc: [user@]host[:port]
    std::string path;
    bool has_query = false;
    std::string query;
    bool has_fragment = false;
    std::string fragment;
};

Parts split(std::string_view url);
std::string unsplit(const Parts& parts);

// urljoin(base, link) (RFC 3986 resolution, as Python does for http/https). Leading and
// trailing spaces and control characters and any tab/CR/LF inside `link` are dropped.
std::string join(std::string_view base, std::string_view link);

// page_contents.get_domain: the netloc of `url`, or of "http://" + url when "http" does not
// occur in it (a bare domain). Other schemes with "//" (local://docs/x) give their netloc.
std::string domain(std::string_view url);

// The host part of an authority, lower-cased, without user info, port or IPv6 brackets.
std::string host(std::string_view url);

// urllib.parse.quote(text) (safe="/", UTF-8) and unquote (UTF-8, errors="replace").
std::string quote(std::string_view text);
std::string unquote(std::string_view text);

// re.sub(r"arxiv.org", "ar5iv.org", url): "." matches any character but '\n'.
std::string arxiv_to_ar5iv(std::string_view url);

}  // namespace gossamer::tools::browser::url
