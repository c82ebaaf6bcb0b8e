#include "cli/listen_options.h"

#include <boost/asio/ip/address.hpp>
#include <cstdlib>

namespace gossamer::cli {

ListenOptions listen_options(const Parsed& p, std::uint16_t default_port) {
    ListenOptions out;
    out.http.port = default_port;
    if (auto h = p.get("--host")) out.http.host = *h == "localhost" ? "127.0.0.1" : *h;
    if (auto port = p.get("--port"))
        out.http.port = static_cast<std::uint16_t>(parse_uint(*port, "--port", 0, 65535));
    out.api_key = p.get("--api-key").value_or("");
    if (out.api_key.empty())
        if (const char* key = std::getenv("GOSSAMER_API_KEY")) out.api_key = key;
    boost::system::error_code bad_host;
    const auto address = boost::asio::ip::make_address(out.http.host, bad_host);
    if (bad_host)
        throw InputError("--host " + out.http.host +
                         " is not an IP address (e.g. 127.0.0.1, ::1, 0.0.0.0)");
    if (!address.is_loopback() && out.api_key.empty())
        throw InputError("--host " + out.http.host +
                         " is reachable from other machines: set --api-key KEY (or "
                         "GOSSAMER_API_KEY) too");
    return out;
}

std::string base_url(const std::string& host, std::uint16_t port) {
    const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return "http://" + shown + ":" + std::to_string(port);
}

}  // namespace gossamer::cli
