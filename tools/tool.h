// What every tool the agent can call implements: it describes itself as a harmony tool
// namespace (name, description, JSON Schema per function) and runs a call asynchronously,
// completing on the executor it is given. Tools know their own protocol only: they must not
// know the engine, the session store or harmony rendering.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "harmony/message.h"

namespace gossamer::tools {

struct ToolCall {
    std::string recipient;  // as the model addressed it: "python", "functions.read_file"
    std::string function;   // the part after the namespace ("read_file"; empty for "python")
    std::string arguments;  // the message content: JSON for functions, code for python
    std::string channel;    // "commentary" or "analysis"; the result goes back on it
    std::optional<std::string> content_type;  // "<|constrain|>json", "json", ...
};

struct ToolOutput {
    std::string text;       // what the model reads (already sanitised by the tool)
    bool is_error = false;  // the call failed; text says why in words the model can act on
    // A sandbox with a domain allowlist: its proxy's decisions during the call ("allowed
    // pypi.org:443 (...)", "denied ..."), recorded with the call (the tool.finished event).
    std::vector<std::string> network{};
};

struct ToolContext {
    boost::asio::any_io_executor executor;  // where `done` must be called
    std::string session_id;
    std::filesystem::path workspace;  // the session's own directory
    std::chrono::milliseconds timeout{120000};
    // W3C trace context of this call's span (runtime/gen_ai_tracer.h), "" when not traced:
    // tools pass it on to the services they call (MCP `_meta`, search APIs), not to pages.
    std::string traceparent{};
};

using ToolDone = std::function<void(ToolOutput)>;

// A final answer rewritten by a tool that owns marks in it (the browser's 【3†L1-L4】
// citations): the text for the reader and annotations such as
// {"type": "url_citation", "start_index", "end_index", "title", "url"}.
struct AnnotatedAnswer {
    std::string text;
    nlohmann::ordered_json annotations = nlohmann::ordered_json::array();
};

class Tool {
  public:
    virtual ~Tool() = default;
    // The namespace the model sees: "functions" tools go in the developer message, built-in
    // ones ("python", "browser") in the system message.
    virtual harmony::ToolNamespace describe() const = 0;
    // Runs one call; `done` is called exactly once, on context.executor, also after cancel().
    virtual void invoke(const ToolCall& call, const ToolContext& context, ToolDone done) = 0;
    // Stops every call in flight (their `done` reports the cancellation).
    virtual void cancel() {}
    // Checks once, before a session starts, that calls can run at all with this workspace
    // (e.g. the sandbox can start there); returns why not. Blocking; runs nothing lasting.
    virtual std::optional<std::string> preflight(const std::filesystem::path& /*workspace*/) {
        return std::nullopt;
    }
    // Text for the developer message's instructions that the model was trained to see with
    // this tool (apply_patch's specification); appended after the spec's instructions.
    virtual std::optional<std::string> developer_instructions() const { return std::nullopt; }
    // Safe to run again after a crash interrupted it (same arguments, same effect).
    virtual bool idempotent() const { return false; }
    // Rewrites the final answer when it holds marks this tool understands; nullopt if none.
    virtual std::optional<AnnotatedAnswer> annotate_final(std::string_view) const {
        return std::nullopt;
    }
};

}  // namespace gossamer::tools
