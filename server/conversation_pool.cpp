#include "server/conversation_pool.h"

#include <algorithm>
#include <cstdio>
#include <system_error>

namespace gossamer::server {
namespace fs = std::filesystem;

std::size_t common_prefix(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
    const std::size_t n = std::min(a.size(), b.size());
    std::size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

bool is_conversation_kv_file(const fs::path& p) {
    return p.filename().string().starts_with("serve-") && p.extension() == ".gkv";
}

ConversationPool::ConversationPool(runtime::ModelClient& model, std::size_t max_idle,
                                   fs::path kv_folder)
    : model_(model), max_idle_(max_idle), kv_folder_(std::move(kv_folder)) {
    if (kv_folder_.empty()) return;
    // What an earlier server saved, the most recently used first.
    std::vector<std::pair<fs::file_time_type, fs::path>> files;
    std::error_code ec;
    for (fs::directory_iterator it(kv_folder_, ec), end; !ec && it != end; it.increment(ec)) {
        if (!is_conversation_kv_file(it->path()) || !it->is_regular_file(ec)) continue;
        files.emplace_back(it->last_write_time(ec), it->path());
    }
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a > b; });
    if (files.size() > kMaxKnownFiles) files.resize(kMaxKnownFiles);
    for (const auto& [time, path] : files) {
        auto tokens = model_.saved_tokens(path);
        if (!tokens.empty()) saved_.emplace(path, std::move(tokens));
    }
}

ConversationPool::~ConversationPool() {
    for (const auto& c : idle_) model_.close(c.id);
}

fs::path ConversationPool::new_file() {
    for (;;) {
        char name[40];
        std::snprintf(name, sizeof name, "serve-%016llx.gkv",
                      static_cast<unsigned long long>(names_()));
        fs::path path = kv_folder_ / name;
        std::error_code ec;
        if (!saved_.contains(path) && !fs::exists(path, ec)) return path;
    }
}

std::pair<fs::path, std::size_t> ConversationPool::seed_for(const std::vector<std::int32_t>& prompt,
                                                            std::size_t more_than) {
    for (;;) {
        auto best = saved_.end();
        std::size_t best_shared = std::max(more_than, kMinSeedTokens - 1);
        for (auto it = saved_.begin(); it != saved_.end(); ++it) {
            const std::size_t shared = common_prefix(it->second, prompt);
            if (shared > best_shared) best = it, best_shared = shared;
        }
        if (best == saved_.end()) return {};
        std::error_code ec;
        if (fs::exists(best->first, ec)) return {best->first, best_shared};
        saved_.erase(best);  // removed since (the disk budget): the next best
    }
}

ConversationPool::Conversation ConversationPool::take(const std::vector<std::int32_t>& prompt) {
    auto best = idle_.end();
    std::size_t best_shared = 0;
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
        const std::size_t shared = common_prefix(it->tokens, prompt);
        if (shared > best_shared) best = it, best_shared = shared;
    }
    if (kv_folder_.empty()) {
        if (best == idle_.end() && idle_.size() >= max_idle_)
            best = std::prev(idle_.end());  // nothing shared: recycle the least recently used
        if (best == idle_.end()) return model_.open();
        const Conversation id = best->id;
        idle_.erase(best);
        return id;
    }
    // A saved file sharing more than any idle conversation (after a restart, or once the
    // conversation that wrote it was recycled) beats reusing memory.
    const auto [seed, seed_shared] = seed_for(prompt, best_shared);
    if (best != idle_.end() && seed.empty()) {
        const Conversation id = best->id;
        fs::path file = best->file;
        if (best_shared * 2 < best->tokens.size()) {
            // Most of what it holds is left behind: another conversation sharing a prefix
            // (the same instructions). The memory is reused; the file stays for the one it was.
            file = new_file();
            model_.keep_on_disk(id, file);
        }
        idle_.erase(best);
        taken_files_[id] = file;
        return id;
    }
    if (idle_.size() >= max_idle_) {  // its file stays, a seed for whoever comes back
        model_.close(idle_.back().id);
        idle_.pop_back();
    }
    const Conversation id = model_.open();
    if (!seed.empty() && seed_shared * 2 >= saved_[seed].size() && !owned(seed)) {
        // Its own file, come back (or one no conversation holds whose most it continues):
        // restored from and saved to in place.
        model_.keep_on_disk(id, seed);
        taken_files_[id] = seed;
        return id;
    }
    const fs::path file = new_file();
    model_.keep_on_disk(id, file, seed);
    taken_files_[id] = file;
    return id;
}

bool ConversationPool::owned(const fs::path& file) const {
    for (const auto& [id, f] : taken_files_)
        if (f == file) return true;
    for (const auto& c : idle_)
        if (c.file == file) return true;
    return false;
}

void ConversationPool::give_back(Conversation id, std::vector<std::int32_t> tokens) {
    fs::path file;
    if (auto it = taken_files_.find(id); it != taken_files_.end()) {
        file = std::move(it->second);
        taken_files_.erase(it);
        saved_[file] = tokens;  // what its last save wrote
    }
    idle_.push_front({id, std::move(tokens), std::move(file)});
    while (idle_.size() > max_idle_) {
        model_.close(idle_.back().id);
        idle_.pop_back();
    }
}

void ConversationPool::drop(Conversation id) {
    taken_files_.erase(id);  // what its file holds is as the last give_back said (or nothing)
    model_.close(id);
}

fs::path ConversationPool::file_of(Conversation id) const {
    if (auto it = taken_files_.find(id); it != taken_files_.end()) return it->second;
    for (const auto& c : idle_)
        if (c.id == id) return c.file;
    return {};
}

}  // namespace gossamer::server
