// Compaction (runtime/compaction.h): the pure parts (which messages stay, the view, the
// summary), and the agent loop driven by a scripted replay model (a test double at the engine
// boundary) through a 300-step session in a 4096-token window: compaction turns keep every
// prompt inside the window, the original task is in every prompt, the full transcript stays
// in the store, and a resumed run rebuilds the compacted view from the stored event.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "runtime/compaction.h"
#include "tests/runtime/agent_harness.h"

using namespace gossamer;
using harmony::Message;
using harmony::Role;
using test::AgentHarness;
using test::decode;

namespace {

Message call(const std::string& text) {
    auto m = Message::text(Role::assistant, text);
    m.recipient = "functions.read_file";
    m.channel = "commentary";
    return m;
}

Message result(const std::string& text) {
    auto m = Message::text(Role::tool, text);
    m.name = "functions.read_file";
    return m;
}

std::vector<Message> conversation() {
    return {Message::text(Role::system, "sys"),
            Message::text(Role::developer, "dev"),
            Message::text(Role::user, "the task"),
            call("1"),
            result("r1"),
            call("2"),
            result("r2"),
            Message::text(Role::user, "more"),
            call("3"),
            result("r3")};
}

}  // namespace

TEST_CASE("compaction: the head, where the kept part starts, the view and the summary") {
    const auto m = conversation();
    CHECK(runtime::compaction_head(m) == 3);
    auto ten = [](std::size_t) { return 10; };
    // 30 tokens keep the last three messages, moved forward to a whole turn: the user message
    // at 7 starts one, so 7..9 stay.
    CHECK(runtime::compaction_keep_from(m, ten, 30) == 7);
    // 25 tokens: the call at 8 and its result; the call follows a user message: a turn.
    CHECK(runtime::compaction_keep_from(m, ten, 25) == 8);
    // 15 tokens would start on a tool result: moved past it, keeping nothing.
    CHECK(runtime::compaction_keep_from(m, ten, 15) == 10);
    // A budget for everything never goes into the head.
    CHECK(runtime::compaction_keep_from(m, ten, 1000) == 3);

    const auto view = runtime::compacted_view(m, {10, 7, "did 1 and 2"});
    REQUIRE(view.size() == 3 + 1 + 3);
    CHECK(view[2].text_content() == "the task");
    CHECK(view[3].role == Role::user);
    CHECK(view[3].text_content().find("did 1 and 2") != std::string::npos);
    CHECK(view[4].text_content() == "more");

    auto analysis = Message::text(Role::assistant, "thinking");
    analysis.channel = "analysis";
    auto final_answer = Message::text(Role::assistant, "the summary");
    final_answer.channel = "final";
    CHECK(runtime::compaction_summary({analysis, final_answer}) == "the summary");
    CHECK(runtime::compaction_summary({analysis}) == "thinking");
    CHECK(runtime::compaction_summary({call("x")}).empty());
    CHECK(runtime::compaction_request().text_content().find("compacted") != std::string::npos);
}

TEST_CASE("compaction: a 300-step session stays in its window and always has its task") {
    const std::string task = "Read notes.txt again and again (task 7f3a: keep reading).";
    int compactions_asked = 0;
    AgentHarness h(
        [&](const std::vector<std::int32_t>& prompt) -> std::string {
            const std::string text = decode(prompt);
            if (text.find("is about to be compacted") != std::string::npos) {
                ++compactions_asked;
                return "<|channel|>analysis<|message|>Summarise.<|end|><|start|>assistant"
                       "<|channel|>final<|message|>Summary " +
                       std::to_string(compactions_asked) +
                       ": read notes.txt many times; it has 40 lines.<|return|>";
            }
            return " to=functions.read_file<|channel|>commentary json<|message|>"
                   "{\"path\":\"notes.txt\"}<|call|>";
        },
        4096);
    h.spec.task = task;
    h.spec.limits.max_turns = 300;
    h.settings.context.compact_at = 0.8;
    {
        std::ofstream out(h.settings.workspace / "notes.txt");
        for (int i = 0; i < 40; ++i) out << "line " << i << " of the notes, with a few words\n";
    }
    const auto id = h.create_session();
    const auto outcome = h.run(id);
    CHECK(outcome.reason == runtime::StopReason::MaxTurns);
    CHECK(outcome.turns == 300);

    const auto& prompts = h.model->prompts();
    REQUIRE(prompts.size() == 300 + static_cast<std::size_t>(compactions_asked));
    for (const auto& p : prompts) {
        CHECK(p.size() <= 4096);
        CHECK(decode(p).find(task) != std::string::npos);
    }
    const auto compacted = h.sink.of("context.compacted");
    MESSAGE(compacted.size() << " compactions in 300 steps");
    CHECK(compacted.size() >= 5);
    CHECK(static_cast<int>(compacted.size()) == compactions_asked);
    for (const auto& e : compacted) {
        const auto* c = e.as<runtime::ContextCompacted>();
        CHECK(c->tokens_after < c->tokens_before);
        CHECK(c->summary.find("read notes.txt many times") != std::string::npos);
    }
    // No trimming was needed: compaction came first.
    CHECK(h.sink.of("context.trimmed").empty());
    // The full transcript stays in the store: 300 calls and their 300 results.
    CHECK(h.store.messages(id).size() == 3 + 600);

    // A resumed run sees the compacted view from the stored event: the last summary and the task.
    const auto last = *compacted.back().as<runtime::ContextCompacted>();
    h.spec.limits.max_turns = 301;
    const auto before = prompts.size();
    h.run(id);
    REQUIRE(h.model->prompts().size() > before);
    const auto resumed = decode(h.model->prompts()[before]);
    CHECK(resumed.find(last.summary) != std::string::npos);
    CHECK(resumed.find(task) != std::string::npos);
    CHECK(h.model->prompts()[before].size() <= 4096);
}

TEST_CASE("compaction: a turn that writes no summary falls back to trimming, with a warning") {
    AgentHarness h(
        [](const std::vector<std::int32_t>&) -> std::string {
            return " to=functions.read_file<|channel|>commentary json<|message|>"
                   "{\"path\":\"notes.txt\"}<|call|>";
        },
        4096);
    h.spec.limits.max_turns = 60;
    h.settings.context.compact_at = 0.8;
    {
        std::ofstream out(h.settings.workspace / "notes.txt");
        for (int i = 0; i < 40; ++i) out << "line " << i << " of the notes, with a few words\n";
    }
    const auto outcome = h.run();
    CHECK(outcome.reason == runtime::StopReason::MaxTurns);
    for (const auto& p : h.model->prompts()) CHECK(p.size() <= 4096);
    CHECK(h.sink.of("context.compacted").empty());
    bool warned = false;
    for (const auto& e : h.sink.of("warning"))
        warned = warned || e.as<runtime::Warning>()->what.find("no summary") != std::string::npos;
    CHECK(warned);
    CHECK(!h.sink.of("context.trimmed").empty());
}
