// What the browser may connect to, decided on the address a connection actually uses (after
// DNS, on every redirect hop): loopback, private, link-local (cloud metadata at
// 169.254.169.254 included), unique-local, CGNAT, multicast, unspecified and reserved
// ranges are refused unless private addresses are explicitly allowed; IPv4-mapped,
// IPv4-compatible and NAT64 IPv6 forms are judged by their IPv4 address. Also the agent's
// allow/deny lists of domains and the per-session request budget. No I/O here.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gossamer::tools::browser {

// Why connecting to this address is refused ("127.0.0.1 is a loopback address"), or nullopt
// for a public address.
std::optional<std::string> blocked_address(const sockaddr* address);
// The same for an address literal ("10.0.0.1", "::ffff:127.0.0.1"); nullopt for a name.
std::optional<std::string> blocked_address(std::string_view literal);

// Domain lists: an entry matches the host and its subdomains ("example.com" covers
// "docs.example.com"). Deny wins; a non-empty allow list admits only its domains.
class DomainPolicy {
  public:
    DomainPolicy() = default;
    DomainPolicy(std::vector<std::string> allow, std::vector<std::string> deny);
    // Why `host` may not be fetched, or nullopt.
    std::optional<std::string> refuse(std::string_view host) const;

  private:
    std::vector<std::string> allow_, deny_;
};

// Requests one session may make (page fetches, redirect hops and search-API calls alike).
// Thread-safe. A limit <= 0 means no limit.
class RequestBudget {
  public:
    explicit RequestBudget(int limit) : limit_(limit) {}
    // Counts one request; throws BackendError once the budget is spent.
    void spend();
    int used() const { return used_.load(); }

  private:
    int limit_;
    std::atomic<int> used_{0};
};

}  // namespace gossamer::tools::browser
