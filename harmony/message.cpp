// The harmony data model's names and its JSON form (serde's, from openai/harmony chat.rs).
// Reading is strict so that a typo in a request fails loudly instead of silently changing
// the prompt; every error names the path of the offending field.
#include "harmony/message.h"

#include <initializer_list>
#include <utility>

namespace gossamer::harmony {

std::string_view to_string(Role role) {
    switch (role) {
        case Role::user:
            return "user";
        case Role::assistant:
            return "assistant";
        case Role::system:
            return "system";
        case Role::developer:
            return "developer";
        case Role::tool:
            return "tool";
    }
    return "unknown";  // unreachable: every enumerator is handled above
}

std::optional<Role> role_from_string(std::string_view text) {
    for (Role role : {Role::user, Role::assistant, Role::system, Role::developer, Role::tool})
        if (to_string(role) == text) return role;
    return std::nullopt;
}

std::string_view to_string(ReasoningEffort effort) {
    switch (effort) {
        case ReasoningEffort::low:
            return "low";
        case ReasoningEffort::medium:
            return "medium";
        case ReasoningEffort::high:
            return "high";
    }
    return "unknown";  // unreachable
}

std::optional<ReasoningEffort> reasoning_effort_from_string(std::string_view text) {
    for (auto effort : {ReasoningEffort::low, ReasoningEffort::medium, ReasoningEffort::high}) {
        std::string_view lower = to_string(effort);
        // serde spells the variants "Low" | "Medium" | "High".
        bool capitalized = text.size() == lower.size() && !text.empty() &&
                           text[0] == lower[0] - ('a' - 'A') && text.substr(1) == lower.substr(1);
        if (text == lower || capitalized) return effort;
    }
    return std::nullopt;
}

void add_tool_namespace(std::optional<ToolNamespaces>& tools, ToolNamespace ns) {
    if (!tools) tools.emplace();
    std::string key = ns.name;
    (*tools)[key] = std::move(ns);
}

bool is_tool_recipient(const std::optional<std::string>& recipient) {
    return recipient && *recipient != "assistant" && *recipient != "all";
}

bool is_tool_call(const Message& m) {
    return m.role == Role::assistant && is_tool_recipient(m.recipient);
}

Message tool_result(std::string tool, std::string text, std::string channel) {
    Message m = Message::text(Role::tool, std::move(text));
    m.name = std::move(tool);
    m.recipient = "assistant";
    m.channel = std::move(channel);
    return m;
}

std::string Message::text_content() const {
    std::string out;
    for (const auto& part : content)
        if (const auto* text = std::get_if<TextContent>(&part)) out += text->text;
    return out;
}

namespace {

// ---- reading -------------------------------------------------------------------------

[[noreturn]] void fail(const std::string& where, const std::string& what) {
    throw MessageFormatError(where + ": " + what);
}

std::string index_path(const std::string& where, std::size_t i) {
    return where + "[" + std::to_string(i) + "]";
}

std::string key_path(const std::string& where, std::string_view key) {
    return where + "." + std::string(key);
}

void require_object(const Json& json, const std::string& where) {
    if (!json.is_object())
        fail(where, std::string("expected a JSON object, got ") + json.type_name());
}

void reject_unknown_keys(const Json& object, std::initializer_list<std::string_view> known,
                         const std::string& where) {
    for (const auto& [key, value] : object.items()) {
        bool is_known = false;
        for (auto k : known) is_known = is_known || k == key;
        if (is_known) continue;
        std::string expected;
        for (auto k : known) expected += (expected.empty() ? "" : ", ") + std::string(k);
        fail(key_path(where, key), "unknown key (expected one of: " + expected + ")");
    }
}

// Present and not null.
const Json* given(const Json& object, const char* key) {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string as_string(const Json& value, const std::string& where) {
    if (!value.is_string()) fail(where, std::string("expected a string, got ") + value.type_name());
    return value.get<std::string>();
}

std::optional<std::string> optional_string(const Json& object, const char* key,
                                           const std::string& where) {
    const Json* value = given(object, key);
    if (!value) return std::nullopt;
    return as_string(*value, key_path(where, key));
}

std::string required_string(const Json& object, const char* key, const std::string& where) {
    const Json* value = given(object, key);
    if (!value) fail(key_path(where, key), "missing (a string is required)");
    return as_string(*value, key_path(where, key));
}

const Json& required_array(const Json& object, const char* key, const std::string& where) {
    const Json* value = given(object, key);
    if (!value) fail(key_path(where, key), "missing (an array is required)");
    if (!value->is_array())
        fail(key_path(where, key), std::string("expected an array, got ") + value->type_name());
    return *value;
}

ToolDescription read_tool(const Json& json, const std::string& where) {
    require_object(json, where);
    reject_unknown_keys(json, {"name", "description", "parameters"}, where);
    ToolDescription tool;
    tool.name = required_string(json, "name", where);
    tool.description = required_string(json, "description", where);
    if (const Json* parameters = given(json, "parameters")) tool.parameters = *parameters;
    return tool;
}

ToolNamespace read_namespace(const Json& json, const std::string& key, const std::string& where) {
    require_object(json, where);
    reject_unknown_keys(json, {"name", "description", "tools"}, where);
    ToolNamespace ns;
    // The map key names the namespace; an inner "name" may repeat it but not contradict it.
    ns.name = optional_string(json, "name", where).value_or(key);
    if (ns.name != key)
        fail(key_path(where, "name"), "'" + ns.name + "' differs from its key '" + key + "'");
    ns.description = optional_string(json, "description", where);
    const Json& tools = required_array(json, "tools", where);
    for (std::size_t i = 0; i < tools.size(); ++i)
        ns.tools.push_back(read_tool(tools[i], index_path(key_path(where, "tools"), i)));
    return ns;
}

ToolNamespaces read_namespaces(const Json& json, const std::string& where) {
    if (!json.is_object())
        fail(where, std::string("expected an object mapping namespace names to namespaces, got ") +
                        json.type_name());
    ToolNamespaces namespaces;
    for (const auto& [key, value] : json.items())
        namespaces[key] = read_namespace(value, key, key_path(where, key));
    return namespaces;
}

ChannelConfig read_channel_config(const Json& json, const std::string& where) {
    require_object(json, where);
    reject_unknown_keys(json, {"valid_channels", "channel_required"}, where);
    ChannelConfig config;
    config.valid_channels.clear();
    const Json& channels = required_array(json, "valid_channels", where);
    for (std::size_t i = 0; i < channels.size(); ++i)
        config.valid_channels.push_back(
            as_string(channels[i], index_path(key_path(where, "valid_channels"), i)));
    const Json* required = given(json, "channel_required");
    if (!required || !required->is_boolean())
        fail(key_path(where, "channel_required"), "expected true or false");
    config.channel_required = required->get<bool>();
    return config;
}

// Missing: keep the default already in `field`; null: absent; otherwise read it.
template <typename T, typename Read>
void read_defaulted(const Json& object, const char* key, const std::string& where,
                    std::optional<T>& field, Read read) {
    auto it = object.find(key);
    if (it == object.end()) return;
    if (it->is_null()) {
        field.reset();
        return;
    }
    field = read(*it, key_path(where, key));
}

SystemContent read_system_content(const Json& json, const std::string& where) {
    reject_unknown_keys(json,
                        {"type", "model_identity", "reasoning_effort", "tools",
                         "conversation_start_date", "knowledge_cutoff", "channel_config"},
                        where);
    SystemContent content;  // harmony's SystemContent::new() defaults
    read_defaulted(json, "model_identity", where, content.model_identity, as_string);
    read_defaulted(json, "reasoning_effort", where, content.reasoning_effort,
                   [](const Json& value, const std::string& at) {
                       auto effort = reasoning_effort_from_string(as_string(value, at));
                       if (!effort)
                           fail(at, "unknown reasoning effort " + value.dump() +
                                        " (expected \"Low\", \"Medium\" or \"High\")");
                       return *effort;
                   });
    read_defaulted(json, "tools", where, content.tools, read_namespaces);
    read_defaulted(json, "conversation_start_date", where, content.conversation_start_date,
                   as_string);
    read_defaulted(json, "knowledge_cutoff", where, content.knowledge_cutoff, as_string);
    read_defaulted(json, "channel_config", where, content.channel_config, read_channel_config);
    return content;
}

DeveloperContent read_developer_content(const Json& json, const std::string& where) {
    reject_unknown_keys(json, {"type", "instructions", "tools"}, where);
    DeveloperContent content;
    content.instructions = optional_string(json, "instructions", where);
    if (const Json* tools = given(json, "tools"))
        content.tools = read_namespaces(*tools, key_path(where, "tools"));
    return content;
}

Content read_part(const Json& json, const std::string& where) {
    require_object(json, where);
    std::string type = required_string(json, "type", where);
    if (type == "text") {
        reject_unknown_keys(json, {"type", "text"}, where);
        return TextContent{required_string(json, "text", where)};
    }
    if (type == "system_content") return read_system_content(json, where);
    if (type == "developer_content") return read_developer_content(json, where);
    fail(key_path(where, "type"), "unknown content type '" + type +
                                      "' (expected text, system_content or developer_content)");
}

std::vector<Content> read_content(const Json& json, const std::string& where) {
    if (json.is_string()) return {TextContent{json.get<std::string>()}};
    if (!json.is_array())
        fail(where, std::string("expected a string or an array of content parts, got ") +
                        json.type_name());
    std::vector<Content> parts;
    for (std::size_t i = 0; i < json.size(); ++i)
        parts.push_back(read_part(json[i], index_path(where, i)));
    return parts;
}

Message read_message(const Json& json, const std::string& where) {
    require_object(json, where);
    reject_unknown_keys(json, {"role", "name", "recipient", "channel", "content_type", "content"},
                        where);
    Message message;
    std::string role = required_string(json, "role", where);
    auto parsed_role = role_from_string(role);
    if (!parsed_role)
        fail(key_path(where, "role"),
             "unknown role '" + role + "' (expected user, assistant, system, developer or tool)");
    message.role = *parsed_role;
    message.name = optional_string(json, "name", where);
    message.recipient = optional_string(json, "recipient", where);
    message.channel = optional_string(json, "channel", where);
    message.content_type = optional_string(json, "content_type", where);
    auto content = json.find("content");
    if (content == json.end()) fail(key_path(where, "content"), "missing");
    message.content = read_content(*content, key_path(where, "content"));
    validate_message(message, where);
    return message;
}

// ---- writing -------------------------------------------------------------------------

template <typename T>
Json or_null(const std::optional<T>& value) {
    return value ? Json(*value) : Json(nullptr);
}

std::string_view serde_name(ReasoningEffort effort) {
    switch (effort) {
        case ReasoningEffort::low:
            return "Low";
        case ReasoningEffort::medium:
            return "Medium";
        case ReasoningEffort::high:
            return "High";
    }
    return "Medium";  // unreachable
}

Json namespaces_to_json(const ToolNamespaces& namespaces) {
    Json out = Json::object();
    for (const auto& [key, ns] : namespaces) {
        Json tools = Json::array();
        for (const auto& tool : ns.tools)
            tools.push_back({{"name", tool.name},
                             {"description", tool.description},
                             {"parameters", or_null(tool.parameters)}});
        out[key] = {{"name", ns.name}, {"description", or_null(ns.description)}, {"tools", tools}};
    }
    return out;
}

Json system_content_to_json(const SystemContent& content) {
    Json effort =
        content.reasoning_effort ? Json(serde_name(*content.reasoning_effort)) : Json(nullptr);
    Json channels = nullptr;
    if (content.channel_config)
        channels = {{"valid_channels", content.channel_config->valid_channels},
                    {"channel_required", content.channel_config->channel_required}};
    return {{"type", "system_content"},
            {"model_identity", or_null(content.model_identity)},
            {"reasoning_effort", effort},
            {"tools", content.tools ? namespaces_to_json(*content.tools) : Json(nullptr)},
            {"conversation_start_date", or_null(content.conversation_start_date)},
            {"knowledge_cutoff", or_null(content.knowledge_cutoff)},
            {"channel_config", channels}};
}

Json part_to_json(const Content& part) {
    if (const auto* text = std::get_if<TextContent>(&part))
        return {{"type", "text"}, {"text", text->text}};
    if (const auto* system = std::get_if<SystemContent>(&part))
        return system_content_to_json(*system);
    const auto& developer = std::get<DeveloperContent>(part);
    return {{"type", "developer_content"},
            {"instructions", or_null(developer.instructions)},
            {"tools", developer.tools ? namespaces_to_json(*developer.tools) : Json(nullptr)}};
}

}  // namespace

void validate_message(const Message& message, std::string_view where_view) {
    std::string where(where_view);
    if (message.role == Role::tool && !message.name)
        fail(key_path(where, "name"),
             "a tool message needs a name: the tool that answered, e.g. \"functions.get_weather\"");
    std::string role(to_string(message.role));
    for (std::size_t i = 0; i < message.content.size(); ++i) {
        const auto& part = message.content[i];
        std::string at = index_path(key_path(where, "content"), i);
        if (std::holds_alternative<SystemContent>(part) && message.role != Role::system)
            fail(at, "system_content may only appear in a system message, found in a " + role +
                         " message");
        if (std::holds_alternative<DeveloperContent>(part) && message.role != Role::developer)
            fail(at, "developer_content may only appear in a developer message, found in a " +
                         role + " message");
    }
}

Message message_from_json(const Json& json) {
    return read_message(json, "message");
}

std::vector<Message> messages_from_json(const Json& array) {
    if (!array.is_array())
        fail("messages", std::string("expected an array of messages, got ") + array.type_name());
    std::vector<Message> messages;
    for (std::size_t i = 0; i < array.size(); ++i)
        messages.push_back(read_message(array[i], index_path("messages", i)));
    return messages;
}

Json message_to_json(const Message& message) {
    Json out = {{"role", to_string(message.role)}};
    if (message.name) out["name"] = *message.name;
    if (message.recipient) out["recipient"] = *message.recipient;
    bool one_text =
        message.content.size() == 1 && std::holds_alternative<TextContent>(message.content.front());
    if (one_text) {
        out["content"] = std::get<TextContent>(message.content.front()).text;
    } else {
        out["content"] = Json::array();
        for (const auto& part : message.content) out["content"].push_back(part_to_json(part));
    }
    if (message.channel) out["channel"] = *message.channel;
    if (message.content_type) out["content_type"] = *message.content_type;
    return out;
}

Json messages_to_json(const std::vector<Message>& messages) {
    Json out = Json::array();
    for (const auto& message : messages) out.push_back(message_to_json(message));
    return out;
}

}  // namespace gossamer::harmony
