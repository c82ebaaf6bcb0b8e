// The harmony message data model (openai/harmony chat.rs): messages, system and developer
// content, tool namespaces; and its JSON form (harmony's serde form, used by the CLI).
// Data only: rendering is renderer.h, parsing model output is stream_parser.h.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gossamer::harmony {

using Json = nlohmann::ordered_json;  // ordered: JSON Schema property order is rendered as given

enum class Role { user, assistant, system, developer, tool };
std::string_view to_string(Role role);
std::optional<Role> role_from_string(std::string_view text);

enum class ReasoningEffort { low, medium, high };
std::string_view to_string(ReasoningEffort effort);  // "low" | "medium" | "high"
// "low" | "medium" | "high", or harmony's serde spelling "Low" | "Medium" | "High".
std::optional<ReasoningEffort> reasoning_effort_from_string(std::string_view text);

struct ToolDescription {
    std::string name;
    std::string description;
    std::optional<Json> parameters;  // JSON Schema; absent and null both render `() => any`
};

struct ToolNamespace {
    std::string name;
    std::optional<std::string> description;
    std::vector<ToolDescription> tools;  // in insertion order
};

// Namespaces keyed by name: rendered sorted by name, as harmony's BTreeMap does.
using ToolNamespaces = std::map<std::string, ToolNamespace>;
// Adds a namespace under its name, replacing one of the same name (harmony's with_tools).
void add_tool_namespace(std::optional<ToolNamespaces>& tools, ToolNamespace ns);

struct ChannelConfig {
    std::vector<std::string> valid_channels{"analysis", "commentary", "final"};
    bool channel_required = true;
};

// Defaults are harmony's SystemContent::new().
struct SystemContent {
    std::optional<std::string> model_identity =
        "You are ChatGPT, a large language model trained by OpenAI.";
    std::optional<ReasoningEffort> reasoning_effort = ReasoningEffort::medium;
    std::optional<ToolNamespaces> tools;
    std::optional<std::string> conversation_start_date;
    std::optional<std::string> knowledge_cutoff = "2024-06";
    std::optional<ChannelConfig> channel_config = ChannelConfig{};
};

struct DeveloperContent {
    std::optional<std::string> instructions;
    std::optional<ToolNamespaces> tools;
};

struct TextContent {
    std::string text;
};

using Content = std::variant<TextContent, SystemContent, DeveloperContent>;

struct Message {
    Role role = Role::user;
    std::optional<std::string> name;       // author name; required for role tool
    std::optional<std::string> recipient;  // "functions.x", "browser.search", "python", "assistant"
    std::optional<std::string> channel;    // "analysis" | "commentary" | "final" | ...
    std::optional<std::string> content_type;  // "<|constrain|>json", "json", "code"
    std::vector<Content> content;

    static Message text(Role role, std::string text) {
        Message m;
        m.role = role;
        m.content.push_back(TextContent{std::move(text)});
        return m;
    }
    // Concatenated text parts (system/developer parts are skipped).
    std::string text_content() const;
};

// A recipient that names a tool: not "assistant" or "all" (those address the conversation).
bool is_tool_recipient(const std::optional<std::string>& recipient);
// An assistant message addressed to a tool, on any channel.
bool is_tool_call(const Message& message);

// A tool's answer to a call: from `tool` (the recipient as the model called it) to the
// assistant, on the channel of the call.
Message tool_result(std::string tool, std::string text, std::string channel);

// Thrown by from_json for input that does not fit the data model; says which field and why.
struct MessageFormatError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Checks what harmony refuses to render: a tool message without a name, system content in a
// non-system message, developer content in a non-developer message. Throws
// MessageFormatError naming the field under `where` ("messages[3].name: ...").
void validate_message(const Message& message, std::string_view where = "message");

// harmony's serde JSON: {"role", "name"?, "recipient"?, "channel"?, "content_type"?,
// "content": string | [{"type":"text"|"system_content"|"developer_content", ...}]}.
// Strict: unknown keys, wrong types, unknown roles, a tool message without a name, and
// system/developer content in a message of another role throw MessageFormatError naming
// the field ("messages[2].content[0].reasoning_effort: ..."). An optional field that is
// null counts as absent. A system_content field that is missing takes SystemContent's
// default (as harmony's Python SystemContent does); null clears it (no identity line...).
Message message_from_json(const Json& json);
// The inverse, in serde's shape: one text part as a plain string, every SystemContent
// field written (null when absent), reasoning_effort as "Low" | "Medium" | "High".
Json message_to_json(const Message& message);
std::vector<Message> messages_from_json(const Json& array);
Json messages_to_json(const std::vector<Message>& messages);

}  // namespace gossamer::harmony
