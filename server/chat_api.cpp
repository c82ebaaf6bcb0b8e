// POST /v1/chat/completions: Chat Completions (whole or streamed chunks) on the same
// TurnRunner as the Responses API. Reasoning goes out as `reasoning_content` and, for the
// clients that read that name, `reasoning`; tool calls as `tool_calls` with their JSON
// arguments. This file only maps items to the wire.
#include "server/random_id.h"
#include "server/request_parsers.h"
#include "server/server.h"

namespace gossamer::server {

namespace {

class ChatWriter final : public TurnObserver {
  public:
    ChatWriter(Server& server, std::shared_ptr<Reply> reply, TurnInput input, bool include_usage)
        : server_(server),
          reply_(std::move(reply)),
          input_(std::move(input)),
          include_usage_(include_usage),
          id_(random_id("chatcmpl-", 29)),
          created_(unix_now()) {}

    std::shared_ptr<TurnRunner> runner;

    void begin() {
        if (!input_.stream) return;
        reply_->start_events();
        chunk({{"role", "assistant"}, {"content", ""}}, nullptr);
    }

    void item_started(std::size_t, const OutputItem& item) override {
        if (item.kind != ItemKind::function_call) return;
        const int index = calls_++;
        if (input_.stream)
            chunk({{"tool_calls",
                    {{{"index", index},
                      {"id", item.call_id},
                      {"type", "function"},
                      {"function", {{"name", item.name}, {"arguments", ""}}}}}}},
                  nullptr);
    }

    void item_delta(std::size_t, const OutputItem& item, const std::string& delta) override {
        if (!input_.stream) return;
        switch (item.kind) {
            case ItemKind::message:
                return chunk({{"content", delta}}, nullptr);
            case ItemKind::reasoning:
                return chunk({{"reasoning_content", delta}, {"reasoning", delta}}, nullptr);
            case ItemKind::function_call:
                return chunk({{"tool_calls",
                               {{{"index", calls_ - 1}, {"function", {{"arguments", delta}}}}}}},
                             nullptr);
            default:
                return;
        }
    }

    void item_done(std::size_t, const OutputItem&) override {}

    void finished(const TurnResult& result) override {
        server_.finished_turn(result);  // metrics, and the admission slot back
        if (result.end == TurnEnd::cancelled) {
            server_.metrics_.count("/v1/chat/completions", 499);
            return server_.forget(this);
        }
        std::string content, reasoning;
        Json tool_calls = Json::array();
        bool has_content = false;
        for (const auto& item : result.items) {
            if (item.kind == ItemKind::message) content += item.text, has_content = true;
            if (item.kind == ItemKind::reasoning)
                reasoning += (reasoning.empty() ? "" : "\n") + item.text;
            if (item.kind == ItemKind::function_call)
                tool_calls.push_back(
                    {{"id", item.call_id},
                     {"type", "function"},
                     {"function", {{"name", item.name}, {"arguments", item.text}}}});
        }
        const char* finish = !tool_calls.empty()                        ? "tool_calls"
                             : result.end == TurnEnd::incomplete_length ? "length"
                                                                        : "stop";
        Json usage{
            {"prompt_tokens", result.usage.input_tokens},
            {"completion_tokens", result.usage.output_tokens},
            {"total_tokens", result.usage.input_tokens + result.usage.output_tokens},
            {"prompt_tokens_details", {{"cached_tokens", result.usage.cached_tokens}}},
            {"completion_tokens_details", {{"reasoning_tokens", result.usage.reasoning_tokens}}}};
        if (result.end == TurnEnd::failed && !input_.stream) {
            server_.answer_error(
                *reply_, "/v1/chat/completions",
                ApiError(result.error_status, result.error,
                         result.error_status == 400 ? std::optional<std::string>("messages")
                                                    : std::nullopt,
                         result.error_code,
                         result.error_status == 400 ? "invalid_request_error" : "server_error"));
            return server_.forget(this);
        }
        if (input_.stream) {
            if (result.end == TurnEnd::failed)
                reply_->event("", Json{{"error",
                                        {{"message", result.error},
                                         {"type", "server_error"},
                                         {"param", nullptr},
                                         {"code", result.error_code}}}}
                                      .dump(-1, ' ', false, Json::error_handler_t::replace));
            else
                chunk(Json::object(), finish);
            if (include_usage_) {
                Json c = base();
                c["choices"] = Json::array();
                c["usage"] = usage;
                reply_->event("", c.dump(-1, ' ', false, Json::error_handler_t::replace));
            }
            reply_->event("", "[DONE]");
            server_.metrics_.count("/v1/chat/completions", 200);
            reply_->end_events();
            return server_.forget(this);
        }
        Json message{{"role", "assistant"}, {"content", has_content ? Json(content) : Json()}};
        if (!reasoning.empty())
            message["reasoning_content"] = reasoning, message["reasoning"] = reasoning;
        if (!tool_calls.empty()) message["tool_calls"] = tool_calls;
        Json body = base();
        body["object"] = "chat.completion";
        body["choices"] = Json::array({{{"index", 0},
                                        {"message", message},
                                        {"logprobs", nullptr},
                                        {"finish_reason", finish}}});
        body["usage"] = usage;
        server_.answer_json(*reply_, "/v1/chat/completions", 200, body);
        server_.forget(this);
    }

  private:
    Json base() const {
        return {{"id", id_},
                {"object", "chat.completion.chunk"},
                {"created", created_},
                {"model", server_.options_.model_name},
                {"system_fingerprint", "gossamer"}};
    }
    void chunk(Json delta, const char* finish_reason) {
        Json c = base();
        c["choices"] =
            Json::array({{{"index", 0},
                          {"delta", std::move(delta)},
                          {"logprobs", nullptr},
                          {"finish_reason", finish_reason ? Json(finish_reason) : Json()}}});
        reply_->event("", c.dump(-1, ' ', false, Json::error_handler_t::replace));
    }

    Server& server_;
    std::shared_ptr<Reply> reply_;
    TurnInput input_;
    bool include_usage_;
    std::string id_;
    std::int64_t created_;
    int calls_ = 0;
};

}  // namespace

void Server::chat(const HttpRequest& request, std::shared_ptr<Reply> reply) {
    const Json body = parse_body(request.body);
    TurnInput input = parse_chat_request(body);
    check_model(input.model);
    bool include_usage = false;
    if (const auto it = body.find("stream_options"); it != body.end() && it->is_object())
        include_usage = it->value("include_usage", false);
    if (!admit(*reply, "/v1/chat/completions")) return;
    auto writer = std::make_shared<ChatWriter>(*this, reply, input, include_usage);
    start_turn(writer, *reply, "chat", std::move(input), {});
}

}  // namespace gossamer::server
