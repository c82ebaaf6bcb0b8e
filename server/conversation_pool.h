// Prefix reuse across requests: the engine keeps a KV cache per conversation and reuses the
// longest prefix a new prompt shares with it, but every HTTP request arrives on its own. The
// pool keeps the conversations of finished requests idle with the tokens they hold and hands
// a new prompt the idle one sharing the longest prefix (Codex resends its ~10K-token prompt
// every turn), opening a new one or recycling the least recently used beyond `max_idle`.
// Runs on the event loop only; it must not generate or know about HTTP.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <vector>

#include "runtime/model_client.h"

namespace gossamer::server {

class ConversationPool {
  public:
    using Conversation = runtime::ModelClient::Conversation;
    ConversationPool(runtime::ModelClient& model, std::size_t max_idle)
        : model_(model), max_idle_(max_idle) {}
    ~ConversationPool();

    // A conversation for `prompt`: the idle one sharing its longest prefix (owned by the
    // caller until give_back or drop).
    Conversation take(const std::vector<std::int32_t>& prompt);
    // Back to the pool holding `tokens` (the prompt and what was generated).
    void give_back(Conversation id, std::vector<std::int32_t> tokens);
    // Closes a conversation that must not be reused (e.g. after an error).
    void drop(Conversation id);

  private:
    struct Idle {
        Conversation id;
        std::vector<std::int32_t> tokens;
    };
    runtime::ModelClient& model_;
    std::size_t max_idle_;
    std::list<Idle> idle_;  // most recently used first
};

std::size_t common_prefix(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b);

}  // namespace gossamer::server
