#include "tools/browser/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>

#include "tools/browser/errors.h"
#include "tools/browser/str_cat.h"

namespace gossamer::tools::browser {
namespace {

struct Range4 {
    std::uint32_t base;
    int bits;
    const char* kind;
};

constexpr std::uint32_t ip4(int a, int b, int c, int d) {
    return (static_cast<std::uint32_t>(a) << 24) | (static_cast<std::uint32_t>(b) << 16) |
           (static_cast<std::uint32_t>(c) << 8) | static_cast<std::uint32_t>(d);
}

// The IPv4 ranges that are not the public internet (RFC 6890 and friends).
constexpr std::array<Range4, 14> kBlocked4 = {{
    {ip4(0, 0, 0, 0), 8, "an unspecified (\"this network\")"},
    {ip4(10, 0, 0, 0), 8, "a private"},
    {ip4(100, 100, 100, 200), 32, "a cloud metadata"},
    {ip4(100, 64, 0, 0), 10, "a shared (carrier-grade NAT)"},
    {ip4(127, 0, 0, 0), 8, "a loopback"},
    {ip4(169, 254, 169, 254), 32, "a cloud metadata"},
    {ip4(169, 254, 0, 0), 16, "a link-local"},
    {ip4(172, 16, 0, 0), 12, "a private"},
    {ip4(192, 0, 0, 0), 24, "a reserved (IETF protocol)"},
    {ip4(192, 168, 0, 0), 16, "a private"},
    {ip4(198, 18, 0, 0), 15, "a reserved (benchmarking)"},
    {ip4(224, 0, 0, 0), 4, "a multicast"},
    {ip4(240, 0, 0, 0), 4, "a reserved"},
    {ip4(192, 0, 2, 0), 24, "a documentation"},
}};

std::optional<std::string> blocked4(std::uint32_t a, const std::string& shown) {
    for (const Range4& r : kBlocked4) {
        const std::uint32_t mask = r.bits == 0 ? 0 : ~std::uint32_t{0} << (32 - r.bits);
        if ((a & mask) == (r.base & mask)) return cat({shown, " is ", r.kind, " address"});
    }
    return std::nullopt;
}

std::string show4(std::uint32_t a) {
    in_addr in{};
    in.s_addr = htonl(a);
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &in, buf, sizeof buf);
    return buf;
}

std::uint32_t embedded4(const std::uint8_t* b) {
    return (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) |
           (std::uint32_t{b[14]} << 8) | std::uint32_t{b[15]};
}

std::optional<std::string> blocked6(const in6_addr& addr) {
    const std::uint8_t* b = addr.s6_addr;
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, &addr, buf, sizeof buf);
    const std::string shown = buf;
    static constexpr std::uint8_t kZero[16] = {};
    const bool first10_zero = std::memcmp(b, kZero, 10) == 0;
    if (std::memcmp(b, kZero, 15) == 0 && (b[15] == 0 || b[15] == 1))
        return cat({shown, b[15] ? " is a loopback address" : " is an unspecified address"});
    if (first10_zero && b[10] == 0xFF && b[11] == 0xFF)  // ::ffff:a.b.c.d
        if (auto why = blocked4(embedded4(b), show4(embedded4(b))))
            return cat({shown, " maps to ", *why});
    if (first10_zero && b[10] == 0 && b[11] == 0)  // ::a.b.c.d (deprecated)
        return cat({shown, " is an IPv4-compatible address"});
    static constexpr std::uint8_t kNat64[12] = {0, 0x64, 0xFF, 0x9B};  // 64:ff9b::/96
    if (std::memcmp(b, kNat64, 12) == 0)
        if (auto why = blocked4(embedded4(b), show4(embedded4(b))))
            return cat({shown, " maps to ", *why});
    if ((b[0] & 0xFE) == 0xFC) return cat({shown, " is a unique-local address"});
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return cat({shown, " is a link-local address"});
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) return cat({shown, " is a site-local address"});
    if (b[0] == 0xFF) return cat({shown, " is a multicast address"});
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8)
        return cat({shown, " is a documentation address"});
    return std::nullopt;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!out.empty() && out.back() == '.') out.pop_back();
    return out;
}

std::string normalise_domain(std::string_view entry) {
    std::string d = lower(entry);
    if (d.starts_with("*.")) d.erase(0, 2);
    if (d.starts_with(".")) d.erase(0, 1);
    return d;
}

bool covers(const std::string& domain, const std::string& host) {
    return host == domain || (host.size() > domain.size() && host.ends_with(domain) &&
                              host[host.size() - domain.size() - 1] == '.');
}

}  // namespace

std::optional<std::string> blocked_address(const sockaddr* address) {
    if (address->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(static_cast<const void*>(address));
        const std::uint32_t a = ntohl(in->sin_addr.s_addr);
        return blocked4(a, show4(a));
    }
    if (address->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(static_cast<const void*>(address));
        return blocked6(in6->sin6_addr);
    }
    return std::string("only IPv4 and IPv6 addresses may be connected to");
}

std::optional<std::string> blocked_address(std::string_view literal) {
    const std::string text(literal);
    in_addr a4{};
    if (inet_pton(AF_INET, text.c_str(), &a4) == 1) return blocked4(ntohl(a4.s_addr), text);
    in6_addr a6{};
    if (inet_pton(AF_INET6, text.c_str(), &a6) == 1) return blocked6(a6);
    return std::nullopt;
}

DomainPolicy::DomainPolicy(std::vector<std::string> allow, std::vector<std::string> deny) {
    for (const auto& d : allow) allow_.push_back(normalise_domain(d));
    for (const auto& d : deny) deny_.push_back(normalise_domain(d));
}

std::optional<std::string> DomainPolicy::refuse(std::string_view host_text) const {
    const std::string host = lower(host_text);
    for (const auto& d : deny_)
        if (covers(d, host))
            return cat({"the domain ", host,
                        " is denied by the browser settings (deny_domains: ", d, ")"});
    if (allow_.empty()) return std::nullopt;
    for (const auto& d : allow_)
        if (covers(d, host)) return std::nullopt;
    return cat({"the domain ", host, " is not in the browser's allow_domains"});
}

void RequestBudget::spend() {
    const int n = ++used_;
    if (limit_ > 0 && n > limit_)
        throw BackendError(cat({"the browser's request budget for this session is spent (",
                                std::to_string(limit_), " requests)"}));
}

}  // namespace gossamer::tools::browser
