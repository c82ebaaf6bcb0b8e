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

// Thrown by from_json for input that does not fit the data model; says which field and why.
struct MessageFormatError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// harmony's serde JSON: {"role", "name"?, "recipient"?, "channel"?, "content_type"?,
// "content": string | [{"type":"text"|"system_content"|"developer_content", ...}]}.
Message message_from_json(const Json& json);
Json message_to_json(const Message& message);
std::vector<Message> messages_from_json(const Json& array);

}  // namespace gossamer::harmony
