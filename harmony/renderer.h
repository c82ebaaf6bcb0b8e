// The harmony renderer: messages -> o200k_harmony token ids, byte-exact to openai/harmony
// v0.0.8 (render, render_conversation, _for_completion, _for_training). Text is encoded
// with encode_ordinary, one call per piece as harmony does, so "<|start|>" typed by a user
// stays ordinary text; special tokens are appended by id. It must not parse model output
// (stream_parser.h) or decide what to send; it is pure and thread-safe (const methods).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harmony/message.h"
#include "harmony/tokenizer.h"

namespace gossamer::harmony {

// Which analysis (chain-of-thought) messages a conversation render leaves out. Only messages
// whose channel is "analysis" are ever dropped; a turn starts at a user message.
enum class DropAnalysis {
    // Keep everything (harmony with auto_drop_analysis = false, or its Rust default).
    none,
    // Drop the analysis of every earlier turn whose last assistant message is a final
    // answer. The turn in progress (from the last user message on) keeps its analysis, and
    // so does an earlier turn that ended without a final. What the gpt-oss docs intend.
    completed_turns,
    // openai/harmony v0.0.8's exact rule (auto_drop_analysis = true): if the last assistant
    // message is final, drop the analysis before the FIRST final message, and nothing after
    // it; otherwise drop nothing. Keeps stale CoT from turn 2 on; for byte parity only.
    harmony_first_final,
};
// "none" | "completed-turns" | "harmony-first-final" (the CLI's spelling).
std::string_view to_string(DropAnalysis policy);
std::optional<DropAnalysis> drop_analysis_from_string(std::string_view text);

struct RenderOptions {
    DropAnalysis drop_analysis = DropAnalysis::completed_turns;
};

// keep[i] is false for the messages the policy drops.
std::vector<bool> messages_to_keep(std::span<const Message> messages, DropAnalysis policy);

// True when a developer message declares a non-empty "functions" namespace; the system
// message then gains "Calls to these tools must go to the commentary channel: 'functions'."
bool conversation_has_function_tools(std::span<const Message> messages);

// The texts harmony encodes as one piece each (section 2.3-2.6 of the reference).
std::string system_content_text(const SystemContent& content, bool has_function_tools);
std::string developer_content_text(const DeveloperContent& content);
std::string tools_section_text(const ToolNamespaces& namespaces);

class Renderer {
  public:
    // The tokenizer must outlive the renderer (normally Tokenizer::o200k_harmony()).
    explicit Renderer(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
    const Tokenizer& tokenizer() const { return tokenizer_; }

    // One message, appended to out:
    // <|start|>{role[:name] | tool name}[ to=R]<|channel|>C[ <|constrain|>T]<|message|>...<|end|>
    // (<|call|> instead of <|end|> for an assistant message with a recipient). Alone, a
    // system message never gets the 'functions' line; pass has_function_tools to add it.
    // Throws MessageFormatError (validate_message in message.h); out is unchanged then.
    void render_message_into(const Message& message, std::vector<Token>& out,
                             bool has_function_tools = false) const;
    std::vector<Token> render_message(const Message& message) const;

    // The kept messages one after the other. Throws MessageFormatError naming the index of
    // the first invalid message ("messages[3]: ..."); out is unchanged then.
    void render_conversation_into(std::span<const Message> messages, std::vector<Token>& out,
                                  const RenderOptions& options = {}) const;
    std::vector<Token> render_conversation(std::span<const Message> messages,
                                           const RenderOptions& options = {}) const;
    // The conversation, then <|start|> and the next role ("assistant"): the prompt to sample.
    std::vector<Token> render_conversation_for_completion(std::span<const Message> messages,
                                                          Role next_role,
                                                          const RenderOptions& options = {}) const;
    // The conversation with <|return|> instead of the last token when the last message is
    // an assistant final answer (what the model emits at the end of a turn).
    std::vector<Token> render_conversation_for_training(std::span<const Message> messages,
                                                        const RenderOptions& options = {}) const;

  private:
    void text(std::string_view piece, std::vector<Token>& out) const;
    void header(const Message& message, std::vector<Token>& out) const;

    const Tokenizer& tokenizer_;
};

}  // namespace gossamer::harmony
