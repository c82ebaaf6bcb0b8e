// MCP's Streamable HTTP transport (revision 2025-11-25) as a JSON-RPC peer (json_rpc_peer.h):
// each message is a POST to the server's one endpoint (Accept: application/json and
// text/event-stream); the answer is a JSON body or an SSE stream of messages, read as it comes.
// The session id the server gives (Mcp-Session-Id) and, once negotiated, the protocol version
// (MCP-Protocol-Version) go with every later request; a stream that ends before its reply is
// resumed with GET and Last-Event-ID after the server's `retry`; a GET stream carries what the
// server sends unasked; DELETE ends the session on close; HTTP 404 with a session means the
// session is gone (the client starts over). libcurl, one thread per open request. Transport
// only: it must not know MCP methods beyond these headers (mcp_client.h does).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tools/mcp/json_rpc_peer.h"

namespace gossamer::tools {

struct HttpServerSpec {
    std::string url;  // http(s)://host[:port]/path: the server's MCP endpoint
    // Sent with every request (an Authorization header among them): never logged.
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds connect_timeout{10000};
    int max_resumptions = 5;  // per stream that ends before its reply
};

class StreamableHttpPeer : public JsonRpcPeer {
  public:
    StreamableHttpPeer(HttpServerSpec spec, NotificationHandler on_notification,
                       RequestHandler on_request, LogHandler on_log);
    ~StreamableHttpPeer() override;  // DELETE with the session id; open requests are stopped

    std::string exit_description() const override;
    // After the handshake: the version for MCP-Protocol-Version, and the GET stream for what
    // the server sends unasked (a server that answers 405 has none), answered before this returns.
    void handshake_done(const std::string& version) override;

    std::string session_id() const;  // "" before the server gave one (or stateless)

  private:
    void send(const Json& message) override;
    // One exchange on a worker thread: POST `body` (or GET with Last-Event-ID when `body` is
    // empty) and hand what comes back to the peer's thread. `request_id`: the request whose
    // reply this stream should carry (0: none), resumed while it is pending. `answered` runs
    // once, when the response's headers are in (or the exchange failed without any).
    void exchange(std::string body, std::int64_t request_id, std::string last_event_id,
                  int attempt = 0, std::function<void()> answered = {});
    void listen(std::function<void()> answered);
    void spawn(std::function<void()> work);
    std::vector<std::string> header_lines(bool post) const;
    // Keeps the first session id the server gives. Called before any message of that answer
    // reaches the peer's thread: the next request (sent as soon as initialize's reply is
    // read, while its SSE stream may still be open) carries the id.
    void adopt_session(const std::string& id);

    HttpServerSpec spec_;
    mutable std::mutex mutex_;
    std::string session_id_;
    std::string protocol_version_;
    std::string gone_why_;
    std::atomic<bool> stopping_{false};
    struct Worker {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::list<Worker> workers_;
};

}  // namespace gossamer::tools
