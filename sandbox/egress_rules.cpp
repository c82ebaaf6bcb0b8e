#include "sandbox/egress_rules.h"

#include <algorithm>
#include <cctype>

namespace gossamer::sandbox {
namespace {

std::string normal(std::string_view host) {
    std::string out(host);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    while (!out.empty() && out.back() == '.') out.pop_back();
    return out;
}

std::optional<boost::asio::ip::address> as_address(std::string_view text) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(text), ec);
    if (ec) return std::nullopt;
    return address;
}

bool valid_name(std::string_view host) {
    if (host.empty() || host.size() > 253) return false;
    std::size_t label = 0;
    for (char c : host) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
        if (++label > 63) return false;
    }
    return label > 0;
}

bool listed_address(const std::vector<std::string>& patterns,
                    const boost::asio::ip::address& address) {
    for (const auto& p : patterns)
        if (const auto a = as_address(normal(p)); a && *a == address) return true;
    return false;
}

// The IPv4 address inside an IPv4-mapped IPv6 one, else the address itself.
boost::asio::ip::address unmapped(const boost::asio::ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
    return address;
}

}  // namespace

std::optional<std::string> bad_pattern(std::string_view pattern) {
    const std::string p = normal(pattern);
    if (p.empty()) return "an empty pattern";
    if (as_address(p)) return std::nullopt;
    const std::string_view name = p.starts_with("*.") ? std::string_view(p).substr(2) : p;
    if (!valid_name(name))
        return "'" + std::string(pattern) + "' is not a host name, *.domain or an IP address";
    return std::nullopt;
}

bool host_matches(std::string_view pattern, std::string_view host) {
    const std::string p = normal(pattern);
    const std::string h = normal(host);
    if (p.starts_with("*.")) {
        const std::string_view suffix = std::string_view(p).substr(1);  // ".domain"
        return h.size() > suffix.size() && std::string_view(h).ends_with(suffix);
    }
    if (const auto a = as_address(p), b = as_address(h); a && b) return *a == *b;
    return p == h;
}

std::optional<std::string> refuse_host(const EgressRules& rules, std::string_view raw) {
    const std::string host = normal(raw);
    const auto literal = as_address(host);
    if (!literal && !valid_name(host)) return "'" + std::string(raw) + "' is not a host name";
    for (const auto& p : rules.deny)
        if (host_matches(p, host)) return host + " is denied (" + p + ")";
    for (const auto& p : rules.allow)
        if (host_matches(p, host)) return std::nullopt;
    if (literal) return "IP address " + host + " is not in the allowlist (name hosts instead)";
    return host + " is not in the allowlist";
}

std::optional<std::string> refuse_address(const EgressRules& rules,
                                          const boost::asio::ip::address& raw) {
    const auto address = unmapped(raw);
    if (listed_address(rules.deny, address)) return address.to_string() + " is denied";
    if (listed_address(rules.allow, address)) return std::nullopt;
    const std::string text = address.to_string();
    const auto why = [&](const char* what) {
        return text + " is " + what + " (only public addresses, or ones the allowlist names)";
    };
    if (address.is_unspecified()) return why("unspecified");
    if (address.is_loopback()) return why("loopback");
    if (address.is_multicast()) return why("multicast");
    if (address.is_v4()) {
        const auto b = address.to_v4().to_bytes();
        if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168))
            return why("private");
        if (b[0] == 169 && b[1] == 254) return why("link-local (cloud metadata lives here)");
        if (b[0] == 100 && (b[1] & 0xc0) == 64) return why("carrier-grade NAT space");
        if (b[0] == 0 || b[0] >= 240) return why("reserved");
        if (b[0] == 192 && b[1] == 0 && b[2] == 0) return why("reserved (IETF)");
        if (b[0] == 198 && (b[1] & 0xfe) == 18) return why("reserved (benchmarking)");
        return std::nullopt;
    }
    const auto v6 = address.to_v6();
    const auto b = v6.to_bytes();
    if (v6.is_link_local() || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)) return why("link-local");
    if ((b[0] & 0xfe) == 0xfc) return why("private (unique local)");
    if (v6.is_site_local()) return why("site-local");
    if (b[0] == 0x20 && b[1] == 0x02) return why("6to4 (may wrap a private IPv4 address)");
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) return why("NAT64");
    if (v6.is_v4_compatible()) return why("IPv4-compatible");
    return std::nullopt;
}

std::variant<ProxyRequest, std::string> parse_proxy_request(std::string_view head) {
    const auto line_end = head.find("\r\n");
    if (line_end == std::string_view::npos) return std::string("no request line");
    const std::string_view line = head.substr(0, line_end);
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return std::string("a malformed request line");
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!version.starts_with("HTTP/1.")) return std::string("only HTTP/1.x is proxied");
    if (method.empty() ||
        method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos)
        return std::string("a malformed method");
    ProxyRequest r;
    // host[:port] or [v6]:port
    const auto split_authority = [&](std::string_view authority,
                                     std::uint16_t default_port) -> std::optional<std::string> {
        std::string_view host = authority, port;
        if (authority.starts_with("[")) {
            const auto close = authority.find(']');
            if (close == std::string_view::npos) return "a malformed IPv6 host";
            host = authority.substr(1, close - 1);
            const std::string_view rest = authority.substr(close + 1);
            if (!rest.empty()) {
                if (!rest.starts_with(":")) return "a malformed authority";
                port = rest.substr(1);
            }
        } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
            host = authority.substr(0, colon);
            port = authority.substr(colon + 1);
        }
        if (host.empty()) return "no host";
        r.host = normal(host);
        r.port = default_port;
        if (!port.empty()) {
            unsigned value = 0;
            for (char c : port) {
                if (c < '0' || c > '9' || value > 65535) return "a malformed port";
                value = value * 10 + static_cast<unsigned>(c - '0');
            }
            if (value == 0 || value > 65535) return "a port out of range";
            r.port = static_cast<std::uint16_t>(value);
        }
        return std::nullopt;
    };
    if (method == "CONNECT") {
        r.tunnel = true;
        if (const auto bad = split_authority(target, 0)) return *bad;
        if (r.port == 0) return std::string("CONNECT needs host:port");
        return r;
    }
    if (!target.starts_with("http://"))
        return std::string("only CONNECT and absolute http:// requests are proxied");
    const std::string_view rest = target.substr(7);
    const auto slash = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, slash);
    if (authority.find('@') != std::string_view::npos)
        return std::string("credentials in the URL are not forwarded");
    if (const auto bad = split_authority(authority, 80)) return *bad;
    std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (path.front() == '?') path.insert(path.begin(), '/');
    r.forward = std::string(method) + " " + path + " " + std::string(version) + "\r\n";
    // the headers, less the hop-by-hop and proxy ones; one request per connection
    std::size_t at = line_end + 2;
    while (at < head.size()) {
        const auto end = head.find("\r\n", at);
        if (end == std::string_view::npos || end == at) break;
        const std::string_view header = head.substr(at, end - at);
        at = end + 2;
        std::string name(header.substr(0, header.find(':')));
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (name == "connection" || name == "proxy-connection" || name == "keep-alive" ||
            name.starts_with("proxy-"))
            continue;
        r.forward.append(header).append("\r\n");
    }
    r.forward += "Connection: close\r\n\r\n";
    return r;
}

}  // namespace gossamer::sandbox
