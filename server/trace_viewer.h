// The trace viewer (docs/VIEWER.md): a page at /ui that shows what the store's sessions and
// fleets did, and the read-only JSON and server-sent-event endpoints under /ui/api it draws
// from. Served by `gossamer serve` next to the API and alone by `gossamer ui`. The page's
// assets (server/ui/) are linked into the binary; nothing is fetched from elsewhere. Access:
// loopback peers naming a loopback host only, unless a key is set (then the key is required,
// as a bearer token or the cookie /ui/?key=KEY sets). It reads the store and never writes it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "runtime/session_store.h"
#include "server/http_server.h"

namespace gossamer::server {

struct ViewerOptions {
    std::string api_key;                  // empty: loopback only
    std::chrono::milliseconds poll{250};  // how often live pages look for new rows
    std::chrono::seconds keepalive{15};   // a comment on idle live streams
};

class TraceViewer {
  public:
    TraceViewer(boost::asio::io_context& io, runtime::SessionStore& store, ViewerOptions options);
    ~TraceViewer();
    // The viewer's paths (/ui, /ui/...): answers and returns true; other paths: false.
    bool handle(const HttpRequest& request, std::shared_ptr<Reply> reply);
    // Ends the live streams (the server is stopping).
    void stop();

    struct Live;

  private:
    void route(const HttpRequest& request, const std::shared_ptr<Reply>& reply);
    void follow(const std::string& id, const HttpRequest& request, std::shared_ptr<Reply> reply);

    boost::asio::io_context& io_;
    runtime::SessionStore& store_;
    ViewerOptions options_;
    std::vector<std::weak_ptr<Live>> live_;
};

}  // namespace gossamer::server
