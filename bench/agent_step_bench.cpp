// Agent step overhead: the runtime's own cost per model turn (render the prompt through the
// context window, parse the streamed tokens, dispatch the call, commit message + events to
// sqlite, start the next generation), measured with the replay model (a scripted token
// source, so no model time) and the workspace list_files tool (microseconds). Prints the
// median per-step time early in a session and late (a longer conversation to render).
//   gossamer_bench_agent_step [--steps N] [--runs R]
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "harmony/special_tokens.h"
#include "runtime/agent_loop.h"
#include "runtime/replay_model.h"
#include "tools/workspace_files.h"

namespace rt = gossamer::runtime;
using Clock = std::chrono::steady_clock;

namespace {

struct StepClock final : rt::EventSink {
    std::vector<double> step_ms;  // time between consecutive tool.finished events
    Clock::time_point last = Clock::now();
    void on_event(const rt::Event& e) override {
        if (!e.as<rt::ToolFinished>()) return;
        const auto now = Clock::now();
        step_ms.push_back(std::chrono::duration<double, std::milli>(now - last).count());
        last = now;
    }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// One session of `steps` calls; returns per-step times.
std::vector<double> session(int steps, const std::filesystem::path& dir) {
    boost::asio::io_context io;
    rt::SessionStore store(dir / "bench.db");
    rt::ToolRegistry tools;
    tools.add(std::make_shared<gossamer::tools::WorkspaceFiles>());
    rt::ReplayModel model(io, [steps](const std::vector<std::int32_t>& prompt) {
        std::size_t calls = 0;
        for (auto t : prompt)
            calls += t == static_cast<std::int32_t>(gossamer::harmony::tok::kCall);
        if (calls >= static_cast<std::size_t>(steps))
            return std::string("<|channel|>final<|message|>done<|return|>");
        // Alternating arguments keep the loop guard quiet.
        return std::string("<|channel|>analysis<|message|>Step ") + std::to_string(calls) +
               ": list the files again to check.<|end|><|start|>assistant "
               "to=functions.list_files<|channel|>commentary "
               "<|constrain|>json<|message|>{\"path\":\"" +
               (calls % 2 ? "." : "./") + "\"}<|call|>";
    });
    rt::AgentSpec spec;
    spec.name = "bench";
    spec.task = "List the files many times.";
    spec.limits.max_turns = steps + 5;
    rt::SessionRecord record;
    const auto id = store.create(record);
    store.transaction([&] {
        for (const auto& m : rt::opening_messages(spec, tools, "2026-11-30"))
            store.append_message(id, m, 0);
    });
    rt::AgentSettings settings;
    settings.session_id = id;
    settings.limits = spec.limits;
    settings.workspace = dir;
    StepClock clock;
    auto loop = std::make_shared<rt::AgentLoop>(io, model, tools, store, clock, settings);
    loop->run([](const rt::Outcome&) {});
    io.run();
    return clock.step_ms;
}

}  // namespace

int main(int argc, char** argv) {
    int steps = 200, runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
    }
    const auto dir = std::filesystem::temp_directory_path() / "gossamer_agent_step_bench";
    std::vector<double> early, late, all;
    for (int r = 0; r < runs; ++r) {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        const auto ms = session(steps, dir);
        const std::size_t tenth = ms.size() / 10;
        early.push_back(
            median({ms.begin() + 1, ms.begin() + static_cast<std::ptrdiff_t>(tenth + 1)}));
        late.push_back(median({ms.end() - static_cast<std::ptrdiff_t>(tenth), ms.end()}));
        all.push_back(median(ms));
    }
    std::filesystem::remove_all(dir);
    std::printf("steps_per_session=%d runs=%d\n", steps, runs);
    std::printf("step_ms_median=%.3f\nstep_ms_first_tenth=%.3f\nstep_ms_last_tenth=%.3f\n",
                median(all), median(early), median(late));
    return 0;
}
