// `gossamer fleet` through the real binary: many tasks of one spec on one model in one
// process, real sqlite, the real python sandbox. Replayed fleets (the replay model: a test
// double at the engine boundary) check vars, results, per-task isolation and --max-failures;
// the bundled gpt-oss-nano fleet is killed with SIGKILL at random points twenty times and
// resumed: every task ends exactly once with one final answer and no step is duplicated.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/run_gossamer.h"
#include "tests/support/stored_sessions.h"
#include "tests/support/temp_dir.h"

using gossamer::test::read_file;
using gossamer::test::run_gossamer;
using gossamer::test::TempDir;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<Json> json_lines(const std::string& text) {
    std::vector<Json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(Json::parse(line));
    return out;
}

constexpr const char* kSpec = R"(name: multiply
model: {reasoning_effort: low}
tools: [python]
limits:
  max_turns: "{{turns}}"
task: "What is {{a}} * {{b}}?"
outputs:
  report: "out/{{id}}.json"
)";

// The python call computes the product named in the prompt's task; then the answer.
const Json kReplay = Json::array({"<|channel|>commentary to=python<|message|>print(6 * 7)<|call|>",
                                  "<|channel|>final<|message|>42<|return|>"});

struct Fleet {
    TempDir dir{"fleet"};
    std::string spec, replay, store, tasks;
    Fleet() {
        spec = (dir.path / "agent.yaml").string();
        replay = (dir.path / "replay.json").string();
        store = (dir.path / "s.db").string();
        tasks = (dir.path / "tasks.jsonl").string();
        std::ofstream(spec) << kSpec;
        std::ofstream(replay) << kReplay.dump();
        fs::create_directories(dir.path / "out");
    }
    Json sessions() const { return gossamer::test::stored_sessions(store); }
    Json exported(const std::string& id) const {
        return gossamer::test::exported_session(store, id);
    }
};

int wait_exit(pid_t pid) {
    return gossamer::test::wait_gossamer(pid);
}

pid_t spawn(const std::vector<std::string>& args, const std::string& log = "/dev/null") {
    const pid_t pid = gossamer::test::start_gossamer(args, log);
    REQUIRE(pid >= 0);
    return pid;
}

// Every session: one session.finished, one final answer, one result per call, no gaps.
void check_exactly_once(const Fleet& f, const std::string& id) {
    const auto all = f.exported(id);
    int finals = 0, calls = 0, results = 0, finished = 0;
    for (const auto& m : all["messages"]) {
        if (m["role"] == "assistant" && m.value("channel", "") == "final") ++finals;
        if (m["role"] == "assistant" && m.contains("recipient") && m["recipient"] == "python")
            ++calls;
        if (m["role"] == "tool") ++results;
    }
    for (const auto& e : all["events"]) finished += e["kind"] == "session.finished";
    CHECK_MESSAGE(finals == 1, id);
    CHECK_MESSAGE(calls == results, id);
    CHECK_MESSAGE(finished == 1, id);
}

}  // namespace

TEST_CASE(
    "cli fleet: vars fill the spec, each task is its own session, one task's budget "
    "does not touch the others") {
    Fleet f;
    std::ofstream(f.tasks) << R"({"id": "six", "vars": {"a": 6, "b": 7, "turns": 8}}
{"id": "short", "vars": {"a": 1, "b": 2, "turns": 1}}

{"vars": {"a": 3, "b": 4, "turns": 8}}
)";
    const auto results = (f.dir.path / "results.jsonl").string();
    const auto r =
        run_gossamer("fleet '" + f.spec + "' --tasks '" + f.tasks + "' --replay '" + f.replay +
                         "' --store '" + f.store + "' --results '" + results + "' --parallel 2",
                     "");
    CHECK_MESSAGE(r.exit_code == 3, r.err);  // one task ended by its budget
    const auto lines = json_lines(read_file(results));
    REQUIRE(lines.size() == 3);
    CHECK(lines[0]["id"] == "six");
    CHECK(lines[0]["state"] == "finished");
    CHECK(lines[0]["final_answer"] == "42");
    CHECK(lines[1]["id"] == "short");
    CHECK(lines[1]["state"] == "budget");
    CHECK(lines[1]["reason"] == "max_turns");
    CHECK(lines[2]["id"] == "task-4");
    CHECK(lines[2]["state"] == "finished");
    for (const auto& l : lines)
        CHECK(fs::exists(f.dir.path / "out" / (l["id"].get<std::string>() + ".json")));
    // The task text reached the model with the vars filled in.
    const auto six = f.exported(lines[0]["session"]);
    std::string user;
    for (const auto& m : six["messages"])
        if (m["role"] == "user") user = m["content"];
    CHECK(user == "What is 6 * 7?");
    // The JSON-lines progress names every task; list and show agree with the results.
    int done_events = 0;
    for (const auto& e : json_lines(r.out)) done_events += e["event"] == "fleet.task.done";
    CHECK(done_events == 3);
    const auto list = run_gossamer("fleet list --json --store '" + f.store + "'", "");
    REQUIRE(list.exit_code == 0);
    const auto fleets = Json::parse(list.out);
    REQUIRE(fleets.size() == 1);
    CHECK(fleets[0]["tasks"] == 3);
    CHECK(fleets[0]["states"]["finished"] == 2);
    const auto show = run_gossamer(
        "fleet show " + fleets[0]["id"].get<std::string>() + " --json --store '" + f.store + "'",
        "");
    REQUIRE(show.exit_code == 0);
    CHECK(Json::parse(show.out)["tasks"].size() == 3);
    // A rerun of the finished fleet runs nothing and lists every task once.
    const auto again = run_gossamer("fleet --resume " + fleets[0]["id"].get<std::string>() +
                                        " --store '" + f.store + "' --results '" + results + "'",
                                    "");
    CHECK(again.exit_code == 3);
    CHECK(json_lines(read_file(results)).size() == 3);
    CHECK(f.sessions().size() == 3);
}

TEST_CASE("cli fleet: bad task files and shared outputs are refused before anything exists") {
    Fleet f;
    auto expect_2 = [&](const std::string& tasks, const std::string& words) {
        std::ofstream(f.tasks) << tasks;
        const auto r = run_gossamer("fleet '" + f.spec + "' --tasks '" + f.tasks + "' --replay '" +
                                        f.replay + "' --store '" + f.store + "'",
                                    "");
        CHECK_MESSAGE(r.exit_code == 2, r.err);
        CHECK_MESSAGE(r.err.find(words) != std::string::npos, r.err);
    };
    expect_2("{\"vars\": {\"a\": 1, \"b\": 2, \"turns\": 3}}\n{\"vars\": 5}\n",
             "tasks.jsonl:2: vars");
    expect_2("{\"vars\": {\"a\": 1, \"turns\": 3}}\n", "no var 'b'");
    expect_2("", "no tasks");
    std::ofstream(f.spec) << "name: m\nmodel: {}\ntask: t\noutputs: {report: r.json}\n";
    expect_2("{}\n{}\n", "every task of the fleet would write the same file");
    CHECK_FALSE(fs::exists(f.store));
}

TEST_CASE("cli fleet: --max-failures stops starting tasks") {
    Fleet f;
    std::string tasks;
    for (int i = 0; i < 6; ++i) tasks += "{\"vars\": {\"a\": 1, \"b\": 2, \"turns\": 1}}\n";
    std::ofstream(f.tasks) << tasks;
    const auto results = (f.dir.path / "results.jsonl").string();
    const auto r = run_gossamer("fleet '" + f.spec + "' --tasks '" + f.tasks + "' --replay '" +
                                    f.replay + "' --store '" + f.store + "' --parallel 1 " +
                                    "--max-failures 2 --results '" + results + "'",
                                "");
    CHECK(r.exit_code == 3);
    int budget = 0, pending = 0;
    for (const auto& l : json_lines(read_file(results))) {
        budget += l["state"] == "budget";
        pending += l["state"] == "pending";
    }
    CHECK(budget == 2);
    CHECK(pending == 4);
}

TEST_CASE("cli fleet: 32 nano tasks killed with SIGKILL 20 times, then resumed: exactly once") {
    const fs::path nano = fs::path(GOSSAMER_BINARY).parent_path() / "models/gpt-oss-nano";
    if (!fs::exists(nano / "config.json")) {
        MESSAGE("no bundled gpt-oss-nano in this build: skipped");
        return;
    }
    Fleet f;
    // The example fleet template (the quickstart agent with its numbers as placeholders).
    fs::copy_file(std::string(GOSSAMER_TEST_DATA) + "/../../examples/fleet/agent.yaml", f.spec,
                  fs::copy_options::overwrite_existing);
    std::mt19937 random(16);
    std::string tasks;
    for (int i = 0; i < 32; ++i)
        tasks += "{\"id\": \"t" + std::to_string(i) +
                 "\", \"vars\": {\"a\": " + std::to_string(100 + random() % 9000) +
                 ", \"b\": " + std::to_string(10 + random() % 90) + "}}\n";
    std::ofstream(f.tasks) << tasks;
    // The first start creates the fleet; every later one resumes it.
    std::string fleet_id;
    for (int kill = 0; kill < 20; ++kill) {
        std::vector<std::string> args =
            fleet_id.empty()
                ? std::vector<std::string>{"fleet",      f.spec, "--tasks", f.tasks,
                                           "--parallel", "8",    "--store", f.store}
                : std::vector<std::string>{"fleet", "--resume", fleet_id, "--store", f.store};
        const pid_t pid = spawn(args);
        std::this_thread::sleep_for(std::chrono::milliseconds(150 + random() % 500));
        ::kill(pid, SIGKILL);
        wait_exit(pid);
        if (fleet_id.empty()) {
            const auto list = run_gossamer("fleet list --json --store '" + f.store + "'", "");
            if (list.exit_code == 0 && !Json::parse(list.out).empty())
                fleet_id = Json::parse(list.out)[0]["id"];
        }
    }
    REQUIRE(!fleet_id.empty());
    const auto results = (f.dir.path / "results.jsonl").string();
    const auto last = run_gossamer(
        "fleet --resume " + fleet_id + " --store '" + f.store + "' --results '" + results + "'",
        "");
    CHECK_MESSAGE(last.exit_code == 0, last.err);
    const auto lines = json_lines(read_file(results));
    REQUIRE(lines.size() == 32);
    std::map<std::string, int> ids;
    for (const auto& l : lines) {
        ++ids[l["id"]];
        CHECK(l["state"] == "finished");
        check_exactly_once(f, l["session"]);
    }
    CHECK(ids.size() == 32);
    CHECK(f.sessions().size() == 32);  // no task ever got a second session
}
