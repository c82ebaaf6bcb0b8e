// The typed runtime protocol: every kind's JSON is the documented one (docs/CLI.md
// "Events"), and what the store keeps reads back to the same event.
#include <doctest/doctest.h>

#include <set>

#include "runtime/protocol.h"

namespace rt = gossamer::runtime;
using Json = rt::EventJson;

namespace {

rt::EventBody round_trip(const rt::EventBody& body) {
    const auto back = rt::from_stored(rt::kind_of(body), rt::fields_of(body));
    REQUIRE(back.has_value());
    return *back;
}

}  // namespace

TEST_CASE("protocol: each kind's wire name and fields, and the stored form reads back") {
    const std::vector<std::pair<rt::EventBody, std::string>> cases = {
        {rt::SessionStarted{3, 1}, R"j({"messages":3,"turns":1})j"},
        {rt::MessageStarted{{"assistant", "commentary", "functions.f"}},
         R"j({"role":"assistant","channel":"commentary","recipient":"functions.f"})j"},
        {rt::MessageDelta{"hé"}, R"j({"text":"hé"})j"},
        {rt::MessageDone{{"assistant", "final", std::nullopt}, std::nullopt, "done"},
         R"j({"role":"assistant","channel":"final","recipient":null,"content_type":null,"text":"done"})j"},
        {rt::GenerationDone{2, 100, 7, "stop", 0, 12.5, "", 0, 60, 5, 2, 8192, 4},
         R"j({"turn":2,"prompt_tokens":100,"output_tokens":7,"finish_reason":"stop","parse_errors":0,"ms":12.5,"cached_tokens":60,"first_message":5,"messages":2,"window":8192,"reasoning_tokens":4})j"},
        {rt::GenerationDone{3, 120, 5, "stop", 0, 9.5, "http://127.0.0.1:8000", 2, 100, 0, 0, 0, 0},
         R"j({"turn":3,"prompt_tokens":120,"output_tokens":5,"finish_reason":"stop","parse_errors":0,"ms":9.5,"cached_tokens":100,"first_message":0,"messages":0,"window":0,"reasoning_tokens":0,"endpoint":"http://127.0.0.1:8000","retries":2})j"},
        {rt::UsageUpdate{2, 9}, R"j({"turns":2,"output_tokens":9})j"},
        {rt::ToolStarted{4, "python", "print(1)"},
         R"j({"message":4,"recipient":"python","arguments":"print(1)"})j"},
        {rt::ToolFinished{4, "python", false, 3.0, "Error"},
         R"j({"message":4,"recipient":"python","ok":false,"ms":3.0,"result":"Error"})j"},
        {rt::ToolInterrupted{4, "python", "user"},
         R"j({"message":4,"recipient":"python","by":"user"})j"},
        {rt::ContextTrimmed{{"message 3 shortened"}}, R"j({"what":["message 3 shortened"]})j"},
        {rt::ContextCompacted{40, 31, 3500, 1200, 180, "did a, b; next c"},
         R"j({"messages":40,"keep_from":31,"tokens_before":3500,"tokens_after":1200,"output_tokens":180,"summary":"did a, b; next c"})j"},
        {rt::GenerationDone{4, 300, 9, "stop", 0, 5.0, "", 0, 290, 9, 2, 8192, 0, 280, 4096, 8, 5},
         R"j({"turn":4,"prompt_tokens":300,"output_tokens":9,"finish_reason":"stop","parse_errors":0,"ms":5.0,"cached_tokens":290,"first_message":9,"messages":2,"window":8192,"reasoning_tokens":0,"restored_tokens":280,"kv_bytes_written":4096,"drafted_tokens":8,"accepted_tokens":5})j"},
        {rt::Warning{"careful", std::nullopt}, R"j({"what":"careful"})j"},
        {rt::HookDecided{"pre_tool", "gate.py", 4, "functions.shell", "deny", "no", 12.0},
         R"j({"hook":"pre_tool","command":"gate.py","message":4,"recipient":"functions.shell","decision":"deny","reason":"no","ms":12.0})j"},
        {rt::WorkspaceChanged{2, 4, "tool", {"A new.txt", "M src/app.py"}},
         R"j({"step":2,"message":4,"kind":"tool","files":["A new.txt","M src/app.py"]})j"},
        {rt::SessionFinished{"final", 2, 9, "42", Json(), std::nullopt},
         R"j({"reason":"final","turns":2,"output_tokens":9,"final":"42"})j"},
    };
    std::set<std::string_view> kinds;
    for (const auto& [body, json] : cases) {
        CAPTURE(json);
        kinds.insert(rt::kind_of(body));
        CHECK(rt::fields_of(body).dump() == json);
        CHECK(rt::fields_of(round_trip(body)).dump() == json);
        CHECK(rt::kind_of(round_trip(body)) == rt::kind_of(body));
    }
    CHECK(kinds.size() == std::variant_size_v<rt::EventBody>);  // every kind is covered once
    const rt::Event e{"s-1", rt::MessageDelta{"x"}};
    CHECK(e.to_json().dump() == R"j({"event":"message.delta","session":"s-1","text":"x"})j");
}

TEST_CASE("protocol: unknown kinds and rows of the wrong shape are skipped, not fatal") {
    CHECK_FALSE(rt::from_stored("note", Json{{"by", "a"}}).has_value());
    CHECK_FALSE(rt::from_stored("tool.started", Json{{"message", "x"}}).has_value());
    CHECK_FALSE(rt::from_stored("generation", Json::array()).has_value());
    const auto old = rt::from_stored("generation", Json{{"output_tokens", 5}});  // older rows
    REQUIRE(old.has_value());
    CHECK(std::get<rt::GenerationDone>(*old).output_tokens == 5);
}
