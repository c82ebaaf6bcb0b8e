// The HTTP layer alone (server/http_server.h), over real sockets on 127.0.0.1: event streams
// whose clients go away while writes are still in flight. The endpoints above it are tested
// in test_server_http.cpp and by the real clients in tests/clients.
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <string>
#include <thread>

#include "server/http_server.h"
#include "tests/support/http_client.h"

namespace asio = boost::asio;
namespace srv = gossamer::server;

namespace {

// Sends events of `size` bytes as fast as the loop turns until the client is gone (or
// `limit` were sent: then the stream ends).
struct Pump : std::enable_shared_from_this<Pump> {
    asio::io_context& io;
    std::shared_ptr<srv::Reply> reply;
    std::string payload;
    int left;
    std::atomic<int>& ended;
    Pump(asio::io_context& i, std::shared_ptr<srv::Reply> r, std::size_t size, int limit,
         std::atomic<int>& e)
        : io(i), reply(std::move(r)), payload(size, 'x'), left(limit), ended(e) {}
    void next() {
        if (reply->gone() || left-- == 0) {
            reply->end_events();
            ++ended;
            return;
        }
        reply->event("", payload);
        asio::post(io, [self = shared_from_this()] { self->next(); });
    }
};

}  // namespace

TEST_CASE("http server: clients that leave mid-stream while writes are in flight") {
    asio::io_context io;
    std::atomic<int> gone{0}, ended{0};
    srv::HttpOptions options;
    options.port = 0;
    srv::HttpServer server(io, options,
                           [&](const srv::HttpRequest& request, std::shared_ptr<srv::Reply> reply) {
                               if (request.path == "/plain")
                                   return reply->send(200, "text/plain", "still here");
                               reply->on_gone([&gone] { ++gone; });
                               reply->start_events();
                               std::make_shared<Pump>(io, reply, 4096, 1 << 20, ended)->next();
                           });
    std::thread loop([&] {
        auto guard = asio::make_work_guard(io);
        io.run();
    });

    // Each client reads a little of its stream and leaves: by an abortive close (RST), or by
    // ending its side (FIN) and reading on until the server closes: the server's writes keep
    // succeeding after it has noticed, so some complete after the connection was closed.
    constexpr int kClients = 150;
    for (int i = 0; i < kClients; ++i) {
        asio::io_context client;
        asio::ip::tcp::socket socket(client);
        socket.connect({asio::ip::make_address("127.0.0.1"), server.port()});
        const std::string request = "GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        asio::write(socket, asio::buffer(request));
        std::string got(static_cast<std::size_t>(1024 + 97 * i), '\0');
        asio::read(socket, asio::buffer(got));
        CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
        if (i % 2) {
            socket.set_option(asio::socket_base::linger(true, 0));
        } else {
            socket.shutdown(asio::ip::tcp::socket::shutdown_send);
            boost::system::error_code ec;
            while (!ec) socket.read_some(asio::buffer(got), ec);
        }
        socket.close();
    }
    // Every stream noticed its client and stopped; the server still answers.
    for (int i = 0; i < 500 && ended.load() < kClients; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(ended.load() == kClients);
    CHECK(gone.load() == kClients);
    const auto answer =
        gossamer::test::http_send(server.port(), boost::beast::http::verb::get, "/plain");
    CHECK(answer.status == 200);
    CHECK(answer.body == "still here");

    io.stop();
    loop.join();
}
