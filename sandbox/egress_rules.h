// What a sandbox with a domain allowlist may reach (docs/SECURITY.md "Network by domain"): the
// allow and deny patterns, the check of a host before resolution and of each address after
// it, and the reading of a proxy request's head. Pure: no sockets, no resolver; the proxy
// (egress_proxy.h) applies them, tests and the fuzzer check them by value.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gossamer::sandbox {

struct EgressRules {
    // "pypi.org" (that name only), "*.githubusercontent.com" (any name below it, not itself),
    // or an IP address: allowed as a literal and as the resolution of an allowed name (a
    // local mirror on a private address). Compared without case and trailing dot.
    std::vector<std::string> allow;
    std::vector<std::string> deny;  // the same forms, checked first

    bool operator==(const EgressRules&) const = default;
};

// A pattern that names nothing sensible (empty, spaces, "*" alone, "*" inside): the reason.
std::optional<std::string> bad_pattern(std::string_view pattern);

// Whether `host` (lower-cased, no trailing dot) matches `pattern`.
bool host_matches(std::string_view pattern, std::string_view host);

// Before resolution: nullopt when the host may be tried, else why not (denied, not in the
// allowlist, an IP literal that is not allowed, not a valid name).
std::optional<std::string> refuse_host(const EgressRules& rules, std::string_view host);

// After resolution: why an address may not be reached: loopback, private (RFC 1918, ULA),
// link-local (the cloud metadata 169.254.169.254 among them), CGNAT, multicast, unspecified,
// broadcast, IPv4-mapped forms of these. Explicitly allowed addresses pass.
std::optional<std::string> refuse_address(const EgressRules& rules,
                                          const boost::asio::ip::address& address);

// One request to the proxy: CONNECT host:port, or an absolute-form request
// (GET http://host[:port]/path ...) whose head is rewritten to origin-form with
// `Connection: close` and without Proxy-* headers.
struct ProxyRequest {
    bool tunnel = false;  // CONNECT
    std::string host;     // lower-cased, IPv6 without brackets
    std::uint16_t port = 0;
    std::string forward;  // the head to send upstream (plain HTTP only)
};

// Reads a request head (up to and including the blank line). Errors: the reason.
std::variant<ProxyRequest, std::string> parse_proxy_request(std::string_view head);

}  // namespace gossamer::sandbox
