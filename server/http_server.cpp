#include "server/http_server.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <optional>
#include <system_error>

namespace gossamer::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string HttpRequest::header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
}

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string head(int status, std::string_view content_type,
                 const std::vector<std::pair<std::string, std::string>>& headers,
                 std::optional<std::size_t> length, bool keep_alive) {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                      std::string(http::obsolete_reason(static_cast<http::status>(status))) +
                      "\r\nContent-Type: " + std::string(content_type) + "\r\n";
    if (length) out += "Content-Length: " + std::to_string(*length) + "\r\n";
    out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
    return out + "\r\n";
}

class Connection;

class ReplyImpl final : public Reply {
  public:
    ReplyImpl(std::shared_ptr<Connection> connection, bool keep_alive)
        : connection_(std::move(connection)), keep_alive_(keep_alive) {}
    void send(int status, std::string content_type, std::string body,
              std::vector<std::pair<std::string, std::string>> headers) override;
    void start_events() override;
    void event(std::string_view name, std::string_view data) override;
    void end_events() override;
    bool gone() const override { return gone_; }
    void on_gone(std::function<void()> callback) override { on_gone_ = std::move(callback); }

    bool complete() const { return complete_; }
    void client_gone() {
        if (gone_ || complete_) return;
        gone_ = true;
        if (auto callback = std::move(on_gone_)) callback();
    }

  private:
    std::shared_ptr<Connection> connection_;  // reset when complete
    bool keep_alive_;
    bool streaming_ = false;
    bool complete_ = false;
    bool gone_ = false;
    std::function<void()> on_gone_;
};

class Connection final : public std::enable_shared_from_this<Connection> {
  public:
    Connection(tcp::socket socket, std::shared_ptr<const Handler> handler, std::size_t max_body)
        : socket_(std::move(socket)), handler_(std::move(handler)), max_body_(max_body) {}

    void read() {
        parser_.emplace();
        parser_->body_limit(max_body_);
        parser_->header_limit(64 * 1024);
        auto self = shared_from_this();
        http::async_read(socket_, buffer_, *parser_,
                         [self](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    // Queues bytes; `last` ends the current answer (then: close or read the next request).
    void write(std::string bytes, bool last, bool close) {
        if (dead_) return;
        out_.push_back(std::move(bytes));
        if (last) last_at_ = out_.size(), close_after_ = close;
        if (!writing_) flush();
    }

  private:
    void on_read(beast::error_code ec) {
        if (ec == http::error::body_limit) {
            const std::string body =
                R"({"error":{"message":"the request body is larger than the server accepts",)"
                R"("type":"invalid_request_error","param":null,"code":"request_too_large"}})";
            return write(head(413, "application/json", {}, body.size(), false) + body, true, true);
        }
        if (ec) {
            if (ec != http::error::end_of_stream && ec != asio::error::eof &&
                ec != asio::error::connection_reset && ec != asio::error::operation_aborted) {
                const std::string body =
                    R"({"error":{"message":"malformed HTTP request","type":"invalid_request_error","param":null,"code":null}})";
                return write(head(400, "application/json", {}, body.size(), false) + body, true,
                             true);
            }
            return close();
        }
        auto message = parser_->release();
        HttpRequest request;
        request.method = std::string(message.method_string());
        const std::string target_text(message.target());
        const std::string_view target = target_text;
        const auto q = target.find('?');
        request.path = std::string(target.substr(0, q));
        if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
        for (const auto& field : message)
            request.headers[lower(std::string(field.name_string()))] = std::string(field.value());
        request.body = std::move(message.body());
        beast::error_code peer_ec;
        const auto peer = socket_.remote_endpoint(peer_ec);
        request.from_loopback =
            !peer_ec && (peer.address().is_loopback() ||
                         (peer.address().is_v6() && peer.address().to_v6().is_v4_mapped() &&
                          asio::ip::make_address_v4(asio::ip::v4_mapped, peer.address().to_v6())
                              .is_loopback()));
        auto reply = std::make_shared<ReplyImpl>(shared_from_this(), message.keep_alive());
        reply_ = reply;
        watch();
        (*handler_)(request, reply);
    }

    // Notices a peer that closes while its answer is being made: the socket turns readable
    // with nothing to read.
    // The wait belongs to the reply it was started for: when it fires after that reply is done,
    // the readable socket is the next request, not a peer that went away.
    void watch() {
        auto self = shared_from_this();
        socket_.async_wait(tcp::socket::wait_read, [self, watched = reply_](beast::error_code ec) {
            auto reply = watched.lock();
            if (ec || !reply || reply->complete()) return;
            beast::error_code avail_ec;
            if (self->socket_.available(avail_ec) == 0 || avail_ec) {
                reply->client_gone();
                self->close();
            }  // else a pipelined request waits in the socket: read after this answer
        });
    }

    void flush() {
        if (out_.empty() || dead_) return;
        writing_ = true;
        auto self = shared_from_this();
        asio::async_write(socket_, asio::buffer(out_.front()),
                          [self](beast::error_code ec, std::size_t) { self->on_written(ec); });
    }

    void on_written(beast::error_code ec) {
        writing_ = false;
        if (dead_) {  // closed meanwhile (the client went away): the write's buffer can go now
            out_.clear();
            return;
        }
        if (ec) {
            if (auto reply = reply_.lock()) reply->client_gone();
            return close();
        }
        out_.pop_front();
        if (last_at_ > 0 && --last_at_ == 0) {
            if (close_after_) return close();
            return read();
        }
        flush();
    }

    void close() {
        if (dead_) return;
        dead_ = true;
        beast::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
        // A write in flight still reads out_.front(): on_written() frees what is queued.
        if (!writing_) out_.clear();
    }

    tcp::socket socket_;
    std::shared_ptr<const Handler> handler_;
    std::size_t max_body_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    std::weak_ptr<ReplyImpl> reply_;
    std::deque<std::string> out_;
    std::size_t last_at_ = 0;  // the answer ends when this many queued writes are done
    bool close_after_ = false;
    bool writing_ = false;
    bool dead_ = false;
};

void ReplyImpl::send(int status, std::string content_type, std::string body,
                     std::vector<std::pair<std::string, std::string>> headers) {
    if (complete_ || gone_ || streaming_) return;
    complete_ = true;
    auto connection = std::move(connection_);
    connection->write(head(status, content_type, headers, body.size(), keep_alive_) + body, true,
                      !keep_alive_);
}

void ReplyImpl::start_events() {
    if (complete_ || gone_ || streaming_) return;
    streaming_ = true;
    // The stream ends when the connection closes (no length, no chunking).
    connection_->write(
        head(200, "text/event-stream", {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}},
             std::nullopt, false),
        false, false);
}

void ReplyImpl::event(std::string_view name, std::string_view data) {
    if (complete_ || gone_ || !streaming_) return;
    std::string bytes;
    if (!name.empty()) bytes += "event: " + std::string(name) + "\n";
    bytes += "data: ";
    bytes += data;
    bytes += "\n\n";
    connection_->write(std::move(bytes), false, false);
}

void ReplyImpl::end_events() {
    if (complete_ || gone_ || !streaming_) return;
    complete_ = true;
    auto connection = std::move(connection_);
    connection->write("", true, true);
}

}  // namespace

tcp::acceptor listen_on(asio::io_context& io, const HttpOptions& options) {
    beast::error_code ec;
    const auto address = asio::ip::make_address(options.host, ec);
    if (ec) throw std::system_error(ec, "--host " + options.host + " is not an IP address");
    const tcp::endpoint endpoint(address, options.port);
    tcp::acceptor acceptor(io);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        throw std::system_error(
            ec, "cannot listen on " + options.host + ":" + std::to_string(options.port));
    return acceptor;
}

HttpServer::HttpServer(tcp::acceptor listening, HttpOptions options, Handler handler)
    : options_(std::move(options)),
      handler_(std::make_shared<const Handler>(std::move(handler))),
      acceptor_(std::move(listening)) {
    port_ = acceptor_.local_endpoint().port();
    accept();
}

HttpServer::HttpServer(asio::io_context& io, HttpOptions options, Handler handler)
    : HttpServer(listen_on(io, options), options, std::move(handler)) {}

HttpServer::~HttpServer() {
    stop();
}

void HttpServer::stop() {
    beast::error_code ignored;
    acceptor_.close(ignored);
}

void HttpServer::accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (!ec) {
            beast::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            std::make_shared<Connection>(std::move(socket), handler_, options_.max_body_bytes)
                ->read();
        }
        accept();
    });
}

}  // namespace gossamer::server
