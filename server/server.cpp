#include "server/server.h"

#include <boost/asio/post.hpp>
#include <chrono>

#include "harmony/tokenizer.h"
#include "runtime/agent_setup.h"
#include "server/request_parsers.h"

namespace gossamer::server {

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Server::Server(boost::asio::io_context& io, runtime::ModelClient& model,
               runtime::SessionStore* store, runtime::ToolRegistry* builtin, ServerOptions options,
               std::optional<boost::asio::ip::tcp::acceptor> listening)
    : io_(io),
      model_(model),
      builtin_(builtin),
      options_(std::move(options)),
      renderer_(harmony::Tokenizer::o200k_harmony()),
      pool_(model, options_.max_idle_conversations, options_.kv_folder),
      date_(runtime::today_utc()) {
    if (store) {
        responses_.emplace(*store);
        viewer_.emplace(io, *store, ViewerOptions{options_.api_key});
    }
    if (!listening) listening.emplace(listen_on(io, options_.http));
    http_ = std::make_unique<HttpServer>(
        std::move(*listening), options_.http,
        [this](const HttpRequest& request, std::shared_ptr<Reply> reply) {
            handle(request, std::move(reply));
        });
}

Server::~Server() = default;

void Server::forget(const void* state) {
    auto it = live_.find(state);
    if (it == live_.end()) return;
    auto held = std::move(it->second);
    live_.erase(it);
    boost::asio::post(io_, [held = std::move(held)] {});  // destroyed after this callback
}

void Server::drain(std::function<void()> done) {
    http_->stop();
    if (viewer_) viewer_->stop();
    drained_ = std::move(done);
    if (active_ == 0 && drained_) std::exchange(drained_, nullptr)();
}

void Server::answer_json(Reply& reply, const std::string& endpoint, int status, const Json& body) {
    metrics_.count(endpoint, status);
    reply.send(status, "application/json",
               body.dump(-1, ' ', false, Json::error_handler_t::replace));
}

void Server::answer_error(Reply& reply, const std::string& endpoint, const ApiError& error) {
    metrics_.count(endpoint, error.status);
    std::vector<std::pair<std::string, std::string>> headers;
    if (error.status == 429) headers.emplace_back("Retry-After", "1");
    if (error.status == 401) headers.emplace_back("WWW-Authenticate", "Bearer");
    reply.send(error.status, "application/json",
               error.body().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
               std::move(headers));
}

bool Server::admit(Reply& reply, const std::string& endpoint) {
    if (drained_) {
        answer_error(reply, endpoint,
                     ApiError(503, "the server is shutting down", std::nullopt, "shutting_down",
                              "server_error"));
        return false;
    }
    if (active_ >= options_.max_running + options_.max_queue) {
        ++metrics_.rejected;
        answer_error(reply, endpoint,
                     ApiError(429,
                              "too many requests in progress (" + std::to_string(active_) +
                                  "); retry shortly",
                              std::nullopt, "rate_limit_exceeded", "rate_limit_error"));
        return false;
    }
    ++active_;
    metrics_.set_load(active_, options_.max_running);
    return true;
}

void Server::release() {
    --active_;
    metrics_.set_load(active_, options_.max_running);
    if (active_ == 0 && drained_) std::exchange(drained_, nullptr)();
}

void Server::finished_turn(const TurnResult& result) {
    metrics_.count_tokens(result.usage.input_tokens, result.usage.cached_tokens,
                          result.usage.output_tokens);
    if (result.first_token_ms >= 0)
        metrics_.time_to_first_token.observe(result.first_token_ms / 1000);
    release();
}

void Server::check_model(const std::string& requested) const {
    if (!requested.empty() && requested != options_.model_name)
        throw ApiError(404,
                       "The model '" + requested + "' does not exist on this server (it serves '" +
                           options_.model_name + "')",
                       "model", "model_not_found");
}

TurnContext Server::turn_context(const std::string& chain_id) {
    TurnContext c{
        io_.get_executor(),           model_, pool_, renderer_, nullptr, {}, {}, 8, 0, 120, {},
        &metrics_.inter_token_latency};
    c.builtin_tools = builtin_;
    c.session_id = chain_id;
    if (!options_.workspaces.empty()) {
        c.workspace = options_.workspaces / chain_id;
        std::error_code ec;
        std::filesystem::create_directories(c.workspace, ec);
    }
    c.tool_timeout_seconds = options_.tool_timeout_seconds;
    c.max_prompt_tokens = options_.max_request_tokens;
    c.date = date_;
    return c;
}

void Server::handle(const HttpRequest& request, std::shared_ptr<Reply> reply) {
    const std::string& path = request.path;
    std::string endpoint = path;
    try {
        if (request.method == "GET" && path == "/health") {
            metrics_.count("/health", 200);
            return reply->send(200, "application/json", R"({"status":"ok"})");
        }
        if (viewer_ && viewer_->handle(request, reply)) return;  // checks access itself
        if (!options_.api_key.empty() &&
            request.header("authorization") != "Bearer " + options_.api_key)
            throw ApiError(401, "a valid API key is required (Authorization: Bearer KEY)",
                           std::nullopt, "invalid_api_key", "authentication_error");
        if (request.method == "GET" && path == "/metrics") {
            metrics_.count("/metrics", 200);
            return reply->send(200, "text/plain; version=0.0.4", metrics_.render());
        }
        if (request.method == "GET" && path == "/v1/models") {
            return answer_json(*reply, path, 200,
                               {{"object", "list"},
                                {"data",
                                 {{{"id", options_.model_name},
                                   {"object", "model"},
                                   {"created", 0},
                                   {"owned_by", "gossamer"},
                                   {"max_model_len", model_.context_window()}}}}});
        }
        if (request.method == "GET" && path.rfind("/v1/models/", 0) == 0) {
            check_model(path.substr(11));
            return answer_json(*reply, "/v1/models", 200,
                               {{"id", options_.model_name},
                                {"object", "model"},
                                {"created", 0},
                                {"owned_by", "gossamer"},
                                {"max_model_len", model_.context_window()}});
        }
        if (path.rfind("/v1/responses/", 0) == 0 &&
            (request.method == "GET" || request.method == "DELETE")) {
            endpoint = "/v1/responses/{id}";
            return get_response(path.substr(14), *reply, request.method == "DELETE");
        }
        if (request.method == "POST" && path == "/v1/responses") return responses(request, reply);
        if (request.method == "POST" && path == "/v1/chat/completions") return chat(request, reply);
        if (request.method == "POST" && path == "/tokenize") return tokenize(request, reply);
        if (request.method == "POST" && path == "/inference/v1/generate")
            return generate(request, reply);
        endpoint = "other";
        throw ApiError(404, "no route for " + request.method + " " + path, std::nullopt,
                       "unknown_url");
    } catch (const ApiError& e) {
        answer_error(*reply, endpoint, e);
    } catch (const std::exception& e) {
        answer_error(*reply, endpoint,
                     ApiError(500, std::string("internal error: ") + e.what(), std::nullopt,
                              "internal_error", "server_error"));
    }
}

void Server::get_response(const std::string& id, Reply& reply, bool remove) {
    if (!responses_)
        throw ApiError(404, "responses are not stored by this server (no --store)", std::nullopt,
                       "not_found");
    if (remove) {
        if (!responses_->remove(id))
            throw ApiError(404, "no stored response '" + id + "'", std::nullopt, "not_found");
        return answer_json(reply, "/v1/responses/{id}", 200,
                           {{"id", id}, {"object", "response.deleted"}, {"deleted", true}});
    }
    const auto stored = responses_->get(id);
    if (!stored) throw ApiError(404, "no stored response '" + id + "'", std::nullopt, "not_found");
    answer_json(reply, "/v1/responses/{id}", 200, stored->response);
}

}  // namespace gossamer::server
