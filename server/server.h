// `gossamer serve`: the OpenAI-compatible HTTP API on one model. Routes requests
// (Responses, Chat Completions, the token-level generate endpoint, models, health, metrics),
// checks the API key, admits at most max_running + max_queue requests (429 beyond), and
// runs each as a TurnRunner on the shared model, so every client's tokens are batched by the
// engine's one scheduler. Stored responses live in the sessions database. Loop thread only;
// the wire formats are in responses_api.cpp, chat_api.cpp and generate_api.cpp.
#pragma once

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "harmony/renderer.h"
#include "runtime/model_client.h"
#include "runtime/session_store.h"
#include "runtime/tool_registry.h"
#include "server/api_error.h"
#include "server/conversation_pool.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/response_store.h"
#include "server/trace_viewer.h"
#include "server/turn_runner.h"

namespace gossamer::server {

struct ServerOptions {
    HttpOptions http;
    std::string api_key;  // empty: no key (loopback only)
    std::string model_name = "gpt-oss";
    std::size_t max_running = 16;  // requests generating at once (the engine's batch)
    std::size_t max_queue = 64;    // admitted beyond max_running; more get 429
    std::size_t max_idle_conversations = 16;
    int max_request_tokens = 0;        // prompt tokens per request; 0: the context window
    std::filesystem::path workspaces;  // built-in tools' workspaces (one per response chain)
    double tool_timeout_seconds = 120;
    // Where conversations keep their KV caches (engine/kv_file.h; <store folder>/kv); empty:
    // nowhere (--no-store).
    std::filesystem::path kv_folder;
};

class Server {
  public:
    // `store` may be null (no stored responses); `builtin` may be null (no built-in tools).
    // `listening`: a socket from listen_on (else the server binds options.http itself).
    Server(boost::asio::io_context& io, runtime::ModelClient& model, runtime::SessionStore* store,
           runtime::ToolRegistry* builtin, ServerOptions options,
           std::optional<boost::asio::ip::tcp::acceptor> listening = std::nullopt);
    ~Server();
    std::uint16_t port() const { return http_->port(); }
    // Stops accepting; `done` runs once no request is in progress.
    void drain(std::function<void()> done);
    std::size_t active() const { return active_; }

    // Internals the endpoint files share.
    struct Request;
    void handle(const HttpRequest& request, std::shared_ptr<Reply> reply);
    void answer_error(Reply& reply, const std::string& endpoint, const ApiError& error);
    void answer_json(Reply& reply, const std::string& endpoint, int status, const Json& body);
    bool admit(Reply& reply, const std::string& endpoint);
    void release();  // an admitted request ended
    // A TurnRunner's request ended: its usage into the metrics, then release().
    void finished_turn(const TurnResult& result);
    TurnContext turn_context(const std::string& chain_id);
    // Keeps a request's state alive until it calls forget (destroyed after the current
    // callback returns).
    void keep(std::shared_ptr<void> state) { live_[state.get()] = std::move(state); }
    void forget(const void* state);
    void check_model(const std::string& requested) const;

    // Starts a model turn whose events go to `writer` (a TurnObserver with a `runner` member
    // and begin()); a client that goes away cancels it.
    template <typename Writer>
    void start_turn(std::shared_ptr<Writer> writer, Reply& reply, const std::string& chain,
                    TurnInput input, std::vector<Segment> history) {
        writer->runner = std::make_shared<TurnRunner>(turn_context(chain), std::move(input),
                                                      std::move(history), *writer);
        keep(writer);  // until the runner has finished (the writer forgets itself then)
        std::weak_ptr<TurnRunner> weak = writer->runner;
        reply.on_gone([weak] {
            if (auto r = weak.lock()) r->cancel();
        });
        writer->begin();
        writer->runner->start();
    }

    void responses(const HttpRequest& request, std::shared_ptr<Reply> reply);
    void get_response(const std::string& id, Reply& reply, bool remove);
    void chat(const HttpRequest& request, std::shared_ptr<Reply> reply);
    void generate(const HttpRequest& request, std::shared_ptr<Reply> reply);
    void tokenize(const HttpRequest& request, std::shared_ptr<Reply> reply);

    boost::asio::io_context& io_;
    runtime::ModelClient& model_;
    runtime::ToolRegistry* builtin_;
    ServerOptions options_;
    harmony::Renderer renderer_;
    ConversationPool pool_;
    std::optional<ResponseStore> responses_;
    Metrics metrics_;
    std::optional<TraceViewer> viewer_;  // /ui, when there is a store
    std::unique_ptr<HttpServer> http_;
    std::size_t active_ = 0;
    std::map<const void*, std::shared_ptr<void>> live_;
    std::function<void()> drained_;
    std::string date_;
};

// Seconds since the epoch (the APIs' `created`).
std::int64_t unix_now();

}  // namespace gossamer::server
