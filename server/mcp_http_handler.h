// MCP's Streamable HTTP transport (2025-11-25), server side, for `gossamer mcp serve --http`:
// one endpoint (/mcp). POST carries a JSON-RPC message or batch: `initialize` opens a session
// (Mcp-Session-Id in the answer), later requests must name a live one (400 without, 404 for an
// unknown or ended one) unless they carry the stateless era's `_meta`; requests are answered
// with application/json once the tool is done, notifications and responses with 202. DELETE
// ends a session; GET is 405 (this server never speaks first). DNS rebinding: a loopback
// listener refuses a non-loopback Host or Origin (403); with a key, a bearer token is needed
// (401). The protocol itself is McpEndpoint's.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "server/http_server.h"
#include "server/mcp_endpoint.h"

namespace gossamer::server {

struct McpHttpOptions {
    std::string path = "/mcp";
    std::string api_key;   // empty: none needed
    bool loopback = true;  // listening on a loopback address: refuse other Hosts and Origins
    std::size_t max_sessions = 1024;
};

// The HTTP handler (for HttpServer); keeps the sessions. Runs on the loop's thread.
Handler mcp_http_handler(std::shared_ptr<McpEndpoint> endpoint, McpHttpOptions options);

}  // namespace gossamer::server
