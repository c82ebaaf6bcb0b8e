// The KV cache kept on disk (engine/kv_file.h) through the scheduler, on the golden tiny-moe
// checkpoints: a new scheduler (a new process) restores what an earlier one saved and
// continues exactly as if it had computed everything; a damaged, truncated, foreign or
// outdated file is detected, reported and recomputed, never trusted; sliding layers are cut
// back where their ring lacks positions; the disk budget removes the least recently used.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/kv_file.h"
#include "engine/scheduler.h"
#include "engine/weights.h"
#include "tests/support/golden.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_moe.h"

using namespace gossamer::engine;
using gossamer::test::golden;
using gossamer::test::read_raw;
using gossamer::test::TempDir;
namespace fs = std::filesystem;

namespace {

const Weights& tiny() {
    return gossamer::test::tiny_moe();
}
const Weights& tiny_long() {
    return gossamer::test::tiny_moe("tiny-moe-long");
}
std::vector<TokenId> prompt() {
    return gossamer::test::tiny_moe_prompt();
}
using gossamer::test::greedy_request;
using gossamer::test::tokens_of;

// One "process": a backend, a scheduler and a sequence kept in `file`.
struct Process {
    std::unique_ptr<Backend> backend;
    std::unique_ptr<Scheduler> scheduler;
    SequenceId seq = 0;
    std::shared_ptr<KvFile> file;
    Process(const Weights& w, const fs::path& path, cpu::CpuOptions options = {},
            std::optional<KvDiskBudget> budget = std::nullopt) {
        backend = cpu::make_cpu_backend(w, options);
        scheduler = std::make_unique<Scheduler>(*backend);
        seq = scheduler->open();
        const auto sample = backend->new_cache(1);
        file =
            std::make_shared<KvFile>(path, kv_identity(fingerprint(w), *backend, *sample), budget);
        scheduler->persist(seq, file);
    }
    GenerateResult run(std::vector<TokenId> tokens, int max_tokens) {
        return generate_now(*scheduler, seq, greedy_request(std::move(tokens), max_tokens));
    }
};

// The same request in a process that keeps nothing: what every restored run must equal.
GenerateResult fresh(const Weights& w, std::vector<TokenId> tokens, int max_tokens,
                     cpu::CpuOptions options = {}) {
    auto backend = cpu::make_cpu_backend(w, options);
    Scheduler scheduler(*backend);
    return generate_now(scheduler, scheduler.open(), greedy_request(std::move(tokens), max_tokens));
}

void same_output(const GenerateResult& got, const GenerateResult& want) {
    REQUIRE(got.samples.size() == want.samples.size());
    CHECK(tokens_of(got) == tokens_of(want));
    for (std::size_t i = 0; i < got.samples.size(); ++i)
        CHECK(std::fabs(got.samples[i].logprob - want.samples[i].logprob) < 1e-4);
}

std::vector<TokenId> with(std::vector<TokenId> head, const std::vector<TokenId>& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
}

void flip_byte(const fs::path& file, std::uint64_t at) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(at));
    f.write(&c, 1);
}

}  // namespace

TEST_CASE("kv file: a new process restores the saved cache and continues identically") {
    TempDir dir("kvfile");
    const fs::path path = dir.path / "s.gkv";
    std::vector<TokenId> turn1_out;
    {
        Process p(tiny(), path);
        const auto r = p.run(prompt(), 12);
        turn1_out = tokens_of(r);
        CHECK(r.final_event.stats.restored_tokens == 0);
        CHECK(r.final_event.stats.kv_bytes_written > 0);
        CHECK(r.final_event.stats.kv_warnings.empty());
        CHECK(fs::file_size(path) == r.final_event.stats.kv_bytes_written);
    }
    // The next turn, in a new process: the prompt, the answer, and a new user message.
    const auto next = with(with(prompt(), turn1_out), {5, 6, 7});
    Process p(tiny(), path);
    const auto r = p.run(next, 8);
    CHECK(r.final_event.stats.restored_tokens == 64 + 11);  // all but the unfed last sample
    CHECK(r.final_event.stats.reused_tokens == 64 + 11);
    CHECK(r.final_event.stats.kv_warnings.empty());
    same_output(r, fresh(tiny(), next, 8));
    // Only what is new was appended: 3 + 1 prompt tokens and 7 generated ones fed.
    const auto bytes_before = fs::file_size(path) - r.final_event.stats.kv_bytes_written;
    CHECK(r.final_event.stats.kv_bytes_written < bytes_before / 4);
}

TEST_CASE("kv file: a branch starts from another file (its seed), which stays as it was") {
    TempDir dir("kvfile");
    const fs::path trunk = dir.path / "trunk.gkv", branch = dir.path / "branch.gkv";
    std::vector<TokenId> trunk_tokens;
    {
        Process p(tiny(), trunk);
        trunk_tokens = with(prompt(), tokens_of(p.run(prompt(), 12)));
    }
    trunk_tokens.pop_back();  // the last sample is never fed
    const auto trunk_bytes = fs::file_size(trunk);
    {  // the tokens a file holds, read without its rows; none for a foreign identity
        const auto backend = cpu::make_cpu_backend(tiny(), {});
        KvFile file(trunk, kv_identity(fingerprint(tiny()), *backend, *backend->new_cache(1)));
        CHECK(file.saved_tokens() == trunk_tokens);
        CHECK(KvFile(trunk, "another model").saved_tokens().empty());
        CHECK(KvFile(dir.path / "missing.gkv", "x").saved_tokens().empty());
    }
    // Another conversation sharing the first 40 tokens: restored from the trunk, saved whole
    // into its own file; the trunk is untouched and still restores fully.
    const auto base = prompt();
    std::vector<TokenId> other(base.begin(), base.begin() + 40);
    for (TokenId t : {9, 8, 7, 6, 5}) other.push_back(t);
    {
        Process p(tiny(), branch);
        p.file->set_seed(trunk);
        const auto r = p.run(other, 6);
        CHECK(r.final_event.stats.restored_tokens == 40);
        CHECK(r.final_event.stats.kv_warnings.empty());
        same_output(r, fresh(tiny(), other, 6));
        CHECK(fs::file_size(branch) == r.final_event.stats.kv_bytes_written);
    }
    CHECK(fs::file_size(trunk) == trunk_bytes);
    {  // the branch's own file now wins over its seed
        Process p(tiny(), branch);
        p.file->set_seed(trunk);
        const auto r = p.run(with(other, {1, 2}), 4);
        CHECK(r.final_event.stats.restored_tokens == static_cast<int>(other.size()));
    }
    Process p(tiny(), trunk);
    CHECK(p.run(with(trunk_tokens, {1}), 2).final_event.stats.restored_tokens ==
          static_cast<int>(trunk_tokens.size()));
    // A seed that is damaged is a warning and a recompute, as for a file of one's own.
    flip_byte(trunk, trunk_bytes / 2);  // in the first record
    Process q(tiny(), dir.path / "third.gkv");
    q.file->set_seed(trunk);
    const auto r = q.run(other, 3);
    CHECK(r.final_event.stats.restored_tokens == 0);
    CHECK_FALSE(r.final_event.stats.kv_warnings.empty());
    same_output(r, fresh(tiny(), other, 3));
}

TEST_CASE("kv file: damaged, truncated, foreign and outdated files are never trusted") {
    TempDir dir("kvfile");
    const fs::path path = dir.path / "s.gkv";
    std::vector<TokenId> out1, out2;
    std::uint64_t first_record_end = 0;
    {
        Process p(tiny(), path);
        out1 = tokens_of(p.run(prompt(), 6));
        first_record_end = fs::file_size(path);
        out2 = tokens_of(p.run(with(with(prompt(), out1), {9, 9}), 6));
        REQUIRE(fs::file_size(path) > first_record_end);  // a second record was appended
    }
    const auto turn3 = with(with(with(with(prompt(), out1), {9, 9}), out2), {4});
    const auto want = fresh(tiny(), turn3, 5);
    const fs::path pristine = dir.path / "pristine.gkv";
    fs::copy_file(path, pristine);
    auto reset = [&] { fs::copy_file(pristine, path, fs::copy_options::overwrite_existing); };

    SUBCASE("a flipped byte in the first record: nothing is used") {
        flip_byte(path, first_record_end / 2);
        Process p(tiny(), path);
        const auto r = p.run(turn3, 5);
        CHECK(r.final_event.stats.restored_tokens == 0);
        REQUIRE(r.final_event.stats.kv_warnings.size() == 1);
        CHECK(r.final_event.stats.kv_warnings[0].find("checksum") != std::string::npos);
        same_output(r, want);
        // The file was rewritten whole from what this process computed: valid again.
        Process q(tiny(), path);
        CHECK(q.run(turn3, 5).final_event.stats.restored_tokens ==
              static_cast<int>(turn3.size()) - 1);
    }
    SUBCASE("a flipped byte in the second record: the first is used") {
        flip_byte(path, first_record_end + 100);
        Process p(tiny(), path);
        const auto r = p.run(turn3, 5);
        CHECK(r.final_event.stats.restored_tokens == 64 + 5);
        REQUIRE(r.final_event.stats.kv_warnings.size() == 1);
        CHECK(r.final_event.stats.kv_warnings[0].find("only partly used") != std::string::npos);
        same_output(r, want);
    }
    SUBCASE("cut short (a crash while saving): the whole records before the cut are used") {
        fs::resize_file(path, fs::file_size(path) - 10);
        Process p(tiny(), path);
        const auto r = p.run(turn3, 5);
        CHECK(r.final_event.stats.restored_tokens == 64 + 5);
        REQUIRE(r.final_event.stats.kv_warnings.size() == 1);
        CHECK(r.final_event.stats.kv_warnings[0].find("cut short") != std::string::npos);
        same_output(r, want);
        reset();
        fs::resize_file(path, 20);  // not even a header
        Process q(tiny(), path);
        const auto r2 = q.run(turn3, 5);
        CHECK(r2.final_event.stats.restored_tokens == 0);
        CHECK(r2.final_event.stats.kv_warnings.size() == 1);
        same_output(r2, want);
    }
    SUBCASE("another model: not used") {
        Process p(tiny_long(), path);
        const auto r = p.run({1, 2, 3}, 2);
        CHECK(r.final_event.stats.restored_tokens == 0);
        REQUIRE(r.final_event.stats.kv_warnings.size() == 1);
        CHECK(r.final_event.stats.kv_warnings[0].find("another model") != std::string::npos);
        same_output(r, fresh(tiny_long(), {1, 2, 3}, 2));
    }
    SUBCASE("another precision: not used") {
        Process p(tiny(), path, {.kv_precision = KvPrecision::Fp32});
        const auto r = p.run(turn3, 5);
        CHECK(r.final_event.stats.restored_tokens == 0);
        REQUIRE(r.final_event.stats.kv_warnings.size() == 1);
        same_output(r, fresh(tiny(), turn3, 5, {.kv_precision = KvPrecision::Fp32}));
    }
    SUBCASE("other activations (experts or dense): not used") {
        for (const cpu::CpuOptions& other :
             {cpu::CpuOptions{.expert_activations = Mxfp4Activations::Int8},
              cpu::CpuOptions{.dense_activations = DenseActivations::Bf16}}) {
            CAPTURE(std::string(to_string(other.expert_activations)));
            CAPTURE(std::string(to_string(other.dense_activations)));
            reset();  // the cache the default (fp32) processes wrote
            Process p(tiny(), path, other);
            const auto r = p.run(turn3, 5);
            CHECK(r.final_event.stats.restored_tokens == 0);
            REQUIRE(r.final_event.stats.kv_warnings.size() == 1);
            same_output(r, fresh(tiny(), turn3, 5, other));
            // Its own cache, written under those activations, is used by the next such process.
            Process q(tiny(), path, other);
            const auto r2 = q.run(turn3, 5);
            CHECK(r2.final_event.stats.restored_tokens == static_cast<int>(turn3.size()) - 1);
            same_output(r2, fresh(tiny(), turn3, 5, other));
        }
    }
    SUBCASE("an edited conversation: only the common prefix is used") {
        auto edited = turn3;
        edited[40] = edited[40] == 3 ? 4 : 3;
        Process p(tiny(), path);
        const auto r = p.run(edited, 5);
        CHECK(r.final_event.stats.restored_tokens == 40);
        CHECK(r.final_event.stats.kv_warnings.empty());
        same_output(r, fresh(tiny(), edited, 5));
        // The saved record cut the file at 40: the next process sees the edited history.
        Process q(tiny(), path);
        const auto r2 = q.run(edited, 5);
        CHECK(r2.final_event.stats.restored_tokens == static_cast<int>(edited.size()) - 1);
        same_output(r2, fresh(tiny(), edited, 5));
    }
    SUBCASE("not a cache file at all") {
        std::ofstream(path, std::ios::trunc) << "hello, this is not a KV cache\n";
        Process p(tiny(), path);
        const auto r = p.run(turn3, 5);
        CHECK(r.final_event.stats.restored_tokens == 0);
        REQUIRE(r.final_event.stats.kv_warnings.size() == 1);
        CHECK(r.final_event.stats.kv_warnings[0].find("not a gossamer KV cache") !=
              std::string::npos);
        same_output(r, want);
    }
}

TEST_CASE("kv file: sliding layers save their ring; a restore needs their whole window") {
    TempDir dir("kvfile");
    const fs::path path = dir.path / "s.gkv";
    const auto long_prompt = read_raw<std::int32_t>(golden("tiny-moe-long/prompt.i32"));
    const std::vector<TokenId> head(long_prompt.begin(), long_prompt.begin() + 600);
    const cpu::CpuOptions small_ring{.sliding_slack = 40};  // ring: 16 + 40 positions
    {
        Process p(tiny_long(), path, small_ring);
        p.run(head, 1);
    }
    // Full layers keep 600 positions, sliding ones only their ring: far less than 4 x 600.
    const std::uint64_t row = 2 * 2 * static_cast<std::uint64_t>(tiny_long().config.kv_width());
    CHECK(fs::file_size(path) < row * (2 * 600 + 2 * 56) + 4096);
    CHECK(fs::file_size(path) > row * (2 * 600));

    const std::vector<TokenId> more(long_prompt.begin() + 600, long_prompt.begin() + 640);
    SUBCASE("continuing: everything is restored") {
        Process p(tiny_long(), path, small_ring);
        const auto r = p.run(with(head, more), 4);
        CHECK(r.final_event.stats.restored_tokens == 600);
        same_output(r, fresh(tiny_long(), with(head, more), 4, small_ring));
    }
    SUBCASE("an edit inside the ring: restored up to the edit") {
        auto edited = with(head, more);
        edited[590] = edited[590] == 7 ? 8 : 7;
        Process p(tiny_long(), path, small_ring);
        const auto r = p.run(edited, 4);
        CHECK(r.final_event.stats.restored_tokens == 590);
        same_output(r, fresh(tiny_long(), edited, 4, small_ring));
    }
    SUBCASE("an edit before the ring: the sliding layers lack the window, nothing is used") {
        auto edited = with(head, more);
        edited[300] = edited[300] == 7 ? 8 : 7;
        Process p(tiny_long(), path, small_ring);
        const auto r = p.run(edited, 4);
        CHECK(r.final_event.stats.restored_tokens == 0);
        CHECK(r.final_event.stats.kv_warnings.empty());
        same_output(r, fresh(tiny_long(), edited, 4, small_ring));
    }
}

TEST_CASE("kv file: cut records become dead bytes and a mostly dead file is rewritten") {
    TempDir dir("kvfile");
    const fs::path path = dir.path / "s.gkv";
    Process p(tiny(), path);
    p.file->set_rewrite_floor(0);
    p.run(prompt(), 20);
    const auto whole = fs::file_size(path);
    // A cut each turn (the runtime's case: an earlier turn re-rendered shorter) appends a
    // record and leaves the cut positions dead.
    auto shorter = prompt();
    shorter.resize(60);
    auto r = p.run(shorter, 3);
    CHECK(fs::file_size(path) > whole);
    CHECK(p.file->live_bytes() < p.file->file_bytes());
    // Cut back to the start: most of the file is dead, so it is rewritten whole.
    shorter.resize(8);
    r = p.run(shorter, 3);
    CHECK(r.final_event.stats.kv_warnings.empty());
    CHECK(p.file->live_bytes() == p.file->file_bytes());
    CHECK(fs::file_size(path) < whole / 4);
    CHECK(!fs::exists(path.string() + ".tmp"));
    for (int turn = 0; turn < 3; ++turn) {
        shorter = prompt();
        shorter.resize(static_cast<std::size_t>(50 + turn));
        r = p.run(shorter, 3);
        CHECK(r.final_event.stats.kv_warnings.empty());
    }
    Process q(tiny(), path);
    auto last = prompt();
    last.resize(52);
    r = q.run(last, 3);
    CHECK(r.final_event.stats.restored_tokens == 51);
    same_output(r, fresh(tiny(), last, 3));
}

TEST_CASE("kv file: the disk budget removes the least recently used caches, never the active") {
    TempDir dir("kvfile");
    for (const char* name : {"a.gkv", "b.gkv", "c.gkv"}) {
        Process p(tiny(), dir.path / name);
        p.run(prompt(), 4);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::ofstream(dir.path / "notes.txt") << "not a cache";
    const auto one = fs::file_size(dir.path / "a.gkv");
    // Touch a: restored, so recently used; b is now the oldest.
    {
        Process p(tiny(), dir.path / "a.gkv");
        CHECK(p.run(prompt(), 1).final_event.stats.restored_tokens == 63);
    }
    const auto removed = enforce_kv_budget({dir.path, 2 * one + one / 2}, dir.path / "c.gkv");
    REQUIRE(removed.size() == 1);
    CHECK(removed[0].filename() == "b.gkv");
    CHECK(fs::exists(dir.path / "a.gkv"));
    CHECK(fs::exists(dir.path / "c.gkv"));
    CHECK(fs::exists(dir.path / "notes.txt"));
    // A budget smaller than the active file keeps the active one.
    const auto all = enforce_kv_budget({dir.path, 1}, dir.path / "c.gkv");
    CHECK(all.size() == 1);
    CHECK(fs::exists(dir.path / "c.gkv"));
    // Saving enforces the budget it was given and says what went.
    Process p(tiny(), dir.path / "d.gkv", {}, KvDiskBudget{dir.path, one + one / 2});
    const auto r = p.run(prompt(), 2);
    CHECK(fs::exists(dir.path / "d.gkv"));
    CHECK(!fs::exists(dir.path / "c.gkv"));
    REQUIRE(r.final_event.stats.kv_warnings.size() == 1);
    CHECK(r.final_event.stats.kv_warnings[0].find("c.gkv") != std::string::npos);
}

TEST_CASE("kv file: the model fingerprint tells checkpoints apart and is stable") {
    CHECK(fingerprint(tiny()) == fingerprint(tiny()));
    CHECK(fingerprint(tiny()) != fingerprint(tiny_long()));
    CHECK(fingerprint(tiny()).size() == 16);
}
