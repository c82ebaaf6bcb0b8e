#include "server/conversation_pool.h"

#include <algorithm>
#include <cstdio>

#include "engine/hash64.h"

namespace gossamer::server {

std::size_t common_prefix(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
    const std::size_t n = std::min(a.size(), b.size());
    std::size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

std::string kv_file_name(const std::vector<std::int32_t>& prompt) {
    engine::Hash64 h;
    const std::size_t n = std::min(prompt.size(), ConversationPool::kKeyTokens);
    h.add(static_cast<std::uint64_t>(n));
    h.update(prompt.data(), n * sizeof(std::int32_t));
    char name[40];
    std::snprintf(name, sizeof name, "serve-%016llx.gkv",
                  static_cast<unsigned long long>(h.digest()));
    return name;
}

ConversationPool::~ConversationPool() {
    for (const auto& c : idle_) model_.close(c.id);
}

ConversationPool::Conversation ConversationPool::take(const std::vector<std::int32_t>& prompt) {
    auto best = idle_.end();
    std::size_t best_shared = 0;
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
        const std::size_t shared = common_prefix(it->tokens, prompt);
        if (shared > best_shared) best = it, best_shared = shared;
    }
    if (!kv_folder_.empty()) {
        // Kept on disk: only a conversation with the same key may be reused (its file's name
        // says what it holds); otherwise a new one restores what its own file has.
        const std::size_t key = std::min(prompt.size(), kKeyTokens);
        if (best != idle_.end() && best_shared < key) best = idle_.end();
        if (best == idle_.end()) {
            if (idle_.size() >= max_idle_) {
                model_.close(idle_.back().id);
                idle_.pop_back();
            }
            const Conversation id = model_.open();
            model_.keep_on_disk(id, kv_folder_ / kv_file_name(prompt));
            return id;
        }
    }
    if (best == idle_.end() && idle_.size() >= max_idle_)
        best = std::prev(idle_.end());  // nothing shared: recycle the least recently used
    if (best == idle_.end()) return model_.open();
    const Conversation id = best->id;
    idle_.erase(best);
    return id;
}

void ConversationPool::give_back(Conversation id, std::vector<std::int32_t> tokens) {
    idle_.push_front({id, std::move(tokens)});
    while (idle_.size() > max_idle_) {
        model_.close(idle_.back().id);
        idle_.pop_back();
    }
}

void ConversationPool::drop(Conversation id) {
    model_.close(id);
}

}  // namespace gossamer::server
