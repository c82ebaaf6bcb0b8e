#include "runtime/protocol.h"

namespace gossamer::runtime {

namespace {

using Json = EventJson;

Json optional_text(const std::optional<std::string>& s) {
    return s ? Json(*s) : Json();
}

std::optional<std::string> text_or_null(const Json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    return it->get<std::string>();
}

void put_header(Json& j, const MessageHeader& h) {
    j["role"] = h.role;
    j["channel"] = optional_text(h.channel);
    j["recipient"] = optional_text(h.recipient);
}

MessageHeader get_header(const Json& j) {
    return {j.at("role").get<std::string>(), text_or_null(j, "channel"),
            text_or_null(j, "recipient")};
}

// One row per kind: its wire name, how it is written, how it is read back.
struct Codec {
    static constexpr std::string_view name(const SessionStarted&) { return "session.started"; }
    static Json write(const SessionStarted& e) {
        return {{"messages", e.messages}, {"turns", e.turns}};
    }
    static SessionStarted read(const Json& j, SessionStarted) {
        return {j.at("messages").get<std::size_t>(), j.at("turns").get<int>()};
    }

    static constexpr std::string_view name(const MessageStarted&) { return "message.started"; }
    static Json write(const MessageStarted& e) {
        Json j;
        put_header(j, e.header);
        return j;
    }
    static MessageStarted read(const Json& j, MessageStarted) { return {get_header(j)}; }

    static constexpr std::string_view name(const MessageDelta&) { return "message.delta"; }
    static Json write(const MessageDelta& e) { return {{"text", e.text}}; }
    static MessageDelta read(const Json& j, MessageDelta) {
        return {j.at("text").get<std::string>()};
    }

    static constexpr std::string_view name(const MessageDone&) { return "message.done"; }
    static Json write(const MessageDone& e) {
        Json j;
        put_header(j, e.header);
        j["content_type"] = optional_text(e.content_type);
        j["text"] = e.text;
        return j;
    }
    static MessageDone read(const Json& j, MessageDone) {
        return {get_header(j), text_or_null(j, "content_type"), j.at("text").get<std::string>()};
    }

    static constexpr std::string_view name(const GenerationDone&) { return "generation"; }
    static Json write(const GenerationDone& e) {
        Json j{{"turn", e.turn},
               {"prompt_tokens", e.prompt_tokens},
               {"output_tokens", e.output_tokens},
               {"finish_reason", e.finish_reason},
               {"parse_errors", e.parse_errors},
               {"ms", e.ms},
               {"cached_tokens", e.cached_tokens},
               {"first_message", e.first_message},
               {"messages", e.messages},
               {"window", e.window},
               {"reasoning_tokens", e.reasoning_tokens}};
        if (!e.endpoint.empty()) j["endpoint"] = e.endpoint, j["retries"] = e.retries;
        if (e.restored_tokens > 0) j["restored_tokens"] = e.restored_tokens;
        if (e.kv_bytes_written > 0) j["kv_bytes_written"] = e.kv_bytes_written;
        if (e.drafted_tokens > 0)
            j["drafted_tokens"] = e.drafted_tokens, j["accepted_tokens"] = e.accepted_tokens;
        return j;
    }
    static GenerationDone read(const Json& j, GenerationDone) {
        return {j.value("turn", 0),
                j.value("prompt_tokens", 0),
                j.value("output_tokens", 0),
                j.value("finish_reason", ""),
                j.value("parse_errors", std::size_t{0}),
                j.value("ms", 0.0),
                j.value("endpoint", ""),
                j.value("retries", 0),
                j.value("cached_tokens", 0),
                j.value("first_message", std::size_t{0}),
                j.value("messages", std::size_t{0}),
                j.value("window", 0),
                j.value("reasoning_tokens", 0),
                j.value("restored_tokens", 0),
                j.value("kv_bytes_written", std::uint64_t{0}),
                j.value("drafted_tokens", 0),
                j.value("accepted_tokens", 0)};
    }

    static constexpr std::string_view name(const UsageUpdate&) { return "usage"; }
    static Json write(const UsageUpdate& e) {
        return {{"turns", e.turns}, {"output_tokens", e.output_tokens}};
    }
    static UsageUpdate read(const Json& j, UsageUpdate) {
        return {j.at("turns").get<int>(), j.at("output_tokens").get<int>()};
    }

    static constexpr std::string_view name(const ToolStarted&) { return "tool.started"; }
    static Json write(const ToolStarted& e) {
        return {{"message", e.message}, {"recipient", e.recipient}, {"arguments", e.arguments}};
    }
    static ToolStarted read(const Json& j, ToolStarted) {
        return {j.at("message").get<std::size_t>(), j.at("recipient").get<std::string>(),
                j.value("arguments", "")};
    }

    static constexpr std::string_view name(const ToolFinished&) { return "tool.finished"; }
    static Json write(const ToolFinished& e) {
        Json j{{"message", e.message},
               {"recipient", e.recipient},
               {"ok", e.ok},
               {"ms", e.ms},
               {"result", e.result}};
        if (!e.network.empty()) j["network"] = e.network;
        return j;
    }
    static ToolFinished read(const Json& j, ToolFinished) {
        return {j.at("message").get<std::size_t>(),
                j.at("recipient").get<std::string>(),
                j.at("ok").get<bool>(),
                j.value("ms", 0.0),
                j.value("result", ""),
                j.value("network", std::vector<std::string>{})};
    }

    static constexpr std::string_view name(const ToolInterrupted&) { return "tool.interrupted"; }
    static Json write(const ToolInterrupted& e) {
        return {{"message", e.message}, {"recipient", e.recipient}, {"by", e.by}};
    }
    static ToolInterrupted read(const Json& j, ToolInterrupted) {
        return {j.at("message").get<std::size_t>(), j.at("recipient").get<std::string>(),
                j.value("by", "user")};
    }

    static constexpr std::string_view name(const ContextTrimmed&) { return "context.trimmed"; }
    static Json write(const ContextTrimmed& e) { return {{"what", e.what}}; }
    static ContextTrimmed read(const Json& j, ContextTrimmed) {
        return {j.at("what").get<std::vector<std::string>>()};
    }

    static constexpr std::string_view name(const ContextCompacted&) { return "context.compacted"; }
    static Json write(const ContextCompacted& e) {
        return {{"messages", e.messages},           {"keep_from", e.keep_from},
                {"tokens_before", e.tokens_before}, {"tokens_after", e.tokens_after},
                {"output_tokens", e.output_tokens}, {"summary", e.summary}};
    }
    static ContextCompacted read(const Json& j, ContextCompacted) {
        return {j.at("messages").get<std::size_t>(), j.at("keep_from").get<std::size_t>(),
                j.value("tokens_before", 0),         j.value("tokens_after", 0),
                j.value("output_tokens", 0),         j.at("summary").get<std::string>()};
    }

    static constexpr std::string_view name(const Warning&) { return "warning"; }
    static Json write(const Warning& e) {
        Json j{{"what", e.what}};
        if (e.recipient) j["recipient"] = *e.recipient;
        return j;
    }
    static Warning read(const Json& j, Warning) {
        return {j.at("what").get<std::string>(), text_or_null(j, "recipient")};
    }

    static constexpr std::string_view name(const HookDecided&) { return "hook"; }
    static Json write(const HookDecided& e) {
        Json j{{"hook", e.hook}, {"command", e.command}};
        j["message"] = e.message ? Json(*e.message) : Json();
        j["recipient"] = optional_text(e.recipient);
        j["decision"] = e.decision;
        j["reason"] = e.reason;
        j["ms"] = e.ms;
        return j;
    }
    static HookDecided read(const Json& j, HookDecided) {
        HookDecided e;
        e.hook = j.at("hook").get<std::string>();
        e.command = j.value("command", "");
        if (j.contains("message") && !j["message"].is_null())
            e.message = j["message"].get<std::size_t>();
        e.recipient = text_or_null(j, "recipient");
        e.decision = j.at("decision").get<std::string>();
        e.reason = j.value("reason", "");
        e.ms = j.value("ms", 0.0);
        return e;
    }

    static constexpr std::string_view name(const WorkspaceChanged&) { return "workspace.changed"; }
    static Json write(const WorkspaceChanged& e) {
        Json j{{"step", e.step}};
        j["message"] = e.message ? Json(*e.message) : Json();
        j["kind"] = e.kind;
        j["files"] = e.files;
        return j;
    }
    static WorkspaceChanged read(const Json& j, WorkspaceChanged) {
        WorkspaceChanged e;
        e.step = j.at("step").get<int>();
        if (j.contains("message") && !j["message"].is_null())
            e.message = j["message"].get<std::size_t>();
        e.kind = j.value("kind", "tool");
        e.files = j.value("files", std::vector<std::string>{});
        return e;
    }

    static constexpr std::string_view name(const SessionFinished&) { return "session.finished"; }
    static Json write(const SessionFinished& e) {
        Json j{{"reason", e.reason}, {"turns", e.turns}, {"output_tokens", e.output_tokens}};
        if (e.final_answer) j["final"] = *e.final_answer;
        if (e.annotations.is_array() && !e.annotations.empty()) j["annotations"] = e.annotations;
        if (e.error) j["error"] = *e.error;
        return j;
    }
    static SessionFinished read(const Json& j, SessionFinished) {
        return {j.at("reason").get<std::string>(), j.value("turns", 0),
                j.value("output_tokens", 0),       text_or_null(j, "final"),
                j.value("annotations", Json()),    text_or_null(j, "error")};
    }
};

template <std::size_t I = 0>
std::optional<EventBody> read_kind(std::string_view kind, const Json& data) {
    if constexpr (I == std::variant_size_v<EventBody>) {
        return std::nullopt;
    } else {
        using T = std::variant_alternative_t<I, EventBody>;
        if (Codec::name(T{}) == kind) return EventBody{Codec::read(data, T{})};
        return read_kind<I + 1>(kind, data);
    }
}

}  // namespace

std::string_view kind_of(const EventBody& body) {
    return std::visit([](const auto& e) { return Codec::name(e); }, body);
}

EventJson fields_of(const EventBody& body) {
    return std::visit([](const auto& e) { return Codec::write(e); }, body);
}

std::optional<EventBody> from_stored(std::string_view kind, const EventJson& data) {
    if (!data.is_object()) return std::nullopt;
    try {
        return read_kind(kind, data);
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;  // a row of the wrong shape: skipped like an unknown kind
    }
}

EventJson Event::to_json() const {
    EventJson out;
    out["event"] = std::string(kind());
    out["session"] = session;
    const EventJson fields = data();
    for (const auto& [key, value] : fields.items()) out[key] = value;
    return out;
}

}  // namespace gossamer::runtime
