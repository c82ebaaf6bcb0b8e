// Prefix reuse across requests: the engine keeps a KV cache per conversation and reuses the
// longest prefix a new prompt shares with it, but every HTTP request arrives on its own. The
// pool keeps the conversations of finished requests idle with the tokens they hold and hands
// a new prompt the idle one sharing the longest prefix (Codex resends its ~10K-token prompt
// every turn), opening a new one or recycling the least recently used beyond `max_idle`.
// With a KV folder, every conversation keeps its cache on disk (engine/kv_file.h) in a file of
// its own, and the pool remembers what each file holds (read back at start for the files an
// earlier server left). A new conversation starts from the saved file sharing the longest
// prefix with its prompt when it shares more than any idle conversation (a restarted server,
// or an idle conversation recycled since): it takes that file over when it keeps at least
// half of it and no live conversation has it, else it saves to a new file. Likewise an idle
// conversation reused for a prompt that keeps less than half of what it holds goes on in a
// new file: the file of the conversation it was stays for a client that comes back to it.
// Runs on the event loop only; it must not generate or know about HTTP.
#pragma once

#include <cstdint>
#include <filesystem>
#include <list>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "runtime/model_client.h"

namespace gossamer::server {

class ConversationPool {
  public:
    using Conversation = runtime::ModelClient::Conversation;
    // A saved cache is worth starting from when it shares at least this many tokens (below
    // that, checking its file costs more than computing them).
    static constexpr std::size_t kMinSeedTokens = 64;
    // Saved files read back at start, the most recently used first.
    static constexpr std::size_t kMaxKnownFiles = 256;
    ConversationPool(runtime::ModelClient& model, std::size_t max_idle,
                     std::filesystem::path kv_folder = {});
    ~ConversationPool();

    // A conversation for `prompt`: the idle one sharing its longest prefix (owned by the
    // caller until give_back or drop).
    Conversation take(const std::vector<std::int32_t>& prompt);
    // Back to the pool holding `tokens` (the prompt and what was generated).
    void give_back(Conversation id, std::vector<std::int32_t> tokens);
    // Closes a conversation that must not be reused (e.g. after an error).
    void drop(Conversation id);

    // The file a conversation keeps its cache in (empty without a KV folder).
    std::filesystem::path file_of(Conversation id) const;

  private:
    struct Idle {
        Conversation id;
        std::vector<std::int32_t> tokens;
        std::filesystem::path file;
    };
    std::filesystem::path new_file();
    // The saved file sharing the longest prefix with `prompt`, if it shares at least
    // kMinSeedTokens and more than `more_than`, and how much it shares.
    std::pair<std::filesystem::path, std::size_t> seed_for(const std::vector<std::int32_t>& prompt,
                                                           std::size_t more_than);

    bool owned(const std::filesystem::path& file) const;  // a live conversation's file

    runtime::ModelClient& model_;
    std::size_t max_idle_;
    std::filesystem::path kv_folder_;  // empty: nothing kept on disk
    std::list<Idle> idle_;             // most recently used first
    std::map<Conversation, std::filesystem::path> taken_files_;
    std::map<std::filesystem::path, std::vector<std::int32_t>> saved_;  // what files hold
    std::mt19937_64 names_{std::random_device{}()};
};

std::size_t common_prefix(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b);
// Whether a file of a KV folder is a server conversation's cache ("serve-<hex>.gkv"), which
// belongs to no session (`sessions gc` leaves it to the disk budget).
bool is_conversation_kv_file(const std::filesystem::path& path);

}  // namespace gossamer::server
