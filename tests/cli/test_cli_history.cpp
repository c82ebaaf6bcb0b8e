// Workspace history (runtime/workspace_history.h, `sessions diff` / `sessions revert`): every
// tool step that changes files is recorded; diffs are git-style; a revert restores the exact
// bytes and modes (binary, CRLF, no final newline, executable bits) and is itself recorded;
// a call stopped between its writes and its commit is reconciled when the session resumes.
// The model is the replay model (a test double at the engine boundary); the tools are real.
#include <doctest/doctest.h>
#include <sys/stat.h>

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

namespace {

std::string shell(const std::string& command) {
    return "<|channel|>commentary to=functions.shell <|constrain|>json<|message|>" +
           Json{{"command", command}}.dump() + "<|call|>";
}

std::string patch(const std::string& body) {
    return "<|channel|>commentary to=functions.apply_patch<|message|>*** Begin Patch\n" + body +
           "*** End Patch<|call|>";
}

struct Session {
    TempDir dir{"cli_history"};
    std::string store = (dir.path / "s.db").string();
    std::string id;
    fs::path ws;

    gossamer::test::Run run(const Json& replay, const std::string& limits = "{max_turns: 8}",
                            const std::string& extra = "") {
        std::ofstream(dir.path / "a.yaml")
            << "name: coder\nmodel: {}\ntools: [apply_patch, shell]\n"
               "limits: "
            << limits << "\ntask: t\n";
        std::ofstream(dir.path / "r.json") << replay.dump();
        auto r = run_gossamer("run '" + (dir.path / "a.yaml").string() + "' --replay '" +
                                  (dir.path / "r.json").string() + "' --store '" + store +
                                  "' --json " + extra,
                              "");
        const auto sessions = gossamer::test::stored_sessions(store);
        if (!sessions.empty()) id = sessions[0]["id"];
        ws = dir.path / "workspaces" / id;
        return r;
    }
    gossamer::test::Run gossamer(const std::string& args) {
        return run_gossamer(args + " --store '" + store + "'", "");
    }
};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t at = 0;
    for (std::size_t end; (end = text.find('\n', at)) != std::string::npos; at = end + 1)
        if (end > at) out.push_back(text.substr(at, end - at));
    return out;
}

std::uint32_t mode_of(const fs::path& p) {
    struct stat st {};
    ::lstat(p.c_str(), &st);
    return st.st_mode;
}

}  // namespace

TEST_CASE("cli history: each step's changes as git-style diffs; revert restores exact bytes") {
    Session s;
    const auto r = s.run(Json::array(
        {patch("*** Add File: app.py\n+x = 1\n+print(x)\n"),
         shell("sed -i s/1/2/ app.py && chmod +x app.py && printf 'a\\0b' > bin.dat && "
               "printf 'w\\r\\nno newline' > crlf.txt && mkdir -p d/e && echo deep > d/e/f"),
         patch("*** Delete File: bin.dat\n*** Update File: d/e/f\n@@\n-deep\n+deeper\n"),
         "<|channel|>final<|message|>done<|return|>"}));
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    // The events name each step's files.
    std::vector<std::string> steps;
    for (const auto& line : lines_of(r.out)) {
        const auto e = Json::parse(line);
        if (e["event"] == "workspace.changed")
            steps.push_back(std::to_string(e["step"].get<int>()) + ":" + e["files"].dump());
    }
    CHECK(steps == std::vector<std::string>{R"(1:["A app.py"])",
                                            R"(2:["M app.py","A bin.dat","A crlf.txt","A d/e/f"])",
                                            R"(3:["D bin.dat","M d/e/f"])"});
    const auto step2 = s.gossamer("sessions diff " + s.id + " --step 2");
    CHECK(step2.exit_code == 0);
    CHECK(step2.out.find("diff --git a/app.py b/app.py\nold mode 100644\nnew mode 100755\n"
                         "--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n-x = 1\n+x = 2\n") !=
          std::string::npos);
    CHECK(step2.out.find("Binary files /dev/null and b/bin.dat differ") != std::string::npos);
    CHECK(step2.out.find("+no newline\n\\ No newline at end of file\n") != std::string::npos);
    const auto all = s.gossamer("sessions diff " + s.id);
    CHECK(all.out.find("bin.dat") == std::string::npos);  // added and deleted: no net change
    CHECK(all.out.find("+deeper\n") != std::string::npos);
    // git accepts the whole diff: applied to an empty tree it gives the workspace.
    if (std::system("git --version > /dev/null 2>&1") == 0) {
        TempDir tree("history_apply");
        std::ofstream(tree.path / "all.diff", std::ios::binary) << all.out;
        const std::string cmd =
            "cd '" + tree.path.string() +
            "' && git init -q . && git apply --whitespace=nowarn all.diff && cmp -s app.py '" +
            (s.ws / "app.py").string() + "' && cmp -s crlf.txt '" + (s.ws / "crlf.txt").string() +
            "'";
        CHECK(std::system(cmd.c_str()) == 0);
    }
    // Back to step 2: the binary file, the old contents and modes come back byte for byte.
    const auto back = s.gossamer("sessions revert " + s.id + " --to-step 2");
    CHECK_MESSAGE(back.exit_code == 0, back.err);
    CHECK(back.out.find("reverted " + s.id + " to step 2") != std::string::npos);
    CHECK(read_file(s.ws / "bin.dat") == std::string("a\0b", 3));
    CHECK(read_file(s.ws / "d/e/f") == "deep\n");
    CHECK(read_file(s.ws / "crlf.txt") == "w\r\nno newline");
    CHECK((mode_of(s.ws / "app.py") & 0777) == 0755);
    // The revert is step 4; going to step 1 leaves only the first app.py, not executable.
    CHECK(s.gossamer("sessions diff " + s.id + " --step 4").out.find("b/bin.dat") !=
          std::string::npos);
    CHECK(s.gossamer("sessions revert " + s.id + " --to-step 1").exit_code == 0);
    CHECK(read_file(s.ws / "app.py") == "x = 1\nprint(x)\n");
    CHECK((mode_of(s.ws / "app.py") & 0777) == 0644);
    CHECK_FALSE(fs::exists(s.ws / "bin.dat"));
    CHECK_FALSE(fs::exists(s.ws / "d/e/f"));
    // Bad steps and ids are refused.
    const auto bad = s.gossamer("sessions revert " + s.id + " --to-step 99");
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("no such step (steps 0..5)") != std::string::npos);
    CHECK(s.gossamer("sessions diff nope").exit_code == 2);
    CHECK(s.gossamer("sessions revert " + s.id).exit_code == 2);
}

TEST_CASE("cli history: a call stopped between its writes and its commit is reconciled") {
    Session s;
    // The shell call writes a file, then outlives the run's wall time: the run stops with the
    // call's writes on disk and no result committed.
    auto r = s.run(Json::array({shell("echo partial > half.txt && sleep 30"),
                                "<|channel|>final<|message|>done<|return|>"}),
                   "{max_turns: 4, wall_time: 2}");
    CHECK(r.exit_code == 3);
    REQUIRE(fs::exists(s.ws / "half.txt"));
    std::ofstream(s.dir.path / "r2.json")
        << Json::array({"<|channel|>final<|message|>done<|return|>"}).dump();
    r = s.gossamer("resume " + s.id + " --replay '" + (s.dir.path / "r2.json").string() +
                   "' --json");
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    bool reconciled = false, warned = false;
    for (const auto& line : lines_of(r.out)) {
        const auto e = Json::parse(line);
        if (e["event"] == "workspace.changed" && e["kind"] == "reconciled") {
            reconciled = true;
            CHECK(e["files"] == Json::array({"A half.txt"}));
            CHECK(e["message"] == 3);  // the interrupted call
        }
        if (e["event"] == "warning" &&
            e["what"].get<std::string>().find("outside a recorded step") != std::string::npos)
            warned = true;
    }
    CHECK(reconciled);
    CHECK(warned);
    CHECK(s.gossamer("sessions diff " + s.id).out.find("+partial\n") != std::string::npos);
}

TEST_CASE("cli history: workspace.from seeds the baseline; a missing folder is refused first") {
    Session s;
    fs::create_directories(s.dir.path / "repo/src");
    std::ofstream(s.dir.path / "repo/src/a.txt") << "one\n";
    std::ofstream(s.dir.path / "a.yaml") << "name: c\nmodel: {}\ntools: [shell]\n"
                                            "workspace: {from: repo}\ntask: t\n";
    std::ofstream(s.dir.path / "r.json")
        << Json::array({shell("echo two >> src/a.txt"), "<|channel|>final<|message|>ok<|return|>"})
               .dump();
    const auto r =
        run_gossamer("run '" + (s.dir.path / "a.yaml").string() + "' --replay '" +
                         (s.dir.path / "r.json").string() + "' --store '" + s.store + "'",
                     "");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto sessions = gossamer::test::stored_sessions(s.store);
    REQUIRE(sessions.size() == 1);
    s.id = sessions[0]["id"];
    CHECK(read_file(s.dir.path / "workspaces" / s.id / "src/a.txt") == "one\ntwo\n");
    CHECK(read_file(s.dir.path / "repo/src/a.txt") == "one\n");  // the source is untouched
    CHECK(s.gossamer("sessions diff " + s.id).out.find(" one\n+two\n") != std::string::npos);
    CHECK(s.gossamer("sessions diff " + s.id + " --step 0").out.find("+one\n") !=
          std::string::npos);
    CHECK(s.gossamer("sessions revert " + s.id + " --to-step 0").exit_code == 0);
    CHECK(read_file(s.dir.path / "workspaces" / s.id / "src/a.txt") == "one\n");

    std::ofstream(s.dir.path / "b.yaml")
        << "name: c\nmodel: {}\nworkspace: {from: nope}\ntask: t\n";
    const auto missing =
        run_gossamer("run '" + (s.dir.path / "b.yaml").string() + "' --replay '" +
                         (s.dir.path / "r.json").string() + "' --store '" + s.store + "'",
                     "");
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find("workspace.from:") != std::string::npos);
    CHECK(gossamer::test::stored_sessions(s.store).size() == 1);
}
