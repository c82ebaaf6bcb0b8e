// The runtime's protocol: every event an agent run reports is one struct, and an Event is a
// std::variant of them. Observers (the terminal view, `--json`, the HTTP server's SSE, fleet
// counters, tests) switch over the types; the JSON form (docs/CLI.md "Events") is written in
// exactly one place, `to_json`, and the stored form is read back in exactly one place,
// `from_stored`. This file only describes events: it must not do I/O or know sessions' state.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gossamer::runtime {

using EventJson = nlohmann::ordered_json;

// Who writes a message and where (harmony header fields).
struct MessageHeader {
    std::string role;
    std::optional<std::string> channel;
    std::optional<std::string> recipient;  // set only for tool calls and tool results
};

struct SessionStarted {
    std::size_t messages = 0;  // already stored
    int turns = 0;             // already done
};
struct MessageStarted {
    MessageHeader header;
};
struct MessageDelta {
    std::string text;
};
struct MessageDone {
    MessageHeader header;
    std::optional<std::string> content_type;
    std::string text;
};
struct GenerationDone {
    int turn = 0;
    int prompt_tokens = 0;
    int output_tokens = 0;
    std::string finish_reason;
    std::size_t parse_errors = 0;
    double ms = 0;          // from the request to the last token
    std::string endpoint;   // the remote endpoint that served it ("" for the local engine)
    int retries = 0;        // failed tries before it (remote engines)
    int cached_tokens = 0;  // prompt tokens the engine did not recompute
    // The messages this turn added: [first_message, first_message + messages) in the
    // conversation (viewers group a turn's messages with its numbers).
    std::size_t first_message = 0;
    std::size_t messages = 0;
    int window = 0;            // context positions the model can hold (0: not known)
    int reasoning_tokens = 0;  // of output_tokens, those in analysis messages
    // Of cached_tokens, those read from the KV cache an earlier process saved, and the bytes
    // this generation appended to it (engine/kv_file.h).
    int restored_tokens = 0;
    std::uint64_t kv_bytes_written = 0;
    // Speculative decoding: draft tokens fed for verification, and of those the accepted.
    int drafted_tokens = 0;
    int accepted_tokens = 0;
};
struct UsageUpdate {
    int turns = 0;
    int output_tokens = 0;  // session totals
};
struct ToolStarted {
    std::size_t message = 0;  // index of the call in the conversation
    std::string recipient;
    std::string arguments;
};
struct ToolFinished {
    std::size_t message = 0;
    std::string recipient;
    bool ok = true;
    double ms = 0;
    std::string result;  // head and tail of the text
    // The sandbox proxy's decisions during the call (a domain allowlist); written when any.
    std::vector<std::string> network{};
};
struct ToolInterrupted {
    std::size_t message = 0;
    std::string recipient;
    std::string by = "user";
};
struct ContextTrimmed {
    std::vector<std::string> what;
};
// The context was compacted (runtime/compaction.h): the model wrote `summary`, and from now
// on sees the head, the summary and the stored messages from `keep_from` on.
struct ContextCompacted {
    std::size_t messages = 0;  // stored messages the summary covers
    std::size_t keep_from = 0;
    int tokens_before = 0;  // the prompt that passed the threshold
    int tokens_after = 0;   // the compacted view's
    int output_tokens = 0;  // the summary's generation
    std::string summary;
};
struct Warning {
    std::string what;
    std::optional<std::string> recipient;
};
// A policy hook's decision (spec `hooks:`): pre_tool / post_tool name the call, on_finish not.
struct HookDecided {
    std::string hook;  // pre_tool | post_tool | on_finish
    std::string command;
    std::optional<std::size_t> message;  // the call's index
    std::optional<std::string> recipient;
    std::string decision;  // allow | deny | rewrite | replace
    std::string reason;
    double ms = 0;
};
// Workspace files a step changed (runtime/workspace_history.h): "A path", "M path", "D path".
struct WorkspaceChanged {
    int step = 0;
    std::optional<std::size_t> message;  // the tool call's index (null: not a call)
    std::string kind;                    // baseline | tool | reconciled | revert
    std::vector<std::string> files;      // at most 50, then "... and N more"
};
struct SessionFinished {
    std::string reason;  // to_string(StopReason)
    int turns = 0;
    int output_tokens = 0;
    std::optional<std::string> final_answer;
    EventJson annotations;  // null or an array of citations
    std::optional<std::string> error;
};

using EventBody =
    std::variant<SessionStarted, MessageStarted, MessageDelta, MessageDone, GenerationDone,
                 UsageUpdate, ToolStarted, ToolFinished, ToolInterrupted, ContextTrimmed,
                 ContextCompacted, Warning, HookDecided, WorkspaceChanged, SessionFinished>;

// The wire name of each kind ("message.delta", ...).
std::string_view kind_of(const EventBody& body);

// The kind's fields as JSON, in the documented order.
EventJson fields_of(const EventBody& body);

// An event as the store keeps it (kind + fields) read back; nullopt for a kind this version
// does not know or fields of the wrong shape (old or foreign rows are skipped, not fatal).
std::optional<EventBody> from_stored(std::string_view kind, const EventJson& data);

// std::visit(Overloaded{[](const MessageDelta&) {...}, ...}, event.body)
template <typename... F>
struct Overloaded : F... {
    using F::operator()...;
};
template <typename... F>
Overloaded(F...) -> Overloaded<F...>;

struct Event {
    std::string session;
    EventBody body;

    std::string_view kind() const { return kind_of(body); }
    EventJson data() const { return fields_of(body); }
    // {"event": kind, "session": id, ...fields}: one line of `--json` output.
    EventJson to_json() const;

    template <typename T>
    const T* as() const {
        return std::get_if<T>(&body);
    }
};

}  // namespace gossamer::runtime
