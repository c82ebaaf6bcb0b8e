// ModelClient over remote engines (docs/SCALE.md): gossamer serve, vLLM or SGLang endpoints
// that take token ids and return the sampled ids (engine_wire.h), so the runtime still renders
// and parses harmony itself and stores exactly what was sampled.
//   - Placement: a conversation sticks to the endpoint that holds its KV prefix while that
//     endpoint is up; new conversations go to the least loaded one; at most `max_in_flight`
//     generations per endpoint (more wait their turn).
//   - Faults (connect errors, 5xx, 429 with Retry-After, malformed or stalled streams,
//     timeouts): the endpoint is marked down (a health check brings it back) or busy, and the
//     generation goes on elsewhere at once, or after an exponential backoff with jitter when
//     no endpoint is free. Tokens already received are kept: the retry continues from them
//     (prompt + tokens so far), so the caller sees one unbroken stream and a step is never
//     duplicated or lost. After `max_attempts` the generation ends with an Error naming every
//     endpoint's failure.
// Everything runs on the event loop (the transfers on their own threads, http_stream.h). It
// must not know about harmony messages, sessions or tools.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "runtime/engine_wire.h"
#include "runtime/http_stream.h"
#include "runtime/model_client.h"
#include "runtime/remote_options.h"

namespace gossamer::runtime {

// What one endpoint has done, for `sessions show` and the benchmarks.
struct EndpointStats {
    std::string url;
    bool up = true;
    int in_flight = 0;
    long generations = 0;  // completed on it
    long failures = 0;     // tries that failed on it
    long tokens = 0;       // tokens received from it
};

class RemoteModel final : public ModelClient {
  public:
    // Checks every endpoint before anything runs (blocking): it answers, serves the model
    // (the spec's `name`, else the first it lists), tokenizes like o200k_harmony where it can
    // say (POST /tokenize), and its context length. Endpoints that do not answer start as down;
    // none answering, or a model that does not match, is a SetupError with the reasons.
    RemoteModel(boost::asio::io_context& io, RemoteOptions options);
    ~RemoteModel() override;

    Conversation open() override;
    void close(Conversation c) override;
    void generate(Conversation c, ModelRequest request, OnToken on_token) override;
    void cancel(Conversation c) override;
    int context_window() const override { return context_window_; }
    bool supports_constraints() const override { return false; }
    int vocab_size() const override { return vocab_size_; }

    std::vector<EndpointStats> stats() const;
    // Human-readable one-line warnings from the start-up check (endpoints down, checks that
    // could not be made).
    const std::vector<std::string>& warnings() const { return warnings_; }

  private:
    struct Endpoint;
    struct Pending;
    using Clock = std::chrono::steady_clock;

    void check_endpoints();
    void dispatch(const std::shared_ptr<Pending>& p);
    void attempt(const std::shared_ptr<Pending>& p, std::size_t endpoint);
    void on_piece(const std::shared_ptr<Pending>& p, unsigned call, std::string piece);
    void on_end(const std::shared_ptr<Pending>& p, const HttpStreamEnd& end);
    void failed(const std::shared_ptr<Pending>& p, std::string why, bool mark_down, bool retryable,
                std::optional<double> retry_after);
    void deliver(const std::shared_ptr<Pending>& p, const WireChunk& chunk);
    void finish(const std::shared_ptr<Pending>& p, engine::FinishReason reason,
                std::string error = {}, const TokenEvent* last = nullptr);
    // Runs `f` on the loop unless the model is gone by then.
    template <class F>
    void later(F f);
    void give_up(const std::shared_ptr<Pending>& p);  // Error naming every failure
    // Cancels the running request and frees its endpoint slot; false when none ran.
    bool drop_call(Pending& p);
    void pump();
    int pick(const Pending& p) const;
    void mark_down(std::size_t endpoint);
    void schedule_health();
    std::vector<std::string> headers() const;
    // A short request of the start-up check or a health check (headers, connect timeout).
    HttpStreamRequest check_request(std::string method, std::string url,
                                    double total_timeout) const;

    boost::asio::io_context& io_;
    RemoteOptions options_;
    std::vector<std::unique_ptr<Endpoint>> endpoints_;
    std::map<Conversation, int> affinity_;  // conversation -> endpoint (-1: none yet)
    std::map<Conversation, std::shared_ptr<Pending>> active_;
    std::deque<std::shared_ptr<Pending>> waiting_;
    Conversation next_ = 1;
    int context_window_ = 131072;
    int vocab_size_ = 201088;
    std::vector<std::string> warnings_;
    boost::asio::steady_timer health_timer_;
    bool health_scheduled_ = false;
    std::mt19937_64 jitter_{std::random_device{}()};
    std::shared_ptr<int> life_ = std::make_shared<int>(0);  // callbacks hold it weakly
    HttpStreamGroup streams_;  // last: its destructor waits for the transfer threads
};

}  // namespace gossamer::runtime
