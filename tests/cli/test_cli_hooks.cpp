// Policy hooks in agent runs (the replay model: a test double at the engine boundary): a
// pre_tool hook that denies, one that rewrites, a post_tool hook that replaces output, hooks
// that crash or time out (denied: fail closed), an on_finish hook that sends a final answer
// back; each decision is a `hook` event in the session. Hooks are real scripts run in the
// real sandbox.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/run_gossamer.h"
#include "tests/support/stored_sessions.h"
#include "tests/support/temp_dir.h"

using gossamer::test::run_gossamer;
using gossamer::test::TempDir;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

void script(const fs::path& path, const std::string& text) {
    std::ofstream(path) << text;
    ::chmod(path.c_str(), 0755);
}

struct Run {
    int exit_code;
    std::string out, err;
    Json session;
};

Run run_spec(const TempDir& dir, const std::string& spec_text, const Json& replay) {
    const auto spec = (dir.path / "a.yaml").string();
    std::ofstream(spec) << spec_text;
    const auto replay_file = (dir.path / "r.json").string();
    std::ofstream(replay_file) << replay.dump();
    const auto store = (dir.path / "s.db").string();
    const auto r = run_gossamer(
        "run '" + spec + "' --replay '" + replay_file + "' --store '" + store + "' --json", "");
    const auto sessions = gossamer::test::stored_sessions(store);
    Json all;
    if (sessions.size() == 1) all = gossamer::test::exported_session(store, sessions[0]["id"]);
    return {r.exit_code, r.out, r.err, all};
}

std::vector<std::string> tool_results(const Json& session) {
    return gossamer::test::texts_of(session, "tool");
}

std::vector<Json> hook_events(const Json& session) {
    std::vector<Json> out;
    for (const auto& e : session["events"])
        if (e["kind"] == "hook") out.push_back(e["data"]);
    return out;
}

std::string shell_call(const std::string& command) {
    return "<|channel|>commentary to=functions.shell <|constrain|>json<|message|>" +
           Json{{"command", command}}.dump() + "<|call|>";
}

}  // namespace

TEST_CASE("cli hooks: pre_tool deny and rewrite, post_tool replace, every decision an event") {
    TempDir dir("cli_hooks");
    // Denies rm, rewrites "echo hi" to "echo rewritten", passes the rest (reads JSON on stdin).
    script(dir.path / "gate.py", R"(#!/usr/bin/env python3
import json, sys
call = json.load(sys.stdin)
assert call["hook"] == "pre_tool" and call["workspace"] == "/mnt/data", call
args = json.loads(call["arguments"])
if "rm " in args["command"]:
    print("no deleting files here", file=sys.stderr); sys.exit(2)
if args["command"] == "echo hi":
    print(json.dumps({"arguments": {"command": "echo rewritten"}}))
)");
    script(dir.path / "redact.sh",
           "#!/bin/sh\nif grep -q SECRET; then "
           "echo '{\"output\": \"[redacted]\"}'; fi\n");
    const auto r = run_spec(
        dir,
        "name: coder\nmodel: {}\ntools: [shell]\nlimits: {max_turns: 6}\ntask: t\n"
        "hooks:\n  pre_tool:\n    - {match: functions.shell, command: [./gate.py]}\n"
        "  post_tool:\n    - {match: 'functions.*', command: [./redact.sh], timeout: 10}\n",
        Json::array({shell_call("rm -rf /mnt/data/x"), shell_call("echo hi"),
                     shell_call("echo SECRET=1"), shell_call("echo fine"),
                     "<|channel|>final<|message|>done<|return|>"}));
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    const auto results = tool_results(r.session);
    REQUIRE(results.size() == 4);
    CHECK(results[0] ==
          "Error: a policy hook denied this call: no deleting files here\nThe call was not run.");
    CHECK(results[1].find("Output:\nrewritten\n") != std::string::npos);
    CHECK(results[2] == "[redacted]");
    CHECK(results[3].find("Output:\nfine\n") != std::string::npos);
    const auto hooks = hook_events(r.session);
    std::vector<std::string> decisions;
    for (const auto& h : hooks)
        decisions.push_back(h["hook"].get<std::string>() + ":" + h["decision"].get<std::string>());
    CHECK(decisions == std::vector<std::string>{
                           "pre_tool:deny", "pre_tool:rewrite", "post_tool:allow", "pre_tool:allow",
                           "post_tool:replace", "pre_tool:allow", "post_tool:allow"});
    CHECK(hooks[0]["command"] == "gate.py");
    CHECK(hooks[0]["recipient"] == "functions.shell");
    CHECK(hooks[0]["reason"] == "no deleting files here");
    CHECK(r.out.find("\"event\":\"hook\"") != std::string::npos);
}

TEST_CASE("cli hooks: a hook that crashes, times out or cannot start denies (fail closed)") {
    TempDir dir("cli_hooks_fail");
    script(dir.path / "crash.sh", "#!/bin/sh\nkill -SEGV $$\n");
    script(dir.path / "slow.sh", "#!/bin/sh\nsleep 20\n");
    for (const auto& [hook, expect] : std::vector<std::pair<std::string, std::string>>{
             {"[./crash.sh]", "the policy hook failed"},
             {"[./slow.sh], timeout: 0.5", "timed out after 0.5 s"},
             {"[./missing.sh]", "the policy hook failed"}}) {
        CAPTURE(hook);
        const auto r = run_spec(dir,
                                "name: c\nmodel: {}\ntools: [shell]\nlimits: {max_turns: 3}\n"
                                "task: t\nhooks:\n  pre_tool:\n    - {command: " +
                                    hook + "}\n",
                                Json::array({shell_call("echo ran > proof"),
                                             "<|channel|>final<|message|>done<|return|>"}));
        CHECK_MESSAGE(r.exit_code == 0, r.err);
        const auto results = tool_results(r.session);
        REQUIRE(results.size() == 1);
        CHECK(results[0].rfind("Error: a policy hook denied this call:", 0) == 0);
        CHECK_MESSAGE(results[0].find(expect) != std::string::npos, results[0]);
        const auto hooks = hook_events(r.session);
        REQUIRE(hooks.size() == 1);
        CHECK(hooks[0]["decision"] == "deny");
        fs::remove(dir.path / "s.db");
    }
}

TEST_CASE("cli hooks: on_finish sends a final answer back, then lets the next one through") {
    TempDir dir("cli_hooks_finish");
    // Runs on the host (sandboxed: false), so it may keep state beside itself: the first
    // final answer is refused, the second accepted.
    script(dir.path / "check.py", R"(#!/usr/bin/env python3
import json, os, sys
done = json.load(sys.stdin)
assert done["reason"] == "final" and done["final_answer"] == "first", done
seen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seen")
if not os.path.exists(seen):
    open(seen, "w").close()
    print(json.dumps({"decision": "deny", "reason": "the tests still fail"}))
)");
    const auto r = run_spec(dir,
                            "name: c\nmodel: {}\ntools: [shell]\nlimits: {max_turns: 4}\n"
                            "task: t\nhooks:\n  on_finish:\n    - {match: final, command: "
                            "[./check.py], sandboxed: false}\n",
                            Json::array({"<|channel|>final<|message|>first<|return|>"}));
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    const auto users = gossamer::test::texts_of(r.session, "user");
    REQUIRE(users.size() == 2);
    CHECK(users[1].rfind("Your answer was not accepted: the tests still fail", 0) == 0);
    const auto hooks = hook_events(r.session);
    REQUIRE(hooks.size() == 2);
    CHECK(hooks[0]["decision"] == "deny");
    CHECK(hooks[1]["decision"] == "allow");
    CHECK(hooks[0]["hook"] == "on_finish");
    CHECK(r.out.find("\"reason\":\"final\",\"turns\":2") != std::string::npos);
}

TEST_CASE("cli hooks: a sandboxed hook sees the workspace read-only") {
    TempDir dir("cli_hooks_ro");
    // Denies (exit 2) if it could write the workspace; allows if it can read it.
    script(dir.path / "probe.sh",
           "#!/bin/bash\ncat > /dev/null\n"
           "if touch planted 2>/dev/null; then echo wrote >&2; exit 2; fi\n"
           "test -d /mnt/data && test \"$PWD\" = /mnt/data\n");
    const auto r = run_spec(
        dir,
        "name: c\nmodel: {}\ntools: [shell]\nlimits: {max_turns: 3}\n"
        "task: t\nhooks:\n  pre_tool:\n    - {command: [./probe.sh]}\n",
        Json::array({shell_call("echo ran"), "<|channel|>final<|message|>done<|return|>"}));
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    const auto hooks = hook_events(r.session);
    REQUIRE(hooks.size() == 1);
    CHECK_MESSAGE(hooks[0]["decision"] == "allow", hooks[0].dump());
    const auto results = tool_results(r.session);
    REQUIRE(results.size() == 1);
    CHECK(results[0].find("Output:\nran\n") != std::string::npos);
    const auto sessions = gossamer::test::stored_sessions((dir.path / "s.db").string());
    CHECK_FALSE(
        fs::exists(dir.path / "workspaces" / sessions[0]["id"].get<std::string>() / "planted"));
}
