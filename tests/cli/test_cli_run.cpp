// `gossamer run / resume / sessions` as a binary, driven by the replay model (a test double
// at the engine boundary: scripted harmony text instead of a sampled model): a run ends with
// its answer on disk and in sqlite; bad specs exit 2 naming file, line and field; and a run
// killed with SIGKILL at many points resumes to the same transcript as an uninterrupted run.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"

using gossamer::test::read_file;
using gossamer::test::run_gossamer;
using gossamer::test::TempDir;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kSpec = R"(name: notes
model: {reasoning_effort: low}
instructions: Keep notes in files.
tools: [workspace_files]
limits: {max_turns: 12}
task: Write two notes, list them and read one back.
outputs: {final_answer: answer.txt, report: report.json}
)";

// One response per number of calls already made; every call is idempotent.
const Json kReplay = Json::array({
    "<|channel|>analysis<|message|>Two notes first.<|end|><|start|>assistant "
    "to=functions.write_file<|channel|>commentary "
    "<|constrain|>json<|message|>{\"path\":\"a.txt\",\"content\":\"alpha\"}<|call|>",
    "<|channel|>commentary to=functions.write_file "
    "<|constrain|>json<|message|>{\"path\":\"b.txt\",\"content\":\"beta\"}<|call|>",
    "<|channel|>analysis<|message|>Now list.<|end|><|start|>assistant "
    "to=functions.list_files<|channel|>commentary <|constrain|>json<|message|>{}<|call|>",
    "<|channel|>commentary to=functions.read_file "
    "<|constrain|>json<|message|>{\"path\":\"b.txt\"}<|call|>",
    "<|channel|>analysis<|message|>b.txt holds beta; "
    "done.<|end|><|start|>assistant<|channel|>final<|message|>The second note says beta.<|return|>",
});

struct Setup {
    TempDir dir{"cli_run"};
    std::string spec, replay, store;
    Setup() {
        spec = (dir.path / "agent.yaml").string();
        replay = (dir.path / "replay.json").string();
        store = (dir.path / "sessions.db").string();
        std::ofstream(spec) << kSpec;
        std::ofstream(replay) << kReplay.dump();
    }
    std::string flags() const { return " --store '" + store + "'"; }
};

std::string sessions_of(const std::filesystem::path& store) {
    const auto r = run_gossamer("sessions list --json --store '" + store.string() + "'", "");
    REQUIRE(r.exit_code == 0);
    return Json::parse(r.out)[0]["id"].get<std::string>();
}

Json sessions(const Setup& s) {
    const auto r = run_gossamer("sessions list --json" + s.flags(), "");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return Json::parse(r.out);
}

Json exported(const Setup& s, const std::string& id) {
    const auto r = run_gossamer("sessions export " + id + s.flags(), "");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return Json::parse(r.out);
}

// Starts `gossamer ARGS...` and SIGKILLs it after `delay`; returns once it is reaped.
void run_and_kill(const std::vector<std::string>& args, std::chrono::milliseconds delay) {
    const pid_t pid = gossamer::test::start_gossamer(args);
    REQUIRE(pid >= 0);
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
    gossamer::test::wait_gossamer(pid);
}

}  // namespace

TEST_CASE("cli run: a replayed agent run ends with its answer on disk and in sqlite") {
    Setup s;
    const auto r = run_gossamer("run '" + s.spec + "' --replay '" + s.replay + "'" + s.flags(), "");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.find("The second note says beta.") != std::string::npos);
    CHECK(read_file(s.dir.path / "answer.txt") == "The second note says beta.");
    const auto report = Json::parse(read_file(s.dir.path / "report.json"));
    CHECK(report["reason"] == "final");
    CHECK(report["turns"] == 5);
    const auto list = sessions(s);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["status"] == "finished");
    const auto id = list[0]["id"].get<std::string>();
    const auto all = exported(s, id);
    CHECK(all["messages"].size() == 15);  // 3 opening, 4 calls + results, 3 analysis, final
    CHECK(fs::exists(s.dir.path / "workspaces" / id / "a.txt"));

    const auto json =
        run_gossamer("run '" + s.spec + "' --replay '" + s.replay + "' --json" + s.flags(), "");
    REQUIRE(json.exit_code == 0);
    std::istringstream lines(json.out);
    std::string line, last;
    int count = 0;
    while (std::getline(lines, line)) last = line, ++count;
    CHECK(count > 20);
    CHECK(Json::parse(last)["event"] == "session.finished");

    const auto again = run_gossamer("resume " + id + s.flags(), "");
    CHECK(again.exit_code == 2);
    CHECK(again.err.find("already finished") != std::string::npos);
}

TEST_CASE("cli run: bad specs and arguments exit 2 naming file, line and field") {
    Setup s;
    auto with_spec = [&](const std::string& yaml) {
        std::ofstream(s.spec) << yaml;
        return run_gossamer("run '" + s.spec + "' --replay '" + s.replay + "'" + s.flags(), "");
    };
    auto r = with_spec("name: x\nmodel: {}\ntask: t\nlimits:\n  max_turns: 0\n");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("agent.yaml:5:14: limits.max_turns: must be in [1, 100000], got 0") !=
          std::string::npos);
    r = with_spec("name: x\nmodel: {}\ntask: t\ncolour: blue\n");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("agent.yaml:4:1: colour: unknown key") != std::string::npos);
    r = with_spec("name: x\nmodel: {}\n");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("no task") != std::string::npos);
    r = with_spec("name: [x\n");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("invalid YAML") != std::string::npos);
    std::ofstream(s.spec) << kSpec;  // a valid spec again
    const bool bundled = std::filesystem::exists(
        std::filesystem::path(GOSSAMER_BINARY).parent_path() / "models/gpt-oss-nano/config.json");
    if (!bundled) {  // no model anywhere: say what to set, and where a bundled one would be
        r = run_gossamer("run '" + s.spec + "'" + s.flags(), "");
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("no model: set model.path") != std::string::npos);
        CHECK(r.err.find("bundled gpt-oss-nano") != std::string::npos);
    }
    r = run_gossamer("run '" + s.spec + "' --model '" + GOSSAMER_TEST_DATA +
                         "/golden/tiny-moe/model' --backend bogus" + s.flags(),
                     "");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("backend 'bogus'") != std::string::npos);
    CHECK(run_gossamer("run /nonexistent.yaml" + s.flags(), "").exit_code == 2);
    CHECK(run_gossamer("resume nope" + s.flags(), "").exit_code == 2);
    CHECK(run_gossamer("sessions show nope" + s.flags(), "").exit_code == 2);
}

TEST_CASE("cli run: SIGKILL at any point, then resume, gives the uninterrupted transcript") {
    Setup reference;
    const auto r = run_gossamer(
        "run '" + reference.spec + "' --replay '" + reference.replay + "'" + reference.flags(), "");
    REQUIRE(r.exit_code == 0);
    const auto expected = exported(reference, sessions(reference)[0]["id"])["messages"];

    int resumed = 0;
    for (int delay_ms = 30; delay_ms <= 400; delay_ms += 37) {
        Setup s;
        run_and_kill(
            {"run", s.spec, "--replay", s.replay, "--replay-delay-ms", "3", "--store", s.store},
            std::chrono::milliseconds(delay_ms));
        if (!fs::exists(s.store)) continue;  // killed before the store was opened
        const auto list = sessions(s);
        if (list.empty()) continue;  // killed before the session was created
        const auto id = list[0]["id"].get<std::string>();
        if (list[0]["status"] != "finished") {
            const auto again = run_gossamer("resume " + id + s.flags(), "");
            CHECK_MESSAGE(again.exit_code == 0, again.err);
            ++resumed;
        }
        const auto all = exported(s, id);
        CHECK_MESSAGE(all["messages"] == expected, "killed after " << delay_ms << " ms");
        // A call is never run twice silently: a second tool.started for a message comes
        // with a warning saying it is re-run.
        std::map<int, int> starts;
        int warnings = 0;
        for (const auto& e : all["events"]) {
            if (e["kind"] == "tool.started") ++starts[e["data"]["message"].get<int>()];
            if (e["kind"] == "warning") ++warnings;
        }
        int reruns = 0;
        for (const auto& [message, n] : starts) reruns += n - 1;
        CHECK(reruns <= warnings);
    }
    MESSAGE("resumed " << resumed << " killed runs");
    CHECK(resumed >= 3);
}

TEST_CASE("cli run: the quickstart example runs with its replay script") {
    TempDir dir("quickstart");
    const std::string root = std::string(GOSSAMER_TEST_DATA) + "/../../examples/quickstart/";
    const auto r = run_gossamer("run '" + root + "agent.yaml' --replay '" + root +
                                    "replay.json' --store '" + (dir.path / "s.db").string() + "'",
                                "");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.find("184287") != std::string::npos);  // the real python tool's output
    CHECK(r.out.find("[final after 2 turns") != std::string::npos);
}

TEST_CASE("cli run: the research example runs with its replay script and cites its source") {
    TempDir dir("research");
    const std::string root = std::string(GOSSAMER_TEST_DATA) + "/../../examples/research/";
    const auto r = run_gossamer("run '" + root + "agent.yaml' --json --replay '" + root +
                                    "replay.json' --store '" + (dir.path / "s.db").string() + "'",
                                "");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto last = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
    const auto finished = Json::parse(last);
    CHECK(finished["final"].get<std::string>().find("local://docs/otters.md") != std::string::npos);
    CHECK(finished["annotations"].size() == 1);
}

TEST_CASE("cli run: Ctrl-C stops cleanly and the session resumes to the end") {
    Setup s;
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        std::freopen("/dev/null", "w", stdout);
        std::freopen("/dev/null", "w", stderr);
        ::execl(GOSSAMER_BINARY, GOSSAMER_BINARY, "run", s.spec.c_str(), "--replay",
                s.replay.c_str(), "--replay-delay-ms", "20", "--store", s.store.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    ::kill(pid, SIGINT);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 4);
    const auto list = sessions(s);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["status"] == "interrupted");
    const auto again = run_gossamer("resume " + list[0]["id"].get<std::string>() + s.flags(), "");
    CHECK_MESSAGE(again.exit_code == 0, again.err);
    CHECK(again.out.find("The second note says beta.") != std::string::npos);
}

TEST_CASE("cli run: chat takes one user turn per line in one session") {
    Setup s;
    std::ofstream(s.replay) << Json::array({"<|channel|>final<|message|>Noted.<|return|>"}).dump();
    const auto r = run_gossamer("chat '" + s.spec + "' --replay '" + s.replay + "'" + s.flags(),
                                "first question\nsecond question\n");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const auto list = sessions(s);
    REQUIRE(list.size() == 1);
    const auto all = exported(s, list[0]["id"]);
    std::vector<std::string> users;
    for (const auto& m : all["messages"])
        if (m["role"] == "user") users.push_back(m["content"].get<std::string>());
    CHECK(users == std::vector<std::string>{"first question", "second question"});
    CHECK(all["messages"].back()["content"] == "Noted.");
}

TEST_CASE("cli run: the primes example runs real Python in the sandbox") {
    TempDir dir("coding");
    const std::string root = std::string(GOSSAMER_TEST_DATA) + "/../../examples/primes/";
    const auto r = run_gossamer("run '" + root + "agent.yaml' --json --replay '" + root +
                                    "replay.json' --store '" + (dir.path / "s.db").string() + "'",
                                "");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::istringstream lines(r.out);
    std::vector<Json> results;
    for (std::string line; std::getline(lines, line);) {
        const auto e = Json::parse(line);
        if (e["event"] == "tool.finished") results.push_back(e);
    }
    REQUIRE(results.size() == 2);
    CHECK(results[0]["recipient"] == "python");
    CHECK(results[0]["result"] == "1229\n");  // the sieve really ran
    CHECK(results[1]["result"].get<std::string>().find("primes.txt") != std::string::npos);
    const auto id = sessions_of(dir.path / "s.db");
    CHECK(std::filesystem::file_size(dir.path / "workspaces" / id / "primes.txt") > 4000);
}

TEST_CASE("cli run: the coding example fixes its repository's failing test, gated by a hook") {
    TempDir dir("coding_fix");
    const std::string root = std::string(GOSSAMER_TEST_DATA) + "/../../examples/coding/";
    // A private copy of the example (its report goes to out/ beside the spec).
    std::filesystem::copy(root, dir.path / "ex", std::filesystem::copy_options::recursive);
    const auto spec = (dir.path / "ex/agent.yaml").string();
    const auto store = (dir.path / "s.db").string();
    const auto r = run_gossamer(
        "run '" + spec + "' --json --replay '" + root + "replay.json' --store '" + store + "'", "");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::istringstream lines(r.out);
    std::vector<Json> results, hooks, changes;
    for (std::string line; std::getline(lines, line);) {
        const auto e = Json::parse(line);
        if (e["event"] == "tool.finished") results.push_back(e);
        if (e["event"] == "hook") hooks.push_back(e);
        if (e["event"] == "workspace.changed") changes.push_back(e);
    }
    REQUIRE(results.size() == 3);
    CHECK(results[0]["result"].get<std::string>().find("1 passed, 2 failed") != std::string::npos);
    CHECK(results[2]["result"].get<std::string>().find("3 passed, 0 failed") != std::string::npos);
    REQUIRE(hooks.size() == 1);
    CHECK(hooks[0]["decision"] == "allow");
    REQUIRE(changes.size() == 2);  // the copied repository, then the fix
    CHECK(changes[0]["kind"] == "baseline");
    CHECK(changes[1]["files"] == Json::array({"M calc.py"}));
    const auto id = sessions_of(dir.path / "s.db");
    const auto diff = run_gossamer("sessions diff " + id + " --store '" + store + "'", "");
    CHECK(diff.out.find("-    return a - b\n+    return a + b\n") != std::string::npos);
    // The example's own repository is untouched: each session works on a copy.
    CHECK(gossamer::test::read_file(root + "repo/calc.py").find("return a - b") !=
          std::string::npos);

    // Finishing before the fix: the hook runs the tests and sends the answer back.
    std::ofstream(dir.path / "early.json")
        << Json::array({"<|channel|>final<|message|>Done.<|return|>"}).dump();
    const auto early =
        run_gossamer("run '" + spec + "' --json --replay '" + (dir.path / "early.json").string() +
                         "' --store '" + (dir.path / "s2.db").string() + "'",
                     "");
    CHECK(early.exit_code == 3);  // max_turns: every answer was refused
    CHECK(early.out.find("the tests still fail:\\nFAIL add(2, 3): expected 5, got -1") !=
          std::string::npos);
}
