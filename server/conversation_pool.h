// Prefix reuse across requests: the engine keeps a KV cache per conversation and reuses the
// longest prefix a new prompt shares with it, but every HTTP request arrives on its own. The
// pool keeps the conversations of finished requests idle with the tokens they hold and hands
// a new prompt the idle one sharing the longest prefix (Codex resends its ~10K-token prompt
// every turn), opening a new one or recycling the least recently used beyond `max_idle`.
// With a KV folder, each new conversation keeps its cache on disk (engine/kv_file.h) in a file
// named after its first kKeyTokens tokens, so a restarted server (or one whose idle
// conversations were recycled) starts a returning conversation from what was saved; an idle
// conversation is then only reused for a prompt with the same key (its file's).
// Runs on the event loop only; it must not generate or know about HTTP.
#pragma once

#include <cstdint>
#include <filesystem>
#include <list>
#include <string>
#include <vector>

#include "runtime/model_client.h"

namespace gossamer::server {

class ConversationPool {
  public:
    using Conversation = runtime::ModelClient::Conversation;
    static constexpr std::size_t kKeyTokens = 64;
    ConversationPool(runtime::ModelClient& model, std::size_t max_idle,
                     std::filesystem::path kv_folder = {})
        : model_(model), max_idle_(max_idle), kv_folder_(std::move(kv_folder)) {}
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
    std::filesystem::path kv_folder_;  // empty: nothing kept on disk
    std::list<Idle> idle_;             // most recently used first
};

std::size_t common_prefix(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b);
// "serve-<16 hex digits>.gkv": the saved cache of conversations starting with these tokens
// (the first kKeyTokens of them).
std::string kv_file_name(const std::vector<std::int32_t>& prompt);

}  // namespace gossamer::server
