// The conversation pool's choices, against a model double that records what it is asked
// (open, close, keep_on_disk with its seed) and answers saved_tokens from a table: which idle
// conversation a prompt reuses, which file each conversation keeps its cache in, and which
// saved file a new conversation starts from. The real engine behind it is in
// test_server_kv_restart.cpp.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "server/conversation_pool.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
namespace rt = gossamer::runtime;
using gossamer::server::ConversationPool;

namespace {

struct RecordingModel final : rt::ModelClient {
    Conversation next = 1;
    std::vector<Conversation> closed;
    struct Kept {
        fs::path file, seed;
    };
    std::map<Conversation, std::vector<Kept>> kept;
    std::map<fs::path, std::vector<std::int32_t>> files;  // what saved_tokens answers

    Conversation open() override { return next++; }
    void close(Conversation c) override { closed.push_back(c); }
    void generate(Conversation, rt::ModelRequest, rt::OnToken) override {}
    void cancel(Conversation) override {}
    void keep_on_disk(Conversation c, const fs::path& file, const fs::path& seed) override {
        kept[c].push_back({file, seed});
    }
    std::vector<std::int32_t> saved_tokens(const fs::path& file) override {
        auto it = files.find(file);
        return it == files.end() ? std::vector<std::int32_t>{} : it->second;
    }
    int context_window() const override { return 4096; }
    int vocab_size() const override { return 1000; }
};

// `shared` tokens every conversation starts with (the instructions), then `n` of its own.
std::vector<std::int32_t> prompt(int own_seed, int n, int shared = 100) {
    std::vector<std::int32_t> p;
    for (int i = 0; i < shared; ++i) p.push_back(i % 50);
    for (int i = 0; i < n; ++i) p.push_back(100 + (own_seed * 31 + i * 7) % 800);
    return p;
}

void touch(const fs::path& p) {
    std::ofstream(p) << "x";
}

}  // namespace

TEST_CASE("conversation pool: without a KV folder, the idle one sharing the longest prefix") {
    RecordingModel model;
    ConversationPool pool(model, 2);
    const auto a = pool.take(prompt(1, 200));
    pool.give_back(a, prompt(1, 210));
    const auto b = pool.take(prompt(2, 200));  // shares the instructions: reuses a
    CHECK(b == a);
    pool.give_back(b, prompt(2, 210));
    CHECK(model.kept.empty());
    CHECK(pool.file_of(a).empty());
}

TEST_CASE("conversation pool: every conversation keeps its own file; a branch leaves the old") {
    gossamer::test::TempDir dir("pool");
    RecordingModel model;
    ConversationPool pool(model, 4, dir.path);

    const auto p1 = prompt(1, 200);
    const auto a = pool.take(p1);
    REQUIRE(model.kept[a].size() == 1);
    const fs::path file_a = model.kept[a][0].file;
    CHECK(file_a.parent_path() == dir.path);
    CHECK(file_a.filename().string().starts_with("serve-"));
    CHECK(model.kept[a][0].seed.empty());  // nothing saved yet
    auto held = p1;
    held.insert(held.end(), {7, 8, 9});
    pool.give_back(a, held);
    touch(file_a);

    // The next turn of the same conversation: same conversation, same file.
    auto next = held;
    next.insert(next.end(), {10, 11});
    CHECK(pool.take(next) == a);
    CHECK(model.kept[a].size() == 1);
    CHECK(pool.file_of(a) == file_a);
    pool.give_back(a, next);

    // Another conversation with the same instructions: the memory is reused (prefix reuse),
    // the cache goes to a new file, the first one stays for conversation a.
    const auto p2 = prompt(2, 200);
    CHECK(pool.take(p2) == a);
    REQUIRE(model.kept[a].size() == 2);
    const fs::path file_b = model.kept[a][1].file;
    CHECK(file_b != file_a);
    CHECK(model.kept[a][1].seed.empty());  // its cache is in memory
    pool.give_back(a, p2);
    touch(file_b);

    // A cut that keeps most of what the conversation holds (harmony drops the last turn's
    // analysis) stays in the same file.
    auto edited = p2;
    edited.resize(p2.size() - 20);
    edited.push_back(999);
    CHECK(pool.take(edited) == a);
    CHECK(model.kept[a].size() == 2);
    pool.give_back(a, edited);
}

TEST_CASE("conversation pool: a new conversation starts from the saved file sharing the most") {
    gossamer::test::TempDir dir("pool");
    RecordingModel model;
    // An earlier server left two conversations' files, one of another model (no tokens) and a
    // session's file (not the server's).
    const auto p1 = prompt(1, 300), p2 = prompt(2, 300);
    const fs::path f1 = dir.path / "serve-0000000000000001.gkv",
                   f2 = dir.path / "serve-0000000000000002.gkv",
                   foreign = dir.path / "serve-0000000000000003.gkv", session = dir.path / "s1.gkv";
    for (const auto& f : {f1, f2, foreign, session}) touch(f);
    model.files[f1] = p1;
    model.files[f2] = p2;
    model.files[session] = p1;
    ConversationPool pool(model, 1, dir.path);

    // Conversation 2 comes back with a new turn: it takes its file over (restored, appended).
    auto back = p2;
    back.insert(back.end(), {5, 6, 7});
    const auto c = pool.take(back);
    REQUIRE(model.kept[c].size() == 1);
    CHECK(model.kept[c][0].file == f2);
    CHECK(model.kept[c][0].seed.empty());
    pool.give_back(c, back);

    // Sharing only the instructions with everything: the idle conversation's memory is
    // reused, in a new file (f2 stays conversation 2's).
    const auto p3 = prompt(3, 300);
    CHECK(pool.take(p3) == c);
    REQUIRE(model.kept[c].size() == 2);
    const fs::path file_c = model.kept[c][1].file;
    CHECK((file_c != f1 && file_c != f2 && file_c != foreign));
    pool.give_back(c, p3);

    // Conversation 1 returns: its saved file shares more than the idle conversation, so a new
    // conversation takes f1 over; the idle one is recycled (max_idle 1).
    auto back1 = p1;
    back1.push_back(3);
    const auto d = pool.take(back1);
    CHECK(d != c);
    CHECK(model.closed == std::vector<rt::ModelClient::Conversation>{c});
    REQUIRE(model.kept[d].size() == 1);
    CHECK(model.kept[d][0].file == f1);
    CHECK(pool.file_of(d) == f1);

    // A branch of conversation 2 that keeps less than half of it: starts from f2, saves to a
    // file of its own (f2 stays whole for conversation 2).
    std::vector<std::int32_t> branch(back.begin(), back.begin() + 150);
    branch.push_back(777);
    const auto e = pool.take(branch);
    REQUIRE(model.kept[e].size() == 1);
    CHECK(model.kept[e][0].seed == f2);
    CHECK(model.kept[e][0].file != f2);

    // A file taken by a live conversation is only ever a seed: d holds f1.
    const auto again1 = pool.take(back1);
    REQUIRE(model.kept[again1].size() == 1);
    CHECK(model.kept[again1][0].seed == f1);
    CHECK(model.kept[again1][0].file != f1);

    // Too little shared (below kMinSeedTokens) is not worth reading a file for.
    std::vector<std::int32_t> little(p1.begin(), p1.begin() + 10);
    little.push_back(4242);
    const auto g = pool.take(little);
    REQUIRE(model.kept[g].size() == 1);
    CHECK(model.kept[g][0].seed.empty());

    // A file removed since (the disk budget) is skipped for the next best.
    fs::remove(f2);
    const auto h = pool.take(branch);
    REQUIRE(model.kept[h].size() == 1);
    CHECK(model.kept[h][0].seed == f1);  // shares the instructions
}
