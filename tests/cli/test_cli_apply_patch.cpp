// apply_patch in an agent run (the replay model: a test double at the engine boundary): the
// model's raw patch text reaches the tool (no JSON needed), the file in the session's
// workspace changes, a bad patch comes back as an error the model reads, and the developer
// message carries the instructions gpt-oss was trained with.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/run_gossamer.h"
#include "tests/support/stored_sessions.h"
#include "tests/support/temp_dir.h"

using gossamer::test::read_file;
using gossamer::test::run_gossamer;
using gossamer::test::TempDir;
using Json = nlohmann::json;
namespace fs = std::filesystem;

TEST_CASE("cli apply_patch: a raw patch call edits the session workspace") {
    TempDir dir("cli_patch");
    const auto spec = (dir.path / "a.yaml").string();
    std::ofstream(spec) << "name: coder\nmodel: {}\ninstructions: Be brief.\ntools: [apply_patch]\n"
                           "limits: {max_turns: 4}\ntask: add a greeting\n";
    const auto replay = (dir.path / "r.json").string();
    std::ofstream(replay) << Json::array(
                                 {"<|channel|>commentary to=functions.apply_patch <|constrain|>"
                                  "json<|message|>*** Begin Patch\n*** Add File: hi.txt\n+hello\n"
                                  "*** End Patch<|call|>",
                                  "<|channel|>commentary to=functions.apply_patch<|message|>"
                                  "*** Begin Patch\n*** Update File: hi.txt\n-nope\n+x\n"
                                  "*** End Patch<|call|>",
                                  "<|channel|>final<|message|>done<|return|>"})
                                 .dump();
    const auto store = (dir.path / "s.db").string();
    const auto r = run_gossamer(
        "run '" + spec + "' --replay '" + replay + "' --store '" + store + "' --json", "");
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    const auto sessions = gossamer::test::stored_sessions(store);
    REQUIRE(sessions.size() == 1);
    const std::string id = sessions[0]["id"];
    CHECK(read_file(dir.path / "workspaces" / id / "hi.txt") == "hello\n");
    const auto all = gossamer::test::exported_session(store, id);
    const auto results = gossamer::test::texts_of(all, "tool");
    std::string developer;
    for (const auto& m : all["messages"])
        if (m["role"] == "developer") developer = m.dump();
    REQUIRE(results.size() == 2);
    CHECK(results[0] == "Done!\nA hi.txt");
    CHECK(results[1].rfind("Error applying patch: hi.txt: hunk 1 did not match", 0) == 0);
    CHECK(developer.find("Be brief.\\nWhen requested to perform coding-related tasks") !=
          std::string::npos);
    CHECK(developer.find("apply_patch") != std::string::npos);
}

TEST_CASE("cli apply_patch: the loop guard refuses the same raw patch over and over") {
    TempDir dir("cli_patch_loop");
    const auto spec = (dir.path / "a.yaml").string();
    std::ofstream(spec) << "name: coder\nmodel: {}\ntools: [apply_patch]\n"
                           "limits: {max_turns: 5}\ntask: add a greeting\n";
    const auto replay = (dir.path / "r.json").string();
    // One element: the replay repeats it, so the model sends the same call every turn.
    std::ofstream(replay) << Json::array({"<|channel|>commentary to=functions.apply_patch"
                                          "<|message|>*** Begin Patch\n*** Add File: hi.txt\n"
                                          "+hello\n*** End Patch<|call|>"})
                                 .dump();
    const auto store = (dir.path / "s.db").string();
    const auto r = run_gossamer(
        "run '" + spec + "' --replay '" + replay + "' --store '" + store + "' --json", "");
    CHECK(r.exit_code == 3);  // max_turns
    const auto sessions = gossamer::test::stored_sessions(store);
    REQUIRE(sessions.size() == 1);
    const auto all = gossamer::test::exported_session(store, sessions[0]["id"]);
    int refused = 0;
    for (const auto& m : all["messages"])
        if (m["role"] == "tool" && m.dump().find("this exact call was made") != std::string::npos)
            ++refused;
    CHECK(refused >= 1);
}

TEST_CASE("cli shell: the model writes a script with apply_patch and runs it with shell") {
    TempDir dir("cli_shell");
    const auto spec = (dir.path / "a.yaml").string();
    std::ofstream(spec) << "name: coder\nmodel: {}\ntools: [apply_patch, shell]\n"
                           "limits: {max_turns: 5}\ntask: compute\n";
    const auto replay = (dir.path / "r.json").string();
    std::ofstream(replay)
        << Json::array({"<|channel|>commentary to=functions.apply_patch<|message|>"
                        "*** Begin Patch\n*** Add File: t.sh\n+echo $((6*7))\n+touch .git\n"
                        "*** End Patch<|call|>",
                        "<|channel|>commentary to=functions.shell <|constrain|>json<|message|>"
                        "{\"command\": \"bash t.sh; echo rc=$?\"}<|call|>",
                        "<|channel|>final<|message|>42<|return|>"})
               .dump();
    const auto store = (dir.path / "s.db").string();
    const auto r = run_gossamer(
        "run '" + spec + "' --replay '" + replay + "' --store '" + store + "' --json", "");
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    const auto sessions = gossamer::test::stored_sessions(store);
    REQUIRE(sessions.size() == 1);
    const auto all = gossamer::test::exported_session(store, sessions[0]["id"]);
    const auto results = gossamer::test::texts_of(all, "tool");
    REQUIRE(results.size() == 2);
    CHECK(results[0] == "Done!\nA t.sh");
    CHECK_MESSAGE(results[1].rfind("Exit code: 0\nWall time: ", 0) == 0, results[1]);
    CHECK(results[1].find("Output:\n42\nrc=0\n") != std::string::npos);
    CHECK(r.out.find("\"recipient\":\"functions.shell\"") != std::string::npos);
}
