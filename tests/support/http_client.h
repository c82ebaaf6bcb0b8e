// Test support: one raw HTTP/1.1 request to 127.0.0.1:PORT with Beast (no client library in
// between), and the answer: status, body, headers. Server tests only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace gossamer::test {

struct HttpAnswer {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;
    std::string header(const char* name) const {
        return headers.count(name) ? headers.at(name) : "";
    }
    nlohmann::json json() const { return nlohmann::json::parse(body); }
};

inline HttpAnswer http_send(unsigned short port, boost::beast::http::verb method,
                            const std::string& target, const std::string& body = "",
                            const std::map<std::string, std::string>& headers = {}) {
    namespace asio = boost::asio;
    namespace http = boost::beast::http;
    asio::io_context client;
    asio::ip::tcp::socket socket(client);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(socket, req);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    boost::beast::error_code ec;
    http::read(socket, buffer, parser, ec);
    HttpAnswer a;
    a.status = static_cast<int>(parser.get().result_int());
    a.body = parser.get().body();
    for (const auto& f : parser.get())
        a.headers[std::string(f.name_string())] = std::string(f.value());
    return a;
}

}  // namespace gossamer::test
