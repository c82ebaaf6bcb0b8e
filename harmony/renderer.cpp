// Renderer: the rules of openai/harmony v0.0.8's encoding.rs (Render impls, the tools
// section template and render_conversation_*), re-implemented from its documented behaviour.
// Piece boundaries matter: BPE never merges across two encode calls, so every text below
// is encoded separately exactly where harmony encodes it separately.
#include "harmony/renderer.h"

#include <utility>

#include "harmony/schema_typescript.h"
#include "harmony/text_join.h"

namespace gossamer::harmony {

std::string_view to_string(DropAnalysis policy) {
    switch (policy) {
        case DropAnalysis::none:
            return "none";
        case DropAnalysis::completed_turns:
            return "completed-turns";
        case DropAnalysis::harmony_first_final:
            return "harmony-first-final";
    }
    return "unknown";  // unreachable
}

std::optional<DropAnalysis> drop_analysis_from_string(std::string_view text) {
    for (auto policy :
         {DropAnalysis::none, DropAnalysis::completed_turns, DropAnalysis::harmony_first_final})
        if (to_string(policy) == text) return policy;
    return std::nullopt;
}

namespace {

bool has_channel(const Message& message, std::string_view channel) {
    return message.channel && *message.channel == channel;
}

// harmony: only when the last assistant message is final; then every analysis message
// before the first final (of any role) goes, later ones stay.
std::vector<bool> keep_harmony_first_final(std::span<const Message> messages) {
    std::vector<bool> keep(messages.size(), true);
    bool last_assistant_is_final = false;
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
        if (it->role != Role::assistant) continue;
        last_assistant_is_final = has_channel(*it, "final");
        break;
    }
    if (!last_assistant_is_final) return keep;
    for (std::size_t i = 0; i < messages.size() && !has_channel(messages[i], "final"); ++i)
        if (has_channel(messages[i], "analysis")) keep[i] = false;
    return keep;
}

// Turns are [user message, next user message); what precedes the first user message counts
// as a turn too. The turn that starts at the last user message is the one in progress.
std::vector<bool> keep_completed_turns(std::span<const Message> messages) {
    std::vector<bool> keep(messages.size(), true);
    std::size_t in_progress = messages.size();
    for (std::size_t i = messages.size(); i-- > 0;)
        if (messages[i].role == Role::user) {
            in_progress = i;
            break;
        }
    std::size_t begin = 0;
    while (begin < in_progress) {
        std::size_t end = begin + 1;
        while (end < in_progress && messages[end].role != Role::user) ++end;
        bool ended_in_final = false;
        for (std::size_t i = begin; i < end; ++i)
            if (messages[i].role == Role::assistant)
                ended_in_final = has_channel(messages[i], "final");
        if (ended_in_final)
            for (std::size_t i = begin; i < end; ++i)
                if (has_channel(messages[i], "analysis")) keep[i] = false;
        begin = end;
    }
    return keep;
}

// Rust's str::lines(): split at '\n', drop one '\r' before it, no empty last line.
std::vector<std::string_view> lines(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        std::size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        if (newline != std::string_view::npos && !line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        out.push_back(line);
        if (newline == std::string_view::npos) break;
        text.remove_prefix(newline + 1);
    }
    return out;
}

// "## name\n", the description (as "// " comments when there are functions), then
// "namespace name {\n", each function's comments and type line, and "} // namespace name",
// all joined by "\n".
std::string namespace_section(const ToolNamespace& ns) {
    std::vector<std::string> parts{"## " + ns.name + "\n"};
    bool has_functions = !ns.tools.empty();
    if (ns.description)
        for (auto line : lines(*ns.description))
            parts.push_back((has_functions ? "// " : "") + std::string(line));
    if (!has_functions) return join(parts, "\n");
    parts.push_back("namespace " + ns.name + " {\n");
    for (const auto& tool : ns.tools) {
        for (auto line : lines(tool.description)) parts.push_back("// " + std::string(line));
        // `parameters: null` reads as absent (message.cpp), as in harmony.
        bool has_parameters = tool.parameters && !tool.parameters->is_null();
        if (has_parameters)
            parts.push_back("type " + tool.name +
                            " = (_: " + schema_to_typescript(*tool.parameters) + ") => any;\n");
        else
            parts.push_back("type " + tool.name + " = () => any;\n");
    }
    parts.push_back("} // namespace " + ns.name);
    return join(parts, "\n");
}

std::string channels_section(const ChannelConfig& config, bool has_function_tools) {
    std::string out = "# Valid channels: " + join(config.valid_channels, ", ") + ".";
    if (config.channel_required) out += " Channel must be included for every message.";
    if (has_function_tools)
        out += "\nCalls to these tools must go to the commentary channel: 'functions'.";
    return out;
}

std::string message_where(std::size_t index) {
    return "messages[" + std::to_string(index) + "]";
}

}  // namespace

std::vector<bool> messages_to_keep(std::span<const Message> messages, DropAnalysis policy) {
    switch (policy) {
        case DropAnalysis::none:
            return std::vector<bool>(messages.size(), true);
        case DropAnalysis::completed_turns:
            return keep_completed_turns(messages);
        case DropAnalysis::harmony_first_final:
            return keep_harmony_first_final(messages);
    }
    return std::vector<bool>(messages.size(), true);  // unreachable
}

bool conversation_has_function_tools(std::span<const Message> messages) {
    for (const auto& message : messages)
        for (const auto& part : message.content) {
            const auto* developer = std::get_if<DeveloperContent>(&part);
            if (!developer || !developer->tools) continue;
            auto functions = developer->tools->find("functions");
            if (functions != developer->tools->end() && !functions->second.tools.empty())
                return true;
        }
    return false;
}

std::string tools_section_text(const ToolNamespaces& namespaces) {
    std::vector<std::string> sections{"# Tools"};
    for (const auto& [key, ns] : namespaces) sections.push_back(namespace_section(ns));
    return join(sections, "\n\n");
}

std::string system_content_text(const SystemContent& content, bool has_function_tools) {
    std::vector<std::string> sections;
    std::vector<std::string> top;
    if (content.model_identity) top.push_back(*content.model_identity);
    if (content.knowledge_cutoff) top.push_back("Knowledge cutoff: " + *content.knowledge_cutoff);
    if (content.conversation_start_date)
        top.push_back("Current date: " + *content.conversation_start_date);
    if (!top.empty()) sections.push_back(join(top, "\n"));
    if (content.reasoning_effort)
        sections.push_back("Reasoning: " + std::string(to_string(*content.reasoning_effort)));
    if (content.tools && !content.tools->empty())
        sections.push_back(tools_section_text(*content.tools));
    // No channels line at all (and so no 'functions' line) without valid channels.
    if (content.channel_config && !content.channel_config->valid_channels.empty())
        sections.push_back(channels_section(*content.channel_config, has_function_tools));
    return join(sections, "\n\n");
}

std::string developer_content_text(const DeveloperContent& content) {
    std::vector<std::string> sections;
    if (content.instructions) {
        sections.push_back("# Instructions");
        sections.push_back(*content.instructions);
    }
    if (content.tools && !content.tools->empty())
        sections.push_back(tools_section_text(*content.tools));
    return join(sections, "\n\n");
}

void Renderer::text(std::string_view piece, std::vector<Token>& out) const {
    tokenizer_.encode_ordinary_into(piece, out);
}

void Renderer::header(const Message& message, std::vector<Token>& out) const {
    if (message.role == Role::tool) {
        text(*message.name, out);  // a tool message is headed by the tool's name alone
    } else {
        text(to_string(message.role), out);
        if (message.name) text(":" + *message.name, out);
    }
    if (message.recipient && *message.recipient != "all") text(" to=" + *message.recipient, out);
    if (message.channel) {
        out.push_back(tok::kChannel);
        text(*message.channel, out);
    }
    if (message.content_type) {
        // "<|constrain|>json" is " " <|constrain|> "json"; any other type is " json".
        constexpr std::string_view kConstrain = "<|constrain|>";
        std::string_view type = *message.content_type;
        if (type.starts_with(kConstrain)) {
            text(" ", out);
            out.push_back(tok::kConstrain);
            text(type.substr(kConstrain.size()), out);
        } else {
            text(" " + *message.content_type, out);
        }
    }
}

void Renderer::render_message_into(const Message& message, std::vector<Token>& out,
                                   bool has_function_tools) const {
    validate_message(message);
    out.push_back(tok::kStart);
    header(message, out);
    out.push_back(tok::kMessage);
    for (const auto& part : message.content) {
        if (const auto* plain = std::get_if<TextContent>(&part))
            text(plain->text, out);
        else if (const auto* system = std::get_if<SystemContent>(&part))
            text(system_content_text(*system, has_function_tools), out);
        else
            text(developer_content_text(std::get<DeveloperContent>(part)), out);
    }
    // Every assistant message with a recipient is a tool call, even to "all".
    bool is_call = message.role == Role::assistant && message.recipient;
    out.push_back(is_call ? tok::kCall : tok::kEnd);
}

std::vector<Token> Renderer::render_message(const Message& message) const {
    std::vector<Token> out;
    render_message_into(message, out);
    return out;
}

void Renderer::render_conversation_into(std::span<const Message> messages, std::vector<Token>& out,
                                        const RenderOptions& options) const {
    for (std::size_t i = 0; i < messages.size(); ++i)
        validate_message(messages[i], message_where(i));
    bool has_function_tools = conversation_has_function_tools(messages);
    std::vector<bool> keep = messages_to_keep(messages, options.drop_analysis);
    for (std::size_t i = 0; i < messages.size(); ++i)
        if (keep[i]) render_message_into(messages[i], out, has_function_tools);
}

std::vector<Token> Renderer::render_conversation(std::span<const Message> messages,
                                                 const RenderOptions& options) const {
    std::vector<Token> out;
    render_conversation_into(messages, out, options);
    return out;
}

std::vector<Token> Renderer::render_conversation_for_completion(
    std::span<const Message> messages, Role next_role, const RenderOptions& options) const {
    std::vector<Token> out = render_conversation(messages, options);
    out.push_back(tok::kStart);
    text(to_string(next_role), out);
    return out;
}

std::vector<Token> Renderer::render_conversation_for_training(std::span<const Message> messages,
                                                              const RenderOptions& options) const {
    std::vector<Token> out = render_conversation(messages, options);
    // As harmony: the last token is replaced whatever it is (<|end|>, or <|call|> for a
    // final that names a recipient).
    if (!messages.empty() && !out.empty()) {
        const Message& last = messages.back();
        if (last.role == Role::assistant && has_channel(last, "final")) out.back() = tok::kReturn;
    }
    return out;
}

}  // namespace gossamer::harmony
