// Test support for the agent-loop tests: a session in a real sqlite file, the real workspace
// file tool, and the replay model (a test double at the engine boundary) answering each
// prompt from a script. Runs the loop on a real io_context until it finishes.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "harmony/tokenizer.h"
#include "runtime/agent_loop.h"
#include "runtime/replay_model.h"
#include "tests/support/temp_dir.h"
#include "tools/workspace_files.h"

namespace gossamer::test {

struct RecordingSink final : runtime::EventSink {
    std::vector<runtime::Event> events;
    void on_event(const runtime::Event& e) override { events.push_back(e); }
    std::vector<runtime::Event> of(const std::string& kind) const {
        std::vector<runtime::Event> out;
        for (const auto& e : events)
            if (e.kind() == kind) out.push_back(e);
        return out;
    }
};

inline std::string decode(const std::vector<std::int32_t>& ids) {
    std::vector<harmony::Token> t(ids.begin(), ids.end());
    return harmony::Tokenizer::o200k_harmony().decode(t);
}

inline std::size_t count(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1))
        ++n;
    return n;
}

struct AgentHarness {
    TempDir dir{"agent"};
    boost::asio::io_context io;
    runtime::SessionStore store{dir.path / "sessions.db"};
    runtime::ToolRegistry tools;
    RecordingSink sink;
    runtime::AgentSpec spec;
    runtime::AgentSettings settings;
    std::unique_ptr<runtime::ReplayModel> model;

    explicit AgentHarness(runtime::ReplayModel::Script script, int window = 131072) {
        tools.add(std::make_shared<tools::WorkspaceFiles>());
        model = std::make_unique<runtime::ReplayModel>(io, std::move(script), window);
        spec.name = "test";
        spec.task = "Do the task.";
        spec.instructions = "Be brief.";
        settings.workspace = dir.path / "workspace";
        std::filesystem::create_directories(settings.workspace);
        settings.context.window = window;
    }

    std::string create_session() {
        runtime::SessionRecord record;
        record.name = spec.name;
        record.model = "replay (test double)";
        const auto id = store.create(record);
        store.transaction([&] {
            for (const auto& m : runtime::opening_messages(spec, tools, "2026-11-30"))
                store.append_message(id, m, 0);
        });
        return id;
    }

    runtime::Outcome run(const std::string& session) {
        settings.session_id = session;
        settings.limits = spec.limits;
        auto loop = std::make_shared<runtime::AgentLoop>(io, *model, tools, store, sink, settings);
        runtime::Outcome outcome;
        bool done = false;
        loop->run([&](const runtime::Outcome& o) { outcome = o, done = true; });
        io.restart();
        io.run();
        REQUIRE(done);
        return outcome;
    }

    runtime::Outcome run() { return run(create_session()); }
};

}  // namespace gossamer::test
