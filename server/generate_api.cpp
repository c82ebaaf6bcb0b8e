// POST /inference/v1/generate: token ids in, sampled token ids out, in the request and
// response shape of vLLM's tokens-in/tokens-out endpoint ({"token_ids", "sampling_params":
// {max_tokens, temperature, top_p, top_k, seed, stop_token_ids, logprobs}, "stream"} ->
// {"request_id", "choices": [{"index", "token_ids", "logprobs", "finish_reason"}], "usage"}),
// so one remote client speaks to gossamer and vLLM alike. No harmony here: the caller
// renders and parses. Prefix reuse goes through the same conversation pool.
#include <random>

#include "server/request_parsers.h"
#include "server/server.h"

namespace gossamer::server {

namespace {

Json logprobs_json(const engine::Sample& s) {
    Json top = Json::array();
    for (const auto& t : s.top) top.push_back({{"token_id", t.token}, {"logprob", t.logprob}});
    return {{"token_id", s.token}, {"logprob", s.logprob}, {"top_logprobs", std::move(top)}};
}

const char* finish_name(runtime::FinishReason r) {
    switch (r) {
        case runtime::FinishReason::Stop:
            return "stop";
        case runtime::FinishReason::Length:
        case runtime::FinishReason::Context:
            return "length";
        case runtime::FinishReason::Cancelled:
            return "abort";
        case runtime::FinishReason::Error:
            return "error";
    }
    return "stop";
}

struct Generation {
    GenerateRequest request;
    std::string id;
    std::optional<ConversationPool::Conversation> conv;
    std::vector<std::int32_t> held;
    Json tokens = Json::array();
    Json logprobs = Json::array();
    bool finished = false;
    TokenGaps gaps;
};

}  // namespace

void Server::generate(const HttpRequest& http, std::shared_ptr<Reply> reply) {
    auto g = std::make_shared<Generation>();
    g->request = parse_generate_request(parse_body(http.body), model_.vocab_size());
    check_model(g->request.model);
    if (options_.max_request_tokens > 0 &&
        static_cast<int>(g->request.token_ids.size()) > options_.max_request_tokens)
        throw bad_param("token_ids", "longer than this server's per-request limit of " +
                                         std::to_string(options_.max_request_tokens) + " tokens");
    engine::validate(g->request.sampling);
    if (!admit(*reply, "/inference/v1/generate")) return;
    g->id = g->request.request_id.value_or("gen-" + std::to_string(unix_now()) + "-" +
                                           std::to_string(std::random_device{}()));
    g->conv = pool_.take(g->request.token_ids);
    g->held = g->request.token_ids;
    runtime::ModelRequest request;
    request.prompt = g->request.token_ids;
    request.max_tokens = g->request.max_tokens;
    request.sampling = g->request.sampling;
    request.stop = g->request.stop_token_ids;
    keep(g);
    if (g->request.stream) reply->start_events();
    reply->on_gone([this, weak = std::weak_ptr<Generation>(g)] {
        if (auto gen = weak.lock(); gen && !gen->finished) model_.cancel(*gen->conv);
    });
    const auto begun = std::chrono::steady_clock::now();
    model_.generate(
        *g->conv, std::move(request), [this, g, reply, begun](const runtime::TokenEvent& e) {
            if (e.has_token) {
                if (g->tokens.empty())
                    metrics_.time_to_first_token.observe(
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - begun)
                            .count());
                g->gaps.tick(metrics_.inter_token_latency);
                g->tokens.push_back(e.sample.token);
                g->held.push_back(e.sample.token);
                if (g->request.logprobs >= 0) g->logprobs.push_back(logprobs_json(e.sample));
                if (g->request.stream && !e.done) {
                    Json c{{"request_id", g->id},
                           {"choices",
                            {{{"index", 0},
                              {"token_ids", {e.sample.token}},
                              {"logprobs", g->request.logprobs >= 0
                                               ? Json{{"content", {logprobs_json(e.sample)}}}
                                               : Json()},
                              {"finish_reason", nullptr}}}}};
                    reply->event("", c.dump());
                }
            }
            if (!e.done) return;
            g->finished = true;
            release();
            metrics_.count_tokens(e.stats.prompt_tokens, e.stats.reused_tokens,
                                  static_cast<int>(g->tokens.size()));
            if (e.reason == runtime::FinishReason::Cancelled ||
                e.reason == runtime::FinishReason::Error)
                pool_.drop(*g->conv);
            else
                pool_.give_back(*g->conv, std::move(g->held));
            const Json usage{{"prompt_tokens", g->request.token_ids.size()},
                             {"completion_tokens", g->tokens.size()},
                             {"total_tokens", g->request.token_ids.size() + g->tokens.size()},
                             {"prompt_tokens_details", {{"cached_tokens", e.stats.reused_tokens}}}};
            if (e.reason == runtime::FinishReason::Cancelled) {
                metrics_.count("/inference/v1/generate", 499);
            } else if (e.reason == runtime::FinishReason::Error && !g->request.stream) {
                answer_error(*reply, "/inference/v1/generate",
                             ApiError(400, e.error, "token_ids", "invalid_request"));
            } else if (g->request.stream) {
                Json last{
                    {"request_id", g->id},
                    {"choices",
                     {{{"index", 0},
                       {"token_ids", e.has_token ? Json::array({e.sample.token}) : Json::array()},
                       {"logprobs", e.has_token && g->request.logprobs >= 0
                                        ? Json{{"content", {logprobs_json(e.sample)}}}
                                        : Json()},
                       {"finish_reason", finish_name(e.reason)}}}},
                    {"usage", usage}};
                if (e.reason == runtime::FinishReason::Error) last["error"] = e.error;
                reply->event("", last.dump());
                reply->event("", "[DONE]");
                reply->end_events();
                metrics_.count("/inference/v1/generate", 200);
            } else {
                answer_json(
                    *reply, "/inference/v1/generate", 200,
                    {{"request_id", g->id},
                     {"choices",
                      {{{"index", 0},
                        {"token_ids", g->tokens},
                        {"logprobs",
                         g->request.logprobs >= 0 ? Json{{"content", g->logprobs}} : Json()},
                        {"finish_reason", finish_name(e.reason)}}}},
                     {"usage", usage},
                     {"prompt_logprobs", nullptr},
                     {"kv_transfer_params", nullptr}});
            }
            forget(g.get());
        });
}

// POST /tokenize in vLLM's shape ({"prompt", "add_special_tokens"} -> {"count",
// "max_model_len", "tokens"}): special-token strings in the prompt become special tokens, as
// they do in vLLM, so a remote client can check that both sides mean the same ids.
void Server::tokenize(const HttpRequest& http, std::shared_ptr<Reply> reply) {
    const Json body = parse_body(http.body);
    check_model(body.value("model", Json("")).is_string() ? body.value("model", "") : "");
    const auto prompt = body.find("prompt");
    if (prompt == body.end() || !prompt->is_string())
        throw bad_param("prompt", "a string is required");
    const auto tokens = renderer_.tokenizer().encode(prompt->get<std::string>(),
                                                     harmony::AllowedSpecial::all_tokens());
    answer_json(*reply, "/tokenize", 200,
                {{"count", tokens.size()},
                 {"max_model_len", model_.context_window()},
                 {"tokens", tokens},
                 {"token_strs", nullptr}});
}

}  // namespace gossamer::server
