// Fits a harmony conversation into the model's context window, token-exactly: renders each
// message once (cached), drops the analysis of completed turns, and when the prompt plus
// room for the answer would pass the trim threshold, first shortens old tool outputs
// (keeping head and tail), then empties them, then drops old analysis, oldest first. It
// never returns more than the window, reports what it trimmed, and never edits the stored
// conversation: trimming applies to the rendered view only.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "harmony/message.h"
#include "harmony/renderer.h"

namespace gossamer::runtime {

struct ContextOptions {
    int window = 131072;            // positions the model can hold
    int reserve = 4096;             // kept free for the answer (capped at window / 4)
    double trim_threshold = 0.9;    // trimming starts when prompt + reserve > threshold * window
    std::size_t keep_chars = 1024;  // head and tail kept of a shortened tool output
    std::size_t protect_last = 4;   // the newest messages are never trimmed
    // Compaction (runtime/compaction.h): when prompt + reserve passes compact_at * window the
    // model summarises the work so far; 0 never. The newest messages up to keep_recent *
    // window tokens stay verbatim; the summary may take up to summary_tokens.
    double compact_at = 0;
    double keep_recent = 0.25;
    int summary_tokens = 2048;
};

struct ContextPlan {
    std::vector<harmony::Token> prompt;  // the conversation for completion by the assistant
    int max_new_tokens = 0;              // room left in the window after the prompt
    std::vector<std::string> trimmed;    // what was shortened or dropped, for the event log
};

class ContextWindow {
  public:
    ContextWindow(const harmony::Renderer& renderer, ContextOptions options)
        : renderer_(renderer),
          options_(options),
          suffix_(renderer.render_conversation_for_completion({}, harmony::Role::assistant)) {}

    // nullopt when even full trimming leaves no room to generate a single token.
    std::optional<ContextPlan> plan(const std::vector<harmony::Message>& messages);

    // Tokens of one message as rendered in this conversation (cached).
    int tokens_of(const std::vector<harmony::Message>& messages, std::size_t index);

    const ContextOptions& options() const { return options_; }
    // Forget cached renderings (after editing stored messages in place).
    void invalidate() {
        cache_.clear();
        cache_key_.clear();
    }

  private:
    const std::vector<harmony::Token>& rendered(const std::vector<harmony::Message>& messages,
                                                std::size_t index, bool has_function_tools);
    std::vector<harmony::Token> render_shortened(const harmony::Message& m, std::size_t keep,
                                                 bool has_function_tools) const;

    const harmony::Renderer& renderer_;
    ContextOptions options_;
    std::vector<harmony::Token> suffix_;              // <|start|>assistant
    std::vector<std::vector<harmony::Token>> cache_;  // per message index
    std::vector<std::string> cache_key_;              // what each entry was rendered from
};

// `text` with its middle replaced by "[... N characters trimmed ...]" when longer than
// 2 * keep + a margin; cut points are moved to UTF-8 character boundaries.
std::string keep_head_and_tail(const std::string& text, std::size_t keep);

}  // namespace gossamer::runtime
