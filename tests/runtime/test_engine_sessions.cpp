// Several agent sessions in one process sharing one engine (no test double): a random
// checkpoint of the real vocabulary (preset nano) on the real CPU backend behind
// EngineClient; two agent loops on one event loop submit to it at the same time (the
// scheduler batches whatever is ready) and both end cleanly within their budgets, each
// stored in sqlite. And a session continued by a new process from its saved KV cache writes
// the same turn as one that recomputes it.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>

#include "engine/checkpoint_writer.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/kv_file.h"
#include "engine/model_config.h"
#include "runtime/engine_client.h"
#include "tests/runtime/agent_harness.h"

using namespace gossamer;

TEST_CASE("engine sessions: two agents share one engine concurrently and both end cleanly") {
    test::TempDir dir("engine_sessions");
    engine::CheckpointWriteOptions options;
    options.seed = 11;
    engine::write_random_checkpoint(engine::config_preset("nano"), dir.path / "nano", options);
    const auto weights = engine::load_weights(dir.path / "nano");
    auto backend = engine::cpu::make_cpu_backend(weights);

    boost::asio::io_context io;
    runtime::SessionStore store(dir.path / "s.db");
    runtime::ToolRegistry tools;
    tools.add(std::make_shared<tools::WorkspaceFiles>());
    test::RecordingSink sink;
    engine::SchedulerOptions scheduler;
    scheduler.max_context = 4096;
    runtime::EngineClient model(*backend, io.get_executor(), scheduler);

    runtime::AgentSpec spec;
    spec.name = "shared";
    spec.limits.max_turns = 2;
    spec.limits.max_output_tokens = 48;
    spec.model.sampling.seed = 3;
    std::vector<std::shared_ptr<runtime::AgentLoop>> loops;
    std::vector<std::string> ids;
    int finished = 0;
    for (int i = 0; i < 2; ++i) {
        spec.task = i == 0 ? "What is 2 + 2?" : "Name three colours.";
        runtime::SessionRecord record;
        const auto id = store.create(record);
        ids.push_back(id);
        store.transaction([&] {
            for (const auto& m : runtime::opening_messages(spec, tools, "2026-11-30"))
                store.append_message(id, m, 0);
        });
        runtime::AgentSettings settings;
        settings.session_id = id;
        settings.sampling = spec.model.sampling;
        settings.limits = spec.limits;
        settings.workspace = dir.path;
        settings.context.window = 4096;
        loops.push_back(
            std::make_shared<runtime::AgentLoop>(io, model, tools, store, sink, settings));
        loops.back()->run([&](const runtime::Outcome& o) {
            CHECK((o.reason == runtime::StopReason::Final ||
                   o.reason == runtime::StopReason::MaxTurns ||
                   o.reason == runtime::StopReason::MaxOutputTokens));
            CHECK(o.output_tokens <= 48);
            if (++finished == 2) io.stop();
        });
    }
    io.run();
    REQUIRE(finished == 2);
    // Each session generated on the shared engine, and its steps are in the store.
    for (const auto& id : ids) {
        int generations = 0;
        for (const auto& e : store.events(id)) generations += e.kind == "generation";
        CHECK(generations >= 1);
    }
    for (const auto& id : ids) CHECK(store.find(id)->status != "running");
    loops.clear();
}

namespace {

// One agent process on `checkpoint`: a backend, an EngineClient, and one run of the stored
// session `id` in `store_path` to its end. Returns the session's generation events.
std::vector<runtime::GenerationDone> run_process(const std::filesystem::path& checkpoint,
                                                 const std::filesystem::path& store_path,
                                                 const std::string& id,
                                                 const runtime::AgentSpec& spec,
                                                 const std::filesystem::path& kv_file,
                                                 std::vector<std::string>* warnings = nullptr) {
    const auto weights = engine::load_weights(checkpoint);
    auto backend = engine::cpu::make_cpu_backend(weights, {.threads = 2});
    boost::asio::io_context io;
    runtime::SessionStore store(store_path);
    runtime::ToolRegistry tools;
    test::RecordingSink sink;
    engine::SchedulerOptions scheduler;
    scheduler.max_context = 4096;
    runtime::EngineClient model(*backend, io.get_executor(), scheduler);
    const auto sample = backend->new_cache(1);
    model.set_kv_disk(engine::kv_identity(engine::fingerprint(weights), *backend, *sample),
                      std::uint64_t{1} << 30);
    runtime::AgentSettings settings;
    settings.session_id = id;
    settings.sampling = spec.model.sampling;
    settings.limits = spec.limits;
    settings.workspace = store_path.parent_path() / ("ws-" + store_path.stem().string());
    std::filesystem::create_directories(settings.workspace);
    settings.kv_file = kv_file;
    settings.context.window = 4096;
    auto loop = std::make_shared<runtime::AgentLoop>(io, model, tools, store, sink, settings);
    loop->run([&](const runtime::Outcome& o) {
        MESSAGE("outcome: " << std::string(runtime::to_string(o.reason)) << " " << o.error);
        io.stop();
    });
    io.run();
    std::vector<runtime::GenerationDone> out;
    for (const auto& e : sink.events) {
        if (const auto* g = e.as<runtime::GenerationDone>()) out.push_back(*g);
        if (const auto* w = e.as<runtime::Warning>(); w && warnings) warnings->push_back(w->what);
    }
    return out;
}

}  // namespace

TEST_CASE("engine sessions: a new process continues from the session's saved KV cache") {
    test::TempDir dir("engine_sessions_kv");
    engine::CheckpointWriteOptions options;
    options.seed = 12;
    engine::write_random_checkpoint(engine::config_preset("nano"), dir.path / "nano", options);
    const auto kv = dir.path / "kv" / "s.gkv";

    runtime::AgentSpec spec;
    spec.task = "What is 2 + 2?";
    spec.limits.max_turns = 1;
    spec.limits.max_output_tokens = 24;
    spec.model.sampling.seed = 5;
    std::string id;
    {
        runtime::SessionStore store(dir.path / "s.db");
        runtime::ToolRegistry tools;
        runtime::SessionRecord record;
        id = store.create(record);
        store.transaction([&] {
            for (const auto& m : runtime::opening_messages(spec, tools, "2026-12-06"))
                store.append_message(id, m, 0);
        });
    }
    // Process 1: one turn (stopped by the budget), the cache saved after it.
    const auto first = run_process(dir.path / "nano", dir.path / "s.db", id, spec, kv);
    REQUIRE(first.size() == 1);
    CHECK(first[0].restored_tokens == 0);
    CHECK(first[0].kv_bytes_written > 0);
    REQUIRE(std::filesystem::exists(kv));

    // The same stored state twice: continued by a process with the saved cache, and by one
    // without it. Both must write the same next turn.
    std::filesystem::copy_file(dir.path / "s.db", dir.path / "plain.db");
    spec.limits.max_turns = 2;
    spec.limits.max_output_tokens = 48;
    std::vector<std::string> warnings;
    const auto with_cache =
        run_process(dir.path / "nano", dir.path / "s.db", id, spec, kv, &warnings);
    const auto without = run_process(dir.path / "nano", dir.path / "plain.db", id, spec, {});
    REQUIRE(with_cache.size() == 1);
    REQUIRE(without.size() == 1);
    for (const auto& w : warnings) MESSAGE("warning: " << w);
    CHECK(warnings.empty());
    MESSAGE("turn 2: " << with_cache[0].prompt_tokens << " prompt tokens, "
                       << with_cache[0].restored_tokens << " restored from disk");
    CHECK(with_cache[0].restored_tokens > first[0].prompt_tokens / 2);
    CHECK(with_cache[0].cached_tokens == with_cache[0].restored_tokens);
    CHECK(without[0].restored_tokens == 0);
    CHECK(without[0].cached_tokens == 0);
    CHECK(with_cache[0].prompt_tokens == without[0].prompt_tokens);
    CHECK(with_cache[0].output_tokens == without[0].output_tokens);
    runtime::SessionStore a(dir.path / "s.db"), b(dir.path / "plain.db");
    const auto ma = a.messages(id), mb = b.messages(id);
    REQUIRE(ma.size() == mb.size());
    for (std::size_t i = 0; i < ma.size(); ++i)
        CHECK(ma[i].message.text_content() == mb[i].message.text_content());

    // A damaged cache: a warning event, and the same turn again from scratch.
    {
        std::fstream f(kv, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(200);
        f.put('\x7f');
    }
    std::filesystem::copy_file(dir.path / "plain.db", dir.path / "damaged.db");
    warnings.clear();
    spec.limits.max_turns = 3;
    spec.limits.max_output_tokens = 72;
    const auto damaged =
        run_process(dir.path / "nano", dir.path / "damaged.db", id, spec, kv, &warnings);
    REQUIRE(damaged.size() == 1);
    CHECK(damaged[0].restored_tokens == 0);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("not used") != std::string::npos);
}
