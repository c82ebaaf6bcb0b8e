#include "runtime/engine_wire.h"

#include <nlohmann/json.hpp>

#include "runtime/model_client.h"

namespace gossamer::runtime {

using Json = nlohmann::json;

std::optional<EngineApi> parse_engine_api(std::string_view name) {
    if (name == "gossamer") return EngineApi::gossamer;
    if (name == "vllm") return EngineApi::vllm;
    if (name == "sglang") return EngineApi::sglang;
    return std::nullopt;
}

std::string_view to_string(EngineApi api) {
    switch (api) {
        case EngineApi::gossamer:
            return "gossamer";
        case EngineApi::vllm:
            return "vllm";
        case EngineApi::sglang:
            return "sglang";
    }
    return "gossamer";
}

std::string endpoint_url_problem(std::string_view url) {
    std::string_view rest;
    if (url.rfind("http://", 0) == 0)
        rest = url.substr(7);
    else if (url.rfind("https://", 0) == 0)
        rest = url.substr(8);
    else
        return "must be an http:// or https:// URL";
    if (url.find_first_of(" \t\r\n,") != std::string_view::npos)
        return "must not contain white space or commas";
    const auto authority = rest.substr(0, rest.find('/'));
    if (authority.empty()) return "has no host";
    if (authority.find('@') != std::string_view::npos)
        return "must not hold a user or password (put the key in the variable model.api_key_env "
               "names)";
    return {};
}

WireShape first_shape(EngineApi api) {
    return api == EngineApi::sglang ? WireShape::sglang : WireShape::generate;
}

std::string_view path_of(WireShape shape) {
    switch (shape) {
        case WireShape::generate:
            return "/inference/v1/generate";
        case WireShape::completions:
            return "/v1/completions";
        case WireShape::sglang:
            return "/generate";
    }
    return "/inference/v1/generate";
}

std::string encode_request(WireShape shape, const ModelRequest& request, const std::string& model,
                           bool stream) {
    const auto& s = request.sampling;
    Json params{{"temperature", s.temperature},
                {"top_p", s.top_p},
                {"stop_token_ids", request.stop},
                {"skip_special_tokens", false}};
    if (s.top_k > 0) params["top_k"] = s.top_k;
    Json body = Json::object();
    if (!model.empty()) body["model"] = model;
    switch (shape) {
        case WireShape::generate:
            params["max_tokens"] = request.max_tokens;
            params["seed"] = s.seed;
            body["token_ids"] = request.prompt;
            body["sampling_params"] = std::move(params);
            break;
        case WireShape::completions:
            body["prompt"] = request.prompt;
            body.update(params);
            body["max_tokens"] = request.max_tokens;
            body["seed"] = s.seed;
            body["return_token_ids"] = true;
            break;
        case WireShape::sglang:
            params["max_new_tokens"] = request.max_tokens;
            params["sampling_seed"] = s.seed;
            params["no_stop_trim"] = true;
            body["input_ids"] = request.prompt;
            body["sampling_params"] = std::move(params);
            break;
    }
    body["stream"] = stream;
    return body.dump();
}

namespace {

engine::FinishReason finish_of(std::string_view name) {
    if (name == "stop") return engine::FinishReason::Stop;
    if (name == "length") return engine::FinishReason::Length;
    return engine::FinishReason::Error;  // "abort", "error" and anything unknown
}

std::vector<std::int32_t> ids_of(const Json& list, const char* what) {
    if (!list.is_array()) throw WireError(std::string(what) + " is not a list");
    std::vector<std::int32_t> ids;
    ids.reserve(list.size());
    for (const auto& v : list) {
        if (!v.is_number_integer() || v.get<std::int64_t>() < 0 ||
            v.get<std::int64_t>() > INT32_MAX)
            throw WireError(std::string(what) + " holds something that is not a token id");
        ids.push_back(static_cast<std::int32_t>(v.get<std::int64_t>()));
    }
    return ids;
}

// {"error": "..."} / {"error": {"message": "..."}} / {"object": "error", "message": "..."}.
std::optional<std::string> error_of(const Json& j) {
    if (auto e = j.find("error"); e != j.end() && !e->is_null()) {
        if (e->is_string()) return e->get<std::string>();
        if (e->is_object() && e->contains("message") && (*e)["message"].is_string())
            return (*e)["message"].get<std::string>();
        return e->dump();
    }
    if (j.value("object", Json()) == "error")
        return j.contains("message") && j["message"].is_string() ? j["message"].get<std::string>()
                                                                 : j.dump();
    return std::nullopt;
}

int cached_of(const Json& usage) {
    if (!usage.is_object()) return -1;
    auto d = usage.find("prompt_tokens_details");
    if (d == usage.end() || !d->is_object()) return -1;
    auto c = d->find("cached_tokens");
    return c != d->end() && c->is_number_integer() ? c->get<int>() : -1;
}

}  // namespace

std::optional<WireChunk> WireDecoder::frame(std::string_view text) {
    Json j = Json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw WireError("the engine sent something that is not a JSON object: " +
                        std::string(text.substr(0, 120)));
    WireChunk c;
    if (auto e = error_of(j)) {
        c.finish = engine::FinishReason::Error;
        c.error = "the engine reported an error: " + *e;
        return c;
    }
    if (shape_ == WireShape::sglang) {
        auto ids = j.find("output_ids");
        auto meta = j.find("meta_info");
        if (ids == j.end() || meta == j.end() || !meta->is_object())
            throw WireError("an SGLang answer without output_ids and meta_info");
        auto got = ids_of(*ids, "output_ids");
        // The stream is cumulative by default (each frame repeats the earlier ids) and
        // incremental with --stream-output; completion_tokens (a running count) tells which.
        std::size_t skip = 0;
        const auto count = meta->find("completion_tokens");
        const bool counted = count != meta->end() && count->is_number_integer();
        const std::size_t total = counted ? count->get<std::size_t>() : got.size();
        if (stream_ && !(counted && total == delivered_ + got.size() && total != got.size())) {
            if (got.size() < delivered_)
                throw WireError("an SGLang frame holds fewer ids than the frames before it");
            skip = delivered_;
        }
        c.tokens.assign(got.begin() + static_cast<std::ptrdiff_t>(skip), got.end());
        delivered_ += c.tokens.size();
        if (auto ct = meta->find("cached_tokens"); ct != meta->end() && ct->is_number_integer())
            c.cached_tokens = ct->get<int>();
        if (auto f = meta->find("finish_reason"); f != meta->end() && !f->is_null()) {
            if (!f->is_object() || !f->contains("type") || !(*f)["type"].is_string())
                throw WireError("an SGLang finish_reason without a type");
            const std::string type = (*f)["type"];
            c.finish = finish_of(type);
            if (auto m = f->find("matched"); m != f->end() && m->is_number_integer())
                c.matched_stop = m->get<std::int32_t>();
            if (*c.finish == engine::FinishReason::Error)
                c.error = "the engine ended the generation: " + type +
                          (f->contains("message") ? " (" + (*f)["message"].dump() + ")" : "");
        }
        return c;
    }
    auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array()) throw WireError("an answer without choices");
    c.cached_tokens = cached_of(j.value("usage", Json()));
    if (choices->empty()) return c;  // e.g. a usage-only frame
    const Json& choice = (*choices)[0];
    if (!choice.is_object()) throw WireError("a choice that is not an object");
    auto ids = choice.find("token_ids");
    if (ids == choice.end() || ids->is_null())
        throw WireError(shape_ == WireShape::completions
                            ? "the answer has no token_ids: this vLLM does not return token ids "
                              "(it needs return_token_ids, vLLM 0.10.2 or later)"
                            : "a choice without token_ids");
    c.tokens = ids_of(*ids, "token_ids");
    if (auto f = choice.find("finish_reason"); f != choice.end() && !f->is_null()) {
        if (!f->is_string()) throw WireError("a finish_reason that is not a string");
        c.finish = finish_of(f->get<std::string>());
        if (*c.finish == engine::FinishReason::Error)
            c.error = "the engine ended the generation: " + f->get<std::string>();
    }
    if (auto s = choice.find("stop_reason"); s != choice.end() && s->is_number_integer())
        c.matched_stop = s->get<std::int32_t>();
    return c;
}

void WireDecoder::event(std::string_view data, std::vector<WireChunk>& out) {
    // Frames after the last one (e.g. vLLM's usage frame) and after [DONE] carry nothing we need.
    if (finished_ || done_marker_) return;
    if (data == "[DONE]") {
        done_marker_ = true;
        return;
    }
    auto c = frame(data);
    if (!c) return;
    if (c->finish) finished_ = true;
    out.push_back(std::move(*c));
}

std::vector<WireChunk> WireDecoder::feed(std::string_view bytes) {
    std::vector<WireChunk> out;
    buffer_.append(bytes);
    if (!stream_) {
        if (buffer_.size() > (64u << 20)) throw WireError("the answer is larger than 64 MiB");
        return out;
    }
    // Server-sent events: blocks separated by a blank line; `data:` lines joined by "\n".
    for (;;) {
        std::size_t end = std::string::npos, skip = 0;
        for (std::size_t i = 0; i + 1 < buffer_.size(); ++i) {
            if (buffer_[i] != '\n') continue;
            if (buffer_[i + 1] == '\n') {
                end = i, skip = 2;
                break;
            }
            if (buffer_[i + 1] == '\r' && i + 2 < buffer_.size() && buffer_[i + 2] == '\n') {
                end = i, skip = 3;
                break;
            }
        }
        if (end == std::string::npos) {
            if (buffer_.size() > (16u << 20)) throw WireError("an event larger than 16 MiB");
            return out;
        }
        std::string block = buffer_.substr(0, end);
        buffer_.erase(0, end + skip);
        std::string data;
        bool has_data = false;
        std::size_t pos = 0;
        while (pos <= block.size()) {
            std::size_t nl = block.find('\n', pos);
            if (nl == std::string::npos) nl = block.size();
            std::string_view line(block.data() + pos, nl - pos);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.rfind("data:", 0) == 0) {
                line.remove_prefix(5);
                if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
                if (has_data) data += '\n';
                data.append(line);
                has_data = true;
            }
            pos = nl + 1;
        }
        if (has_data) event(data, out);
    }
}

std::vector<WireChunk> WireDecoder::end() {
    std::vector<WireChunk> out;
    if (!stream_) {
        auto c = frame(buffer_);
        buffer_.clear();
        if (c) {
            if (c->finish) finished_ = true;
            out.push_back(std::move(*c));
        }
    } else if (!buffer_.empty()) {
        out = feed("\n\n");  // a last event without its blank line
    }
    if (!finished_) throw WireError("the answer ended before the engine said the generation ended");
    return out;
}

}  // namespace gossamer::runtime
