// The listening address and key of the commands that serve HTTP (`serve`, `ui`): --host,
// --port and --api-key (or GOSSAMER_API_KEY), checked the same way (an address reachable from
// other machines needs a key). Parsing only: nothing is bound here.
#pragma once

#include <cstdint>
#include <string>

#include "cli/cli_args.h"
#include "server/http_server.h"

namespace gossamer::cli {

struct ListenOptions {
    server::HttpOptions http;
    std::string api_key;
};
ListenOptions listen_options(const Parsed& p, std::uint16_t default_port);
// "http://HOST:PORT" with an IPv6 address in brackets.
std::string base_url(const std::string& host, std::uint16_t port);

}  // namespace gossamer::cli
