#include "runtime/context_window.h"

#include <algorithm>

namespace gossamer::runtime {

using harmony::Message;
using harmony::Token;

namespace {

bool is_utf8_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

bool is_tool_output(const Message& m) {
    return m.role == harmony::Role::tool;
}

bool is_analysis(const Message& m) {
    return m.role == harmony::Role::assistant && m.channel == "analysis";
}

// What a cached rendering depends on, cheaply: the conversation is append-only (the agent
// loop never edits a stored message), so role, sizes and the flag catch every change the
// loop makes; tools that edit messages call invalidate().
std::string key_of(const Message& m, bool has_function_tools) {
    std::string key(harmony::to_string(m.role));
    key += '|' + m.recipient.value_or("") + '|' + m.channel.value_or("") + '|' +
           std::to_string(m.content.size()) + '|' + std::to_string(m.text_content().size()) +
           (has_function_tools ? "|f" : "|-");
    return key;
}

}  // namespace

std::string keep_head_and_tail(const std::string& text, std::size_t keep) {
    const std::size_t margin = 64;
    if (text.size() <= 2 * keep + margin) return text;
    std::size_t head = keep, tail = text.size() - keep;
    while (head > 0 && is_utf8_continuation(text[head])) --head;
    while (tail < text.size() && is_utf8_continuation(text[tail])) ++tail;
    return text.substr(0, head) + "\n[... " + std::to_string(tail - head) +
           " characters trimmed to fit the context window ...]\n" + text.substr(tail);
}

const std::vector<Token>& ContextWindow::rendered(const std::vector<Message>& messages,
                                                  std::size_t index, bool has_function_tools) {
    if (cache_.size() < messages.size()) {
        cache_.resize(messages.size());
        cache_key_.resize(messages.size());
    }
    std::string key = key_of(messages[index], has_function_tools);
    if (cache_key_[index] != key || cache_[index].empty()) {
        cache_[index].clear();
        renderer_.render_message_into(messages[index], cache_[index], has_function_tools);
        cache_key_[index] = std::move(key);
    }
    return cache_[index];
}

int ContextWindow::tokens_of(const std::vector<Message>& messages, std::size_t index) {
    const bool fn = harmony::conversation_has_function_tools(messages);
    return static_cast<int>(rendered(messages, index, fn).size());
}

std::vector<Token> ContextWindow::render_shortened(const Message& m, std::size_t keep,
                                                   bool has_function_tools) const {
    Message copy = m;
    const std::string text = m.text_content();
    copy.content = {harmony::TextContent{keep == 0
                                             ? "[tool output of " + std::to_string(text.size()) +
                                                   " characters removed to fit the context window]"
                                             : keep_head_and_tail(text, keep)}};
    std::vector<Token> out;
    renderer_.render_message_into(copy, out, has_function_tools);
    return out;
}

std::optional<ContextPlan> ContextWindow::plan(const std::vector<Message>& messages) {
    const bool fn = harmony::conversation_has_function_tools(messages);
    const std::vector<bool> keep =
        harmony::messages_to_keep(messages, harmony::DropAnalysis::completed_turns);
    const std::size_t n = messages.size();

    // Per message: the tokens used in the prompt (empty = dropped).
    std::vector<std::vector<Token>> parts(n);
    std::size_t total = suffix_.size();  // <|start|>assistant
    for (std::size_t i = 0; i < n; ++i)
        if (keep[i]) total += (parts[i] = rendered(messages, i, fn)).size();

    const int window = options_.window;
    const int reserve = std::min(options_.reserve, window / 4);
    const auto limit = static_cast<std::size_t>(options_.trim_threshold * window) -
                       static_cast<std::size_t>(reserve);
    ContextPlan plan;
    const std::size_t protect_from = n > options_.protect_last ? n - options_.protect_last : 0;
    // Stages, each oldest first: shorten tool outputs, empty them, drop analysis.
    for (int stage = 0; stage < 3 && total > limit; ++stage) {
        for (std::size_t i = 0; i < protect_from && total > limit; ++i) {
            if (parts[i].empty()) continue;
            const Message& m = messages[i];
            std::vector<Token> replacement;
            std::string what;
            if (stage < 2 && is_tool_output(m)) {
                replacement = render_shortened(m, stage == 0 ? options_.keep_chars : 0, fn);
                what = (stage == 0 ? "shortened output of " : "removed output of ") +
                       m.name.value_or("tool") + " (message " + std::to_string(i) + ")";
            } else if (stage == 2 && is_analysis(m)) {
                what = "dropped analysis (message " + std::to_string(i) + ")";
            } else {
                continue;
            }
            if (!replacement.empty() && replacement.size() >= parts[i].size()) continue;
            total = total - parts[i].size() + replacement.size();
            parts[i] = std::move(replacement);
            plan.trimmed.push_back(std::move(what));
        }
    }
    if (total >= static_cast<std::size_t>(window)) return std::nullopt;

    plan.prompt.reserve(total);
    for (const auto& p : parts) plan.prompt.insert(plan.prompt.end(), p.begin(), p.end());
    plan.prompt.insert(plan.prompt.end(), suffix_.begin(), suffix_.end());
    plan.max_new_tokens = window - static_cast<int>(plan.prompt.size());
    return plan;
}

}  // namespace gossamer::runtime
