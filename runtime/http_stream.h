// One HTTP request to a remote engine over libcurl (http and https), run on its own thread,
// with the answer handed to the runtime's event loop as it arrives: the status, the body in
// pieces, then how it ended. Timeouts: connect, first byte, between two pieces (a stalled
// stream), total. cancel() from the loop ends it early. Also a blocking form for start-up
// checks. It must not interpret bodies (engine_wire.h does) or retry (remote_model.h does).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gossamer::runtime {

struct HttpStreamRequest {
    std::string method = "POST";  // GET | POST
    std::string url;
    std::string body;                  // POST: JSON
    std::vector<std::string> headers;  // "Name: value"
    double connect_timeout = 5;        // seconds
    double first_byte_timeout = 600;   // request sent -> first body byte (a long prefill)
    double idle_timeout = 60;          // between two pieces of the body
    double total_timeout = 0;          // 0: none
};

struct HttpStreamEnd {
    long status = 0;    // 0: no HTTP answer (see error)
    std::string error;  // transport failure or timeout ("" when the body ended)
    bool timed_out = false;
    bool cancelled = false;
    std::optional<double> retry_after;  // seconds, from a Retry-After header
    std::string error_body;             // a non-2xx answer's body (at most 4 KiB)
};

// Keeps track of the threads so that their owner can wait for all of them before it goes.
class HttpStreamGroup {
  public:
    HttpStreamGroup() = default;
    HttpStreamGroup(const HttpStreamGroup&) = delete;
    ~HttpStreamGroup();  // cancels what still runs and waits for the threads
    struct State;

  private:
    friend class HttpStream;
    std::shared_ptr<State> state_ = make_state();
    static std::shared_ptr<State> make_state();
};

class HttpStream {
  public:
    using OnStatus = std::function<void(long status)>;
    using OnData = std::function<void(std::string piece)>;  // 2xx bodies only
    using OnEnd = std::function<void(const HttpStreamEnd&)>;

    // Starts the request; the callbacks run on `executor` in order (status, data..., end)
    // unless cancel() was called first (then only `on_end`, with cancelled set).
    static std::shared_ptr<HttpStream> start(HttpStreamGroup& group,
                                             boost::asio::any_io_executor executor,
                                             HttpStreamRequest request, OnStatus on_status,
                                             OnData on_data, OnEnd on_end);
    void cancel() { cancelled_ = true; }
    bool cancelled() const { return cancelled_; }

    // Blocking: the whole body (capped at `max_bytes`) and how it ended.
    struct Answer {
        HttpStreamEnd end;
        std::string body;
    };
    static Answer fetch(const HttpStreamRequest& request, std::size_t max_bytes = 1 << 20);

  private:
    std::atomic<bool> cancelled_{false};
};

}  // namespace gossamer::runtime
