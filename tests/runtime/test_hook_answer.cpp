// Policy hook answers (runtime/hook_answer.h): exit codes, JSON decisions, rewrites, fail
// closed on everything else; and the tool-name globs hooks match with.
#include <doctest/doctest.h>

#include "runtime/hook_answer.h"

using namespace gossamer::runtime;

TEST_CASE("hook answers: exit 0 allows, exit 2 denies with stderr, anything else fails closed") {
    auto d = parse_hook_answer(HookKind::pre_tool, true, 0, "", "", "");
    CHECK(d.allow);
    d = parse_hook_answer(HookKind::pre_tool, true, 0, "checked ok\n", "", "");
    CHECK(d.allow);  // plain text is a log line, not an answer
    d = parse_hook_answer(HookKind::pre_tool, true, 2, "out", "  no rm -rf here\n", "");
    CHECK_FALSE(d.allow);
    CHECK(d.reason == "no rm -rf here");
    d = parse_hook_answer(HookKind::pre_tool, true, 2, "from stdout", "", "");
    CHECK(d.reason == "from stdout");
    d = parse_hook_answer(HookKind::pre_tool, true, 2, "", "", "");
    CHECK(d.reason == "denied by a policy hook");
    d = parse_hook_answer(HookKind::post_tool, true, 1, "", "Traceback: boom", "");
    CHECK_FALSE(d.allow);
    CHECK(d.reason == "the policy hook exited 1: Traceback: boom");
    d = parse_hook_answer(HookKind::on_finish, false, -1, "", "", "timed out after 1 s");
    CHECK_FALSE(d.allow);
    CHECK(d.reason == "the policy hook failed (timed out after 1 s)");
    CHECK(parse_hook_answer(HookKind::pre_tool, true, 0, std::string(5000, 'x'), "", "").allow);
    d = parse_hook_answer(HookKind::pre_tool, true, 2, "", std::string(5000, 'r'), "");
    CHECK(d.reason.size() < 2100);
}

TEST_CASE("hook answers: JSON decisions, rewrites and replacements, malformed is a deny") {
    auto d =
        parse_hook_answer(HookKind::pre_tool, true, 0,
                          R"({"decision": "deny", "reason": "network tools are off"})", "", "");
    CHECK_FALSE(d.allow);
    CHECK(d.reason == "network tools are off");
    d = parse_hook_answer(HookKind::pre_tool, true, 0,
                          R"({"decision": "allow", "arguments": {"command": "ls"}})", "", "");
    CHECK(d.allow);
    REQUIRE(d.arguments);
    CHECK(*d.arguments == R"({"command":"ls"})");
    d = parse_hook_answer(HookKind::pre_tool, true, 0, R"({"arguments": "*** Begin Patch"})", "",
                          "");
    CHECK(d.allow);
    CHECK(*d.arguments == "*** Begin Patch");
    d = parse_hook_answer(HookKind::post_tool, true, 0, R"({"output": "[redacted]"})", "", "");
    CHECK(d.allow);
    CHECK(*d.output == "[redacted]");
    for (const char* bad : {R"({"decision": "maybe"})", R"({"decision": "allow")",
                            R"({"reason": 5})", R"({"output": 5})"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_hook_answer(HookKind::post_tool, true, 0, bad, "", "").allow);
    }
    // A rewrite only where it means something.
    CHECK_FALSE(
        parse_hook_answer(HookKind::post_tool, true, 0, R"({"arguments": "x"})", "", "").allow);
    CHECK_FALSE(parse_hook_answer(HookKind::pre_tool, true, 0, R"({"output": "x"})", "", "").allow);
}

TEST_CASE("hook matchers are globs over the tool's name") {
    CHECK(hook_matches("*", "functions.shell"));
    CHECK(hook_matches("functions.*", "functions.apply_patch"));
    CHECK(hook_matches("functions.shell", "functions.shell"));
    CHECK_FALSE(hook_matches("functions.shell", "functions.shell2"));
    CHECK_FALSE(hook_matches("functions.*", "python"));
    CHECK(hook_matches("final", "final"));
    CHECK(hook_matches("{final,max_turns}", "final") == false);  // no brace expansion
}
