// Test double at the remote-engine boundary: a scripted HTTP/1.1 server on 127.0.0.1 that
// answers like vLLM or SGLang would (shapes from tests/data/remote/README.md) and can misbehave
// on cue: an HTTP error, 429 with Retry-After, a stream cut off mid-way (the connection
// dropped, as when the engine dies), a malformed event, a stream that stalls. Each connection
// is served on its own thread with blocking sockets; every request is recorded. Tests only.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace gossamer::test {

struct FakeRequest {
    std::string method;
    std::string path;
    std::string headers;  // raw, lower-cased names not guaranteed
    nlohmann::json body;  // null when not JSON
};

// What to answer. A stream sends `events` (each one SSE data payload) with `gap` between them,
// then ends (chunked encoding, last chunk) unless `drop_after` cuts the connection after that
// many events, or `stall` holds the connection open without sending more.
struct FakeAnswer {
    int status = 200;
    std::string content_type = "application/json";
    std::vector<std::string> extra_headers;
    std::string body;  // a whole body (not a stream)
    bool stream = false;
    std::vector<std::string> events;  // SSE payloads
    std::chrono::milliseconds gap{0};
    int drop_after = -1;
    std::chrono::milliseconds stall{0};  // after the events: hold, then drop
};

class FakeEngine {
  public:
    using Handler = std::function<FakeAnswer(const FakeRequest&)>;

    explicit FakeEngine(Handler handler) : handler_(std::move(handler)) {
        acceptor_.open(boost::asio::ip::tcp::v4());
        acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind({boost::asio::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        accept_thread_ = std::thread([this] { accept_loop(); });
    }
    ~FakeEngine() { stop(); }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    unsigned short port() const { return port_; }

    // Stops listening and closes every connection (an engine that died). Idempotent.
    void stop() {
        {
            std::lock_guard lock(mutex_);
            if (stopped_) return;
            stopped_ = true;
        }
        boost::system::error_code ec;
        {  // a blocked accept() does not notice close(): wake it with a connection
            boost::asio::io_context io;
            boost::asio::ip::tcp::socket poke(io);
            poke.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
        }
        if (accept_thread_.joinable()) accept_thread_.join();
        acceptor_.close(ec);
        {
            std::lock_guard lock(mutex_);
            for (auto& s : sockets_) s->shutdown(boost::asio::socket_base::shutdown_both, ec);
        }
        for (auto& t : workers_) t.join();
    }

    std::vector<FakeRequest> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    // Requests to `path` only.
    std::vector<FakeRequest> requests_to(const std::string& path) const {
        std::vector<FakeRequest> out;
        for (auto& r : requests())
            if (r.path == path) out.push_back(r);
        return out;
    }

  private:
    void accept_loop() {
        for (;;) {
            auto socket = std::make_shared<boost::asio::ip::tcp::socket>(io_);
            boost::system::error_code ec;
            acceptor_.accept(*socket, ec);
            if (ec) return;
            std::lock_guard lock(mutex_);
            if (stopped_) return;
            sockets_.push_back(socket);
            workers_.emplace_back([this, socket] { serve(*socket); });
        }
    }

    void serve(boost::asio::ip::tcp::socket& s) {
        boost::system::error_code ec;
        boost::asio::streambuf buf;
        for (;;) {  // keep-alive: one request after another
            const std::size_t head = boost::asio::read_until(s, buf, "\r\n\r\n", ec);
            if (ec) return;
            std::string text(boost::asio::buffers_begin(buf.data()),
                             boost::asio::buffers_begin(buf.data()) + head);
            buf.consume(head);
            FakeRequest r;
            const auto sp1 = text.find(' '), sp2 = text.find(' ', sp1 + 1);
            r.method = text.substr(0, sp1);
            r.path = text.substr(sp1 + 1, sp2 - sp1 - 1);
            r.headers = text;
            std::size_t length = 0;
            for (const char* name : {"Content-Length: ", "content-length: "})
                if (auto at = text.find(name); at != std::string::npos)
                    length = std::stoul(text.substr(at + std::string(name).size()));
            if (buf.size() < length)
                boost::asio::read(s, buf, boost::asio::transfer_exactly(length - buf.size()), ec);
            std::string body(boost::asio::buffers_begin(buf.data()),
                             boost::asio::buffers_begin(buf.data()) + length);
            buf.consume(length);
            r.body = nlohmann::json::parse(body, nullptr, false);
            if (r.body.is_discarded()) r.body = nullptr;
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(r);
            }
            if (!answer(s, handler_(r))) return;
        }
    }

    // false: the connection is done.
    static bool answer(boost::asio::ip::tcp::socket& s, const FakeAnswer& a) {
        boost::system::error_code ec;
        std::string head = "HTTP/1.1 " + std::to_string(a.status) + " X\r\nContent-Type: " +
                           (a.stream ? std::string("text/event-stream") : a.content_type) + "\r\n";
        for (const auto& h : a.extra_headers) head += h + "\r\n";
        if (!a.stream) {
            head += "Content-Length: " + std::to_string(a.body.size()) + "\r\n\r\n" + a.body;
            boost::asio::write(s, boost::asio::buffer(head), ec);
            return !ec;
        }
        head += "Transfer-Encoding: chunked\r\n\r\n";
        boost::asio::write(s, boost::asio::buffer(head), ec);
        int sent = 0;
        for (const auto& e : a.events) {
            if (a.drop_after >= 0 && sent >= a.drop_after) break;
            if (a.gap.count() && sent) std::this_thread::sleep_for(a.gap);
            const std::string data = "data: " + e + "\n\n";
            char size[32];
            std::snprintf(size, sizeof size, "%zx\r\n", data.size());
            boost::asio::write(s, boost::asio::buffer(std::string(size) + data + "\r\n"), ec);
            if (ec) return false;
            ++sent;
        }
        if (a.stall.count()) std::this_thread::sleep_for(a.stall);
        if (a.drop_after >= 0 || a.stall.count()) {
            s.shutdown(boost::asio::socket_base::shutdown_both, ec);  // no last chunk: cut off
            return false;
        }
        boost::asio::write(s, boost::asio::buffer(std::string("0\r\n\r\n")), ec);
        return !ec;
    }

    Handler handler_;
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_{io_};
    unsigned short port_ = 0;
    std::thread accept_thread_;
    mutable std::mutex mutex_;
    bool stopped_ = false;
    std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
    std::vector<std::thread> workers_;
    std::vector<FakeRequest> requests_;
};

// The answers of a vLLM-like engine: /v1/models (with max_model_len), /tokenize (o200k, as
// the caller computes it) and /health; everything else goes to `generate`.
inline FakeAnswer model_list(const std::string& id, int max_model_len) {
    FakeAnswer a;
    a.body = nlohmann::json{{"object", "list"},
                            {"data",
                             {{{"id", id},
                               {"object", "model"},
                               {"owned_by", "vllm"},
                               {"max_model_len", max_model_len}}}}}
                 .dump();
    return a;
}

// One event of /inference/v1/generate's stream.
inline std::string generate_event(const std::vector<int>& ids, const char* finish = nullptr) {
    return nlohmann::json{{"request_id", "gen-1"},
                          {"choices",
                           {{{"index", 0},
                             {"token_ids", ids},
                             {"logprobs", nullptr},
                             {"finish_reason", finish ? nlohmann::json(finish) : nullptr}}}}}
        .dump();
}

}  // namespace gossamer::test
