#include "server/viewer_request.h"

#include "tools/browser/url.h"

namespace gossamer::server {

std::string percent_decode(std::string_view in) {
    std::string plus_as_space(in);  // the form encoding browsers use in query strings
    for (char& c : plus_as_space)
        if (c == '+') c = ' ';
    return tools::browser::url::unquote(plus_as_space);
}

std::string query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto pair = query.substr(0, amp);
        const auto eq = pair.find('=');
        if (percent_decode(pair.substr(0, eq)) == name)
            return eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return "";
}

std::optional<long> int_param(std::string_view query, std::string_view name, long fallback,
                              long max) {
    const auto text = query_param(query, name);
    if (text.empty()) return fallback;
    if (text.size() > 12 || text.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    const long value = std::stol(text);
    if (value > max) return std::nullopt;
    return value;
}

std::string cookie_value(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        const auto semi = header.find(';');
        auto pair = header.substr(0, semi);
        while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
        const auto eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == name)
            return std::string(pair.substr(eq + 1));
        if (semi == std::string_view::npos) break;
        header.remove_prefix(semi + 1);
    }
    return "";
}

bool loopback_host(std::string_view host) {
    if (host.starts_with("[")) {
        const auto close = host.find(']');
        if (close == std::string_view::npos) return false;
        const auto rest = host.substr(close + 1);
        if (!rest.empty() &&
            (rest[0] != ':' || rest.find_first_not_of("0123456789", 1) != std::string_view::npos))
            return false;
        return host.substr(1, close - 1) == "::1";
    }
    const auto colon = host.find(':');
    const auto name = host.substr(0, colon);
    if (colon != std::string_view::npos &&
        host.find_first_not_of("0123456789", colon + 1) != std::string_view::npos)
        return false;
    return name == "localhost" || name == "127.0.0.1";
}

}  // namespace gossamer::server
