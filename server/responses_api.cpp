// POST /v1/responses: the OpenAI Responses API (whole or as server-sent events), with
// stored responses for previous_response_id. The request is parsed by request_parsers.h; the
// model work is a TurnRunner; this file only maps its items to the wire objects and events.
#include <chrono>

#include "server/random_id.h"
#include "server/request_parsers.h"
#include "server/server.h"

namespace gossamer::server {

namespace {

Json item_json(const OutputItem& item, bool done, bool include_reasoning) {
    const char* status = done ? "completed" : "in_progress";
    switch (item.kind) {
        case ItemKind::reasoning: {
            Json j{{"type", "reasoning"}, {"id", item.id}, {"summary", Json::array()}};
            j["content"] = done ? Json::array({{{"type", "reasoning_text"}, {"text", item.text}}})
                                : Json::array();
            if (done && include_reasoning)
                j["encrypted_content"] = encode_reasoning(item.text, item.tokens);
            j["status"] = status;
            return j;
        }
        case ItemKind::message: {
            Json content = Json::array();
            if (done)
                content.push_back({{"type", "output_text"},
                                   {"text", item.text},
                                   {"annotations", Json::array()},
                                   {"logprobs", Json::array()}});
            return {{"type", "message"},
                    {"id", item.id},
                    {"status", status},
                    {"role", "assistant"},
                    {"content", content}};
        }
        case ItemKind::function_call: {
            Json j{{"type", "function_call"},
                   {"id", item.id},
                   {"call_id", item.call_id},
                   {"name", item.name},
                   {"arguments", done ? item.text : ""},
                   {"status", status}};
            if (item.ns != "functions") j["namespace"] = item.ns;
            return j;
        }
        case ItemKind::code_interpreter_call: {
            Json j{{"type", "code_interpreter_call"},
                   {"id", item.id},
                   {"status", done ? (item.ok ? "completed" : "failed") : "in_progress"},
                   {"code", item.text},
                   {"container_id", "gossamer-sandbox"}};
            j["outputs"] =
                done ? Json::array({{{"type", "logs"}, {"logs", item.result}}}) : Json::array();
            return j;
        }
        case ItemKind::web_search_call: {
            Json action{{"type", "search"}};
            const Json args = Json::parse(item.text, nullptr, false);
            if (args.is_object() && args.contains("query")) action["query"] = args["query"];
            if (args.is_object() && args.contains("url"))
                action = {{"type", "open_page"}, {"url", args["url"]}};
            return {{"type", "web_search_call"},
                    {"id", item.id},
                    {"status", done ? "completed" : "in_progress"},
                    {"action", action}};
        }
    }
    return {};
}

// Maps a TurnRunner's items to the Responses object and, when streaming, its events.
class ResponsesWriter final : public TurnObserver {
  public:
    ResponsesWriter(Server& server, std::shared_ptr<Reply> reply, TurnInput input, std::string id,
                    CallNames known_calls, std::string chain)
        : chain_(std::move(chain)),
          server_(server),
          reply_(std::move(reply)),
          input_(std::move(input)),
          id_(std::move(id)),
          calls_(std::move(known_calls)),
          created_(unix_now()) {}

    std::shared_ptr<TurnRunner> runner;

    void begin() {
        if (!input_.stream) return;
        reply_->start_events();
        Json r = response("in_progress", Json::array(), nullptr);
        send("response.created", {{"response", r}});
        send("response.in_progress", {{"response", r}});
    }

    void item_started(std::size_t index, const OutputItem& item) override {
        if (!input_.stream) return;
        send("response.output_item.added",
             {{"output_index", index}, {"item", item_json(item, false, false)}});
        if (item.kind == ItemKind::message || item.kind == ItemKind::reasoning)
            send("response.content_part.added", {{"item_id", item.id},
                                                 {"output_index", index},
                                                 {"content_index", 0},
                                                 {"part", part(item, "")}});
    }

    void item_delta(std::size_t index, const OutputItem& item, const std::string& delta) override {
        if (!input_.stream) return;
        Json e{{"item_id", item.id}, {"output_index", index}};
        switch (item.kind) {
            case ItemKind::message:
                e["content_index"] = 0, e["delta"] = delta, e["logprobs"] = Json::array();
                return send("response.output_text.delta", std::move(e));
            case ItemKind::reasoning:
                e["content_index"] = 0, e["delta"] = delta;
                return send("response.reasoning_text.delta", std::move(e));
            case ItemKind::function_call:
                e["delta"] = delta;
                return send("response.function_call_arguments.delta", std::move(e));
            case ItemKind::code_interpreter_call:
                e["delta"] = delta;
                return send("response.code_interpreter_call_code.delta", std::move(e));
            case ItemKind::web_search_call:
                return;
        }
    }

    void item_done(std::size_t index, const OutputItem& item) override {
        if (!input_.stream) return;
        // {"item_id", "output_index", ...rest} (and "content_index": 0 for the content part)
        auto at = [&](Json rest, bool content = false) {
            Json e{{"item_id", item.id}, {"output_index", index}};
            if (content) e["content_index"] = 0;
            e.update(rest);
            return e;
        };
        switch (item.kind) {
            case ItemKind::message:
                send("response.output_text.done",
                     at({{"text", item.text}, {"logprobs", Json::array()}}, true));
                send("response.content_part.done", at({{"part", part(item, item.text)}}, true));
                break;
            case ItemKind::reasoning:
                send("response.reasoning_text.done", at({{"text", item.text}}, true));
                send("response.content_part.done", at({{"part", part(item, item.text)}}, true));
                break;
            case ItemKind::function_call:
                send("response.function_call_arguments.done",
                     at({{"name", item.name}, {"arguments", item.text}}));
                break;
            case ItemKind::code_interpreter_call:
                send("response.code_interpreter_call_code.done", at({{"code", item.text}}));
                send("response.code_interpreter_call.completed", at(Json::object()));
                break;
            case ItemKind::web_search_call:
                send("response.web_search_call.completed", at(Json::object()));
                break;
        }
        send("response.output_item.done",
             {{"output_index", index}, {"item", item_json(item, true, input_.include_reasoning)}});
    }

    void finished(const TurnResult& result) override {
        server_.finished_turn(result);  // metrics, and the admission slot back
        if (result.end == TurnEnd::cancelled) {
            server_.metrics_.count("/v1/responses", 499);
            return server_.forget(this);
        }
        Json output = Json::array();
        for (const auto& item : result.items)
            output.push_back(item_json(item, true, input_.include_reasoning));
        const char* status = result.end == TurnEnd::completed           ? "completed"
                             : result.end == TurnEnd::incomplete_length ? "incomplete"
                                                                        : "failed";
        Json usage{{"input_tokens", result.usage.input_tokens},
                   {"input_tokens_details", {{"cached_tokens", result.usage.cached_tokens}}},
                   {"output_tokens", result.usage.output_tokens},
                   {"output_tokens_details", {{"reasoning_tokens", result.usage.reasoning_tokens}}},
                   {"total_tokens", result.usage.input_tokens + result.usage.output_tokens}};
        Json r = response(status, output, usage);
        if (result.end == TurnEnd::incomplete_length)
            r["incomplete_details"] = {{"reason", "max_output_tokens"}};
        if (result.end == TurnEnd::failed)
            r["error"] = {{"code", result.error_code}, {"message", result.error}};
        if (input_.store && server_.responses_ && result.end != TurnEnd::failed) {
            StoredResponse stored{id_, r, result.conversation, calls_, chain_};
            for (const auto& item : result.items)
                if (item.kind == ItemKind::function_call)
                    stored.calls.emplace_back(item.call_id, item.ns + "." + item.name);
            try {
                server_.responses_->put(stored);
            } catch (const std::exception& e) {
                r["status"] = "failed";
                r["error"] = {
                    {"code", "server_error"},
                    {"message", std::string("the response could not be stored: ") + e.what()}};
            }
        }
        if (input_.stream) {
            const char* event = r["status"] == "completed"    ? "response.completed"
                                : r["status"] == "incomplete" ? "response.incomplete"
                                                              : "response.failed";
            send(event, {{"response", r}});
            server_.metrics_.count("/v1/responses", 200);
            reply_->end_events();
        } else if (r["status"] == "failed" && result.items.empty()) {
            server_.answer_error(
                *reply_, "/v1/responses",
                ApiError(
                    result.error_status, result.error,
                    result.error_status == 400 ? std::optional<std::string>("input") : std::nullopt,
                    result.error_code,
                    result.error_status == 400 ? "invalid_request_error" : "server_error"));
        } else {
            server_.answer_json(*reply_, "/v1/responses", 200, r);
        }
        server_.forget(this);
    }

  private:
    std::string chain_;

    Json part(const OutputItem& item, const std::string& text) const {
        if (item.kind == ItemKind::reasoning) return {{"type", "reasoning_text"}, {"text", text}};
        return {{"type", "output_text"},
                {"text", text},
                {"annotations", Json::array()},
                {"logprobs", Json::array()}};
    }

    void send(const char* type, Json e) {
        Json out{{"type", type}, {"sequence_number", sequence_++}};
        for (auto& [k, v] : e.items()) out[k] = std::move(v);
        reply_->event(type, out.dump(-1, ' ', false, Json::error_handler_t::replace));
    }

    Json response(const char* status, Json output, Json usage) const {
        Json tools = Json::array();
        for (const auto& t : input_.tools) {
            Json f{{"type", "function"},
                   {"name", t.name},
                   {"description", t.description},
                   {"parameters", t.parameters ? *t.parameters : Json()},
                   {"strict", t.strict}};
            tools.push_back(std::move(f));
        }
        if (input_.code_interpreter)
            tools.push_back({{"type", "code_interpreter"}, {"container", {{"type", "auto"}}}});
        if (input_.web_search) tools.push_back({{"type", "web_search"}});
        Json text_format = {{"type", "text"}};
        if (input_.output_schema)
            text_format = {{"type", "json_schema"},
                           {"name", input_.output_schema_name},
                           {"schema", *input_.output_schema},
                           {"strict", false}};
        return {
            {"id", id_},
            {"object", "response"},
            {"created_at", created_},
            {"status", status},
            {"error", nullptr},
            {"incomplete_details", nullptr},
            {"instructions", input_.instructions ? Json(*input_.instructions) : Json()},
            {"max_output_tokens",
             input_.max_output_tokens > 0 ? Json(input_.max_output_tokens) : Json()},
            {"model", server_.options_.model_name},
            {"output", std::move(output)},
            {"parallel_tool_calls", input_.parallel_tool_calls},
            {"previous_response_id",
             input_.previous_response_id ? Json(*input_.previous_response_id) : Json()},
            {"reasoning",
             {{"effort", std::string(harmony::to_string(input_.effort))}, {"summary", nullptr}}},
            {"store", input_.store},
            {"temperature", input_.sampling.temperature},
            {"text", {{"format", text_format}}},
            {"tool_choice", input_.tool_choice == ToolChoice::none       ? Json("none")
                            : input_.tool_choice == ToolChoice::required ? Json("required")
                            : input_.tool_choice == ToolChoice::named
                                ? Json{{"type", "function"}, {"name", input_.tool_choice_name}}
                                : Json("auto")},
            {"tools", std::move(tools)},
            {"top_p", input_.sampling.top_p},
            {"usage", std::move(usage)},
            {"metadata", input_.metadata}};
    }

    Server& server_;
    std::shared_ptr<Reply> reply_;
    TurnInput input_;
    std::string id_;
    CallNames calls_;
    std::int64_t created_;
    std::uint64_t sequence_ = 0;
};

// Resolves function_call_output items whose call is in the stored chain.
void resolve_calls(TurnInput& in, const CallNames& calls) {
    for (auto& m : in.messages) {
        if (m.role != harmony::Role::tool || !m.name || !m.name->starts_with(kUnresolvedCall))
            continue;
        const std::string call_id = m.name->substr(kUnresolvedCall.size());
        if (const std::string* name = find_call(calls, call_id)) {
            m.name = *name;
            continue;
        }
        throw bad_param("input", "no function_call with call_id '" + call_id +
                                     "' in this request or the previous response");
    }
}

}  // namespace

void Server::responses(const HttpRequest& request, std::shared_ptr<Reply> reply) {
    TurnInput input = parse_responses_request(parse_body(request.body));
    check_model(input.model);
    if (input.model.empty()) input.model = options_.model_name;
    if (input.code_interpreter && !(builtin_ && builtin_->route("python")))
        throw ApiError(400,
                       "code_interpreter is not available on this server (start it without "
                       "--spec, or with a --spec that lists the python tool)",
                       "tools", "unsupported_tool");
    // Codex sends web_search with every request: without a browser it is left out (the
    // model is not offered it), not an error.
    if (input.web_search && !(builtin_ && builtin_->route("browser.search")))
        input.web_search = false;
    std::vector<Segment> history;
    CallNames calls = input.call_names;
    std::string chain = random_id("chain_", 32);
    if (input.previous_response_id) {
        if (!responses_)
            throw ApiError(400, "previous_response_id needs a server with a --store",
                           "previous_response_id");
        auto previous = responses_->get(*input.previous_response_id);
        if (!previous)
            throw ApiError(404, "no stored response '" + *input.previous_response_id + "'",
                           "previous_response_id", "previous_response_not_found");
        history = std::move(previous->conversation);
        calls.insert(calls.end(), previous->calls.begin(), previous->calls.end());
        resolve_calls(input, calls);
        if (!previous->chain.empty()) chain = previous->chain;
    }
    if (!admit(*reply, "/v1/responses")) return;
    auto writer = std::make_shared<ResponsesWriter>(*this, reply, input, random_id("resp_", 32),
                                                    calls, chain);
    start_turn(writer, *reply, chain, std::move(input), std::move(history));
}

}  // namespace gossamer::server
