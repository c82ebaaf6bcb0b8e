#include "sandbox/egress_proxy.h"

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <thread>

namespace gossamer::sandbox {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {
constexpr std::size_t kMaxHead = 16 * 1024;
constexpr auto kHeadTimeout = std::chrono::seconds(30);
}  // namespace

std::string EgressDecision::text() const {
    const std::string target = (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                               ":" + std::to_string(port);
    if (allowed) return "allowed " + target + (address.empty() ? "" : " (" + address + ")");
    return "denied " + target + ": " + why;
}

struct EgressProxy::State : std::enable_shared_from_this<EgressProxy::State> {
    asio::io_context io;
    tcp::acceptor acceptor{io};
    EgressRules rules;
    std::function<void(const EgressDecision&)> log;
    std::shared_ptr<std::atomic<std::size_t>> open = std::make_shared<std::atomic<std::size_t>>(0);
    std::thread thread;

    void accept();
};

namespace {

// One client connection of the sandbox, and the upstream one once allowed.
struct Connection : std::enable_shared_from_this<Connection> {
    // Copies of the rules and the log, and a share of the counter: a connection may outlive
    // the proxy's state while the loop is torn down.
    Connection(tcp::socket accepted, EgressRules checks,
               std::function<void(const EgressDecision&)> logger,
               std::shared_ptr<std::atomic<std::size_t>> counter)
        : client(std::move(accepted)),
          upstream(client.get_executor()),
          resolver(client.get_executor()),
          timer(client.get_executor()),
          rules(std::move(checks)),
          log(std::move(logger)),
          open(std::move(counter)) {
        ++*open;
    }
    ~Connection() { --*open; }

    tcp::socket client;
    tcp::socket upstream;
    tcp::resolver resolver;
    asio::steady_timer timer;
    asio::streambuf head{kMaxHead};
    EgressRules rules;
    std::function<void(const EgressDecision&)> log;
    std::shared_ptr<std::atomic<std::size_t>> open;
    ProxyRequest request;
    std::array<char, 16384> up_buffer{}, down_buffer{};

    void start() {
        timer.expires_after(kHeadTimeout);
        timer.async_wait([self = shared_from_this()](error_code ec) {
            if (!ec) self->close();
        });
        asio::async_read_until(
            client, head, "\r\n\r\n",
            [self = shared_from_this()](error_code ec, std::size_t n) { self->on_head(ec, n); });
    }

    void close() {
        error_code ignored;
        client.close(ignored);
        upstream.close(ignored);
        timer.cancel();
    }

    void refuse(int status, const std::string& why, bool logged = true) {
        if (logged) log({false, request.host, request.port, "", why});
        auto body = std::make_shared<std::string>(
            "HTTP/1.1 " + std::to_string(status) +
            (status == 403   ? " Forbidden"
             : status == 502 ? " Bad Gateway"
                             : " Bad Request") +
            "\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\ngossamer sandbox network: " +
            why + "\n");
        asio::async_write(
            client, asio::buffer(*body),
            [self = shared_from_this(), body](error_code, std::size_t) { self->close(); });
    }

    void on_head(error_code ec, std::size_t n) {
        if (ec) return close();  // too long, closed, or timed out
        const std::string text(asio::buffers_begin(head.data()),
                               asio::buffers_begin(head.data()) + static_cast<std::ptrdiff_t>(n));
        head.consume(n);
        auto parsed = parse_proxy_request(text);
        if (auto* bad = std::get_if<std::string>(&parsed)) return refuse(400, *bad, false);
        request = std::get<ProxyRequest>(std::move(parsed));
        if (auto why = refuse_host(rules, request.host)) return refuse(403, *why);
        resolver.async_resolve(
            request.host, std::to_string(request.port),
            [self = shared_from_this()](error_code e, tcp::resolver::results_type results) {
                self->on_resolved(e, std::move(results));
            });
    }

    void on_resolved(error_code ec, tcp::resolver::results_type results) {
        if (ec) return refuse(502, "cannot resolve " + request.host + ": " + ec.message());
        std::vector<tcp::endpoint> endpoints;
        for (const auto& r : results) {
            // Every address must pass: one name must not lead anywhere it could not by itself.
            if (auto why = refuse_address(rules, r.endpoint().address()))
                return refuse(403, request.host + " resolves to " + *why);
            endpoints.push_back(r.endpoint());
        }
        if (endpoints.empty()) return refuse(502, "no address for " + request.host);
        asio::async_connect(upstream, endpoints,
                            [self = shared_from_this()](error_code e, const tcp::endpoint& at) {
                                self->on_connected(e, at);
                            });
    }

    void on_connected(error_code ec, const tcp::endpoint& at) {
        if (ec) return refuse(502, "cannot connect to " + request.host + ": " + ec.message());
        timer.cancel();
        log({true, request.host, request.port, at.address().to_string(), ""});
        auto first = std::make_shared<std::string>(
            request.tunnel ? "HTTP/1.1 200 Connection established\r\n\r\n" : request.forward);
        auto& target = request.tunnel ? client : upstream;
        asio::async_write(target, asio::buffer(*first),
                          [self = shared_from_this(), first](error_code e, std::size_t) {
                              if (e) return self->close();
                              self->flush_buffered();
                          });
    }

    // Bytes the client sent after its head (a TLS hello right behind CONNECT) go upstream.
    void flush_buffered() {
        if (head.size() == 0) return relay();
        auto rest = std::make_shared<std::string>(asio::buffers_begin(head.data()),
                                                  asio::buffers_end(head.data()));
        head.consume(head.size());
        asio::async_write(upstream, asio::buffer(*rest),
                          [self = shared_from_this(), rest](error_code e, std::size_t) {
                              if (e) return self->close();
                              self->relay();
                          });
    }

    void relay() {
        pump(client, upstream, up_buffer);
        pump(upstream, client, down_buffer);
    }

    void pump(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buffer) {
        from.async_read_some(asio::buffer(buffer), [self = shared_from_this(), &from, &to, &buffer](
                                                       error_code ec, std::size_t n) {
            if (ec) {
                error_code ignored;  // half-close: the other side learns the stream ended
                to.shutdown(tcp::socket::shutdown_send, ignored);
                return;
            }
            asio::async_write(to, asio::buffer(buffer.data(), n),
                              [self, &from, &to, &buffer](error_code e, std::size_t) {
                                  if (e) return self->close();
                                  self->pump(from, to, buffer);
                              });
        });
    }
};

}  // namespace

void EgressProxy::State::accept() {
    acceptor.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
        if (!ec) {
            if (self->open->load() >= kMaxConnections) {
                error_code ignored;
                socket.close(ignored);
            } else {
                std::make_shared<Connection>(std::move(socket), self->rules, self->log, self->open)
                    ->start();
            }
        }
        self->accept();
    });
}

EgressProxy::EgressProxy(int listener_fd, EgressRules rules,
                         std::function<void(const EgressDecision&)> log)
    : state_(std::make_shared<State>()) {
    state_->rules = std::move(rules);
    state_->log = std::move(log);
    state_->acceptor.assign(tcp::v4(), listener_fd);
    state_->accept();
    state_->thread = std::thread([state = state_] { state->io.run(); });
}

EgressProxy::~EgressProxy() {
    asio::post(state_->io, [state = state_] {
        error_code ignored;
        state->acceptor.close(ignored);
        state->io.stop();  // open connections end with the loop
    });
    state_->thread.join();
}

}  // namespace gossamer::sandbox
