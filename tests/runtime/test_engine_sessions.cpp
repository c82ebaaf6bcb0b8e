// Several agent sessions in one process sharing one engine (no test double): a random
// checkpoint of the real vocabulary (preset nano) on the real CPU backend behind
// EngineClient; two agent loops on one event loop submit to it at the same time (the
// scheduler batches whatever is ready) and both end cleanly within their budgets, each
// stored in sqlite.
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include "engine/checkpoint_writer.h"
#include "engine/cpu/cpu_backend.h"
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
