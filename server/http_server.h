// HTTP/1.1 on the runtime's event loop (Boost.Beast): accepts connections, reads requests
// with a body limit, hands each to one handler, and answers with whole JSON bodies
// (keep-alive) or a server-sent-event stream. It notices a client that goes away while its
// request is being worked on (the Reply's on_close) so the handler can cancel generation.
// It knows nothing about the OpenAI API or models: routing is the handler's.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gossamer::server {

struct HttpRequest {
    std::string method;                          // "GET", "POST", ...
    std::string path;                            // the target without its query
    std::string query;                           // after '?', as sent
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    bool from_loopback = false;                         // the peer's address is 127.0.0.0/8 or ::1
    std::string header(const std::string& name) const;  // "" when absent
};

// One request's answer. Every method runs on the loop's thread; after the client is gone
// or the answer is complete, further calls do nothing.
class Reply {
  public:
    virtual ~Reply() = default;
    // A whole answer (Content-Length), with extra headers (e.g. Retry-After).
    virtual void send(int status, std::string content_type, std::string body,
                      std::vector<std::pair<std::string, std::string>> headers = {}) = 0;
    // Starts a text/event-stream answer (status 200); then event() any number of times.
    virtual void start_events() = 0;
    // "event: NAME\ndata: DATA\n\n" ("data: DATA\n\n" when name is empty).
    virtual void event(std::string_view name, std::string_view data) = 0;
    virtual void end_events() = 0;
    virtual bool gone() const = 0;  // the client closed the connection
    // Called once if the client goes away before the answer is complete.
    virtual void on_gone(std::function<void()> callback) = 0;
};

using Handler = std::function<void(const HttpRequest&, std::shared_ptr<Reply>)>;

struct HttpOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8000;               // 0: any free port (see HttpServer::port)
    std::size_t max_body_bytes = 32u << 20;  // larger requests get 413
};

// A socket bound and listening on options.host:port, so that a busy port is known before
// anything slow starts. Throws std::system_error naming the address when it cannot.
boost::asio::ip::tcp::acceptor listen_on(boost::asio::io_context& io, const HttpOptions& options);

class HttpServer {
  public:
    // Accepts on `listening` (from listen_on) until stop().
    HttpServer(boost::asio::ip::tcp::acceptor listening, HttpOptions options, Handler handler);
    // Binds and listens now (listen_on), then accepts on `io`.
    HttpServer(boost::asio::io_context& io, HttpOptions options, Handler handler);
    ~HttpServer();
    std::uint16_t port() const { return port_; }
    // Stops accepting; connections already open finish what they are doing.
    void stop();

  private:
    void accept();

    HttpOptions options_;
    std::shared_ptr<const Handler> handler_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
};

}  // namespace gossamer::server
