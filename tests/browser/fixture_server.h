// Test support: a real HTTP/1.1 server on 127.0.0.1 (an ephemeral port) for the browser
// tests, written with Boost.Beast's synchronous API: one thread accepts, one thread per
// connection answers one request and closes. A handler maps each request to a canned
// response (status, headers, body, an optional delay). Also gzip_stored(): a gzip stream
// with stored deflate blocks, so a test can serve Content-Encoding: gzip without zlib.
#pragma once

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace gossamer::test {

struct HttpExchange {
    std::string method;
    std::string target;  // path and query
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
};

struct FixtureResponse {
    unsigned status = 200;
    std::string content_type = "text/html; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds delay{0};  // before the response is written
};

class FixtureServer {
  public:
    using Handler = std::function<FixtureResponse(const HttpExchange&)>;

    explicit FixtureServer(Handler handler)
        : handler_(std::move(handler)),
          acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
        port_ = acceptor_.local_endpoint().port();
        accept_thread_ = std::thread([this] { accept_loop(); });
    }

    ~FixtureServer() {
        stopping_ = true;
        try {  // wake the blocking accept()
            boost::asio::ip::tcp::socket s(io_);
            s.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
        } catch (...) {
        }
        accept_thread_.join();
        std::lock_guard lock(mutex_);
        for (auto& t : connections_) t.join();
    }

    unsigned short port() const { return port_; }
    std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::string url(std::string_view path) const { return origin() + std::string(path); }
    std::vector<HttpExchange> exchanges() const {
        std::lock_guard lock(mutex_);
        return exchanges_;
    }

  private:
    void accept_loop() {
        while (!stopping_) {
            boost::asio::ip::tcp::socket socket(io_);
            boost::system::error_code ec;
            acceptor_.accept(socket, ec);
            if (ec || stopping_) continue;
            std::lock_guard lock(mutex_);
            connections_.emplace_back([this, s = std::move(socket)]() mutable { serve(s); });
        }
    }

    void serve(boost::asio::ip::tcp::socket& socket) {
        namespace http = boost::beast::http;
        boost::beast::flat_buffer buffer;
        http::request<http::string_body> request;
        boost::system::error_code ec;
        http::read(socket, buffer, request, ec);
        if (ec) return;
        HttpExchange ex;
        ex.method = std::string(request.method_string());
        ex.target = std::string(request.target());
        ex.body = request.body();
        for (const auto& field : request) {
            std::string name(field.name_string());
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            ex.headers[name] = std::string(field.value());
        }
        {
            std::lock_guard lock(mutex_);
            exchanges_.push_back(ex);
        }
        const FixtureResponse answer = handler_(ex);
        for (auto waited = std::chrono::milliseconds(0); waited < answer.delay && !stopping_;
             waited += std::chrono::milliseconds(20))
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        http::response<http::string_body> response{static_cast<http::status>(answer.status), 11};
        if (!answer.content_type.empty())
            response.set(http::field::content_type, answer.content_type);
        for (const auto& [name, value] : answer.headers) response.set(name, value);
        response.body() = answer.body;
        response.prepare_payload();
        response.keep_alive(false);
        http::write(socket, response, ec);
        socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    }

    Handler handler_;
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread accept_thread_;
    mutable std::mutex mutex_;
    std::vector<std::thread> connections_;
    std::vector<HttpExchange> exchanges_;
};

// gzip (RFC 1952) of `data` using stored (uncompressed) deflate blocks.
inline std::string gzip_stored(std::string_view data) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char c : data) {
        crc ^= c;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    crc ^= 0xFFFFFFFFu;
    std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
    std::size_t at = 0;
    do {
        const std::size_t n = std::min<std::size_t>(65535, data.size() - at);
        const bool last = at + n == data.size();
        out += static_cast<char>(last ? 1 : 0);
        out += static_cast<char>(n & 0xFF);
        out += static_cast<char>(n >> 8);
        out += static_cast<char>(~n & 0xFF);
        out += static_cast<char>((~n >> 8) & 0xFF);
        out.append(data.substr(at, n));
        at += n;
    } while (at < data.size());
    for (int k = 0; k < 4; ++k) out += static_cast<char>((crc >> (8 * k)) & 0xFF);
    const auto size = static_cast<std::uint32_t>(data.size());
    for (int k = 0; k < 4; ++k) out += static_cast<char>((size >> (8 * k)) & 0xFF);
    return out;
}

}  // namespace gossamer::test
