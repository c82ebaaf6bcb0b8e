// The agent loop driven by the replay model (a test double at the engine boundary: scripted
// harmony text instead of sampled tokens), with the real workspace tool, a real sqlite
// store and a real event loop: multi-step tool use in both header forms, every kind of bad
// call, the loop guard, budgets, context trimming and resuming an interrupted call.
#include <doctest/doctest.h>

#include <fstream>

#include "harmony/renderer.h"
#include "tests/runtime/agent_harness.h"
#include "tests/support/golden.h"

using namespace gossamer;
using gossamer::test::AgentHarness;
using gossamer::test::count;
using gossamer::test::decode;

namespace {

// Response k to a prompt that holds k tool calls (as `gossamer run --replay` does).
runtime::ReplayModel::Script by_calls(std::vector<std::string> responses) {
    return [responses](const std::vector<std::int32_t>& prompt) {
        std::size_t calls = 0;
        for (auto t : prompt) calls += t == static_cast<std::int32_t>(harmony::tok::kCall);
        return responses[std::min(calls, responses.size() - 1)];
    };
}

std::vector<harmony::Message> stored(AgentHarness& h, const std::string& id) {
    std::vector<harmony::Message> out;
    for (auto& m : h.store.messages(id)) out.push_back(m.message);
    return out;
}

std::vector<std::string> tool_results(AgentHarness& h, const std::string& id) {
    std::vector<std::string> out;
    for (auto& m : stored(h, id))
        if (m.role == harmony::Role::tool) out.push_back(m.text_content());
    return out;
}

}  // namespace

TEST_CASE("agent loop: a direct final answer ends the run and is stored") {
    AgentHarness h(
        by_calls({"<|channel|>analysis<|message|>Easy.<|end|><|start|>assistant<|channel|>final<|"
                  "message|>42<|return|>"}));
    const auto id = h.create_session();
    const auto outcome = h.run(id);
    CHECK(outcome.reason == runtime::StopReason::Final);
    CHECK(outcome.final_answer == "42");
    CHECK(outcome.turns == 1);
    const auto messages = stored(h, id);
    REQUIRE(messages.size() == 5);  // system, developer, user, analysis, final
    CHECK(messages[3].channel == "analysis");
    CHECK(messages[4].text_content() == "42");
    const auto record = h.store.find(id);
    CHECK(record->status == "finished");
    CHECK(record->final_answer == "42");
    CHECK(h.sink.of("message.delta").size() >= 2);
    CHECK(h.sink.of("session.finished").size() == 1);
}

TEST_CASE("agent loop: tool calls in both header forms run and their results come back") {
    AgentHarness h(by_calls({
        " to=functions.write_file<|channel|>commentary "
        "<|constrain|>json<|message|>{\"path\":\"notes/a.txt\",\"content\":\"the answer is "
        "7\"}<|call|>",
        "<|channel|>commentary to=functions.read_file "
        "<|constrain|>json<|message|>{\"path\":\"notes/a.txt\"}<|call|>",
        "<|channel|>final<|message|>It says 7.<|return|>",
    }));
    const auto id = h.create_session();
    const auto outcome = h.run(id);
    CHECK(outcome.reason == runtime::StopReason::Final);
    CHECK(outcome.final_answer == "It says 7.");
    std::ifstream file(h.settings.workspace / "notes/a.txt");
    std::string content((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    CHECK(content == "the answer is 7");
    CHECK(tool_results(h, id) ==
          std::vector<std::string>{"wrote 15 bytes to notes/a.txt", "the answer is 7"});

    // What the model was shown is the stored conversation rendered for completion, exactly.
    const auto& prompts = h.model->prompts();
    REQUIRE(prompts.size() == 3);
    harmony::Renderer renderer(harmony::Tokenizer::o200k_harmony());
    auto conversation = stored(h, id);
    conversation.pop_back();  // the final answer came after the last prompt
    const auto expected =
        renderer.render_conversation_for_completion(conversation, harmony::Role::assistant);
    CHECK(std::vector<std::int32_t>(expected.begin(), expected.end()) == prompts[2]);
    CHECK(decode(prompts[2])
              .find("<|start|>functions.read_file to=assistant<|channel|>commentary<|message|>the "
                    "answer is 7<|end|>") != std::string::npos);
    const auto finished = h.sink.of("tool.finished");
    REQUIRE(finished.size() == 2);
    CHECK(finished[0].as<runtime::ToolFinished>()->recipient == "functions.write_file");
    CHECK(finished[1].as<runtime::ToolFinished>()->recipient == "functions.read_file");
    CHECK(h.store.events(id).size() >= 6);  // generation x3, tool.started/finished x2, finished
}

TEST_CASE("agent loop: bad calls become tool errors the model can react to; analysis calls run") {
    AgentHarness h(by_calls({
        " to=functions.nope<|channel|>commentary json<|message|>{}<|call|>",
        " to=functions.read_file<|channel|>commentary json<|message|>{\"path\": <|call|>",
        " to=functions.read_file<|channel|>commentary json<|message|>{\"offset\": 1}<|call|>",
        "<|channel|>analysis to=functions.list_files<|message|>{}<|call|>",
        " to=functions.list_files<|channel|>commentary "
        "json<|message|>{}<|end|><|start|>assistant<|channel|>final<|message|>early<|return|>",
        " to=functions.read_file<|channel|>commentary "
        "json<|message|>{\"path\":\"../../etc/passwd\"}<|call|>",
        "<|channel|>final<|message|>recovered<|return|>",
    }));
    const auto id = h.create_session();
    const auto outcome = h.run(id);
    CHECK(outcome.reason == runtime::StopReason::Final);
    CHECK(outcome.final_answer == "recovered");
    const auto results = tool_results(h, id);
    REQUIRE(results.size() == 6);
    CHECK(results[0].find("there is no tool 'functions.nope'") != std::string::npos);
    CHECK(results[0].find("functions.read_file") != std::string::npos);  // lists what exists
    CHECK(results[1].find("not valid JSON") != std::string::npos);
    CHECK(results[2].find("missing required property \"path\"") != std::string::npos);
    CHECK(results[3].find("Error") == std::string::npos);  // a call on analysis runs
    CHECK(results[4].find("followed by more output") != std::string::npos);
    CHECK(results[5].find("must not contain \"..\"") != std::string::npos);
    const auto finished = h.sink.of("tool.finished");
    for (std::size_t i = 0; i < finished.size(); ++i)
        CHECK(finished[i].as<runtime::ToolFinished>()->ok == (i == 3));
}

TEST_CASE("agent loop: the loop guard refuses a call repeated too often") {
    AgentHarness h(
        by_calls({" to=functions.list_files<|channel|>commentary json<|message|>{}<|call|>"}));
    h.spec.limits.max_turns = 6;
    const auto id = h.create_session();
    const auto outcome = h.run(id);
    CHECK(outcome.reason == runtime::StopReason::MaxTurns);
    const auto results = tool_results(h, id);
    REQUIRE(results.size() == 6);
    for (int i = 0; i < 3; ++i)
        CHECK(results[static_cast<std::size_t>(i)].find("Error") == std::string::npos);
    for (int i = 3; i < 6; ++i)
        CHECK(results[static_cast<std::size_t>(i)].find("times in a row") != std::string::npos);
}

TEST_CASE("agent loop: turn, output-token and wall-time budgets stop cleanly") {
    SUBCASE("max turns") {
        AgentHarness h(by_calls({"<|channel|>analysis<|message|>Still thinking.<|end|>"}));
        h.spec.limits.max_turns = 3;
        const auto outcome = h.run();
        CHECK(outcome.reason == runtime::StopReason::MaxTurns);
        CHECK(outcome.turns == 3);
    }
    SUBCASE("max output tokens") {
        AgentHarness h(by_calls(
            {"<|channel|>analysis<|message|>" + std::string(400, 'x') + " and on and on<|end|>"}));
        h.spec.limits.max_output_tokens = 20;
        const auto id = h.create_session();
        const auto outcome = h.run(id);
        CHECK(outcome.reason == runtime::StopReason::MaxOutputTokens);
        CHECK(outcome.output_tokens == 20);
        CHECK(h.store.find(id)->stop_reason == "max_output_tokens");
    }
    SUBCASE("wall time") {
        gossamer::test::TempDir unused;
        AgentHarness h(
            by_calls({"<|channel|>analysis<|message|>" + std::string(2000, 'y') + "<|end|>"}));
        h.model = std::make_unique<runtime::ReplayModel>(
            h.io, by_calls({"<|channel|>analysis<|message|>" + std::string(3000, 'y') + "<|end|>"}),
            131072, std::chrono::milliseconds(5));
        h.spec.limits.wall_time_seconds = 0.3;
        const auto begun = std::chrono::steady_clock::now();
        const auto outcome = h.run();
        CHECK(outcome.reason == runtime::StopReason::WallTime);
        CHECK(std::chrono::steady_clock::now() - begun < std::chrono::seconds(3));
    }
}

TEST_CASE("agent loop: old tool outputs are trimmed to fit a small window, never exceeding it") {
    AgentHarness h(by_calls({
                       " to=functions.read_file<|channel|>commentary "
                       "json<|message|>{\"path\":\"a.txt\"}<|call|>",
                       " to=functions.read_file<|channel|>commentary "
                       "json<|message|>{\"path\":\"b.txt\"}<|call|>",
                       " to=functions.read_file<|channel|>commentary "
                       "json<|message|>{\"path\":\"c.txt\"}<|call|>",
                       "<|channel|>final<|message|>read them all<|return|>",
                   }),
                   4096);
    for (const char* name : {"a.txt", "b.txt", "c.txt"}) {
        std::ofstream out(h.settings.workspace / name);
        for (int i = 0; i < 120; ++i) out << "line " << i << " of " << name << " with some words\n";
    }
    const auto outcome = h.run();
    CHECK(outcome.reason == runtime::StopReason::Final);
    for (const auto& p : h.model->prompts()) CHECK(p.size() <= 4096);
    REQUIRE(h.sink.of("context.trimmed").size() >= 1);
    CHECK(decode(h.model->prompts().back()).find("to fit the context window]") !=
          std::string::npos);
}

TEST_CASE("agent loop: a call interrupted by a crash is re-run if idempotent, else reported") {
    AgentHarness h(by_calls({"<|channel|>final<|message|>done<|return|>"}));
    const auto id = h.create_session();
    auto call = harmony::Message::text(harmony::Role::assistant, "{}");
    call.recipient = "functions.list_files";
    call.channel = "commentary";
    call.content_type = "<|constrain|>json";
    h.store.transaction([&] {
        h.store.append_message(id, call, 0);
        h.store.append_event(id, "tool.started",
                             {{"message", 3}, {"recipient", "functions.list_files"}});
    });
    CHECK(h.run(id).reason == runtime::StopReason::Final);
    auto results = tool_results(h, id);
    REQUIRE(results.size() == 1);
    CHECK(results[0] == "(empty directory)");
    CHECK(h.sink.of("warning").at(0).as<runtime::Warning>()->what.find("re-running") !=
          std::string::npos);

    AgentHarness g(by_calls({"<|channel|>final<|message|>done<|return|>"}));
    const auto other = g.create_session();
    call.recipient = "functions.gone";  // no such tool any more: cannot be re-run
    g.store.transaction([&] {
        g.store.append_message(other, call, 0);
        g.store.append_event(other, "tool.started",
                             {{"message", 3}, {"recipient", "functions.gone"}});
    });
    CHECK(g.run(other).reason == runtime::StopReason::Final);
    results = tool_results(g, other);
    REQUIRE(results.size() == 1);
    CHECK(results[0].find("interrupted") != std::string::npos);
}
