// The trace viewer's reading of a request (server/trace_viewer.h): query parameters, the
// key cookie, the Host header. Untrusted input, parsed here and nowhere else; pure (fuzzed
// by fuzz_server_requests). It must not decide access: the viewer does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gossamer::server {

// %XX and '+' decoded (invalid UTF-8 replaced); a malformed escape stays as written.
std::string percent_decode(std::string_view in);
// The decoded value of the first `name` in a query string ("" when absent).
std::string query_param(std::string_view query, std::string_view name);
// A decimal parameter in [0, max]: `fallback` when absent, nullopt when malformed or larger.
std::optional<long> int_param(std::string_view query, std::string_view name, long fallback,
                              long max);
// The value of cookie `name` in a Cookie header ("" when absent).
std::string cookie_value(std::string_view header, std::string_view name);
// The Host header names this machine's loopback: localhost, 127.0.0.1 or [::1], with or
// without a port (a page elsewhere reaching us through DNS rebinding names its own host).
bool loopback_host(std::string_view host);

}  // namespace gossamer::server
