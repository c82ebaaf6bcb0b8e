// End to end with no test double: `gossamer run` on a random checkpoint of the real
// vocabulary (preset nano) through the real CPU engine, scheduler, sampler, parser and
// tools (the sandboxed Python tool and the workspace files). Random weights write random
// tokens; whatever they are, the run must end cleanly within its budget, and the session must
// be in sqlite.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"

using gossamer::test::run_gossamer;
using Json = nlohmann::json;

TEST_CASE("e2e: gossamer run on a random nano checkpoint ends cleanly within its budget") {
    gossamer::test::TempDir dir("e2e");
    const auto model = dir.path / "nano";
    auto init =
        run_gossamer("model init --preset nano --seed 3 --out '" + model.string() + "'", "");
    REQUIRE_MESSAGE(init.exit_code == 0, init.err);
    std::ofstream(dir.path / "agent.yaml")
        << "name: e2e\n"
           "model: {path: nano, reasoning_effort: low, sampling: {seed: 5}}\n"
           "tools: [workspace_files, python]\n"
           "limits: {max_turns: 3, max_output_tokens: 96, wall_time: 120}\n"
           "task: What is 2 + 2?\n";
    const std::string store = (dir.path / "s.db").string();
    const auto run = run_gossamer(
        "run '" + (dir.path / "agent.yaml").string() + "' --json --store '" + store + "'", "");
    CHECK_MESSAGE((run.exit_code == 0 || run.exit_code == 3), run.err);
    std::istringstream lines(run.out);
    std::string line, last;
    int generations = 0;
    while (std::getline(lines, line)) {
        const auto e = Json::parse(line);  // every line is one JSON event
        generations += e["event"] == "usage";
        last = line;
    }
    const auto finished = Json::parse(last);
    CHECK(finished["event"] == "session.finished");
    CHECK(finished["output_tokens"].get<int>() <= 96);
    CHECK(finished["turns"].get<int>() <= 3);
    CHECK(generations >= 1);

    const auto list = run_gossamer("sessions list --json --store '" + store + "'", "");
    REQUIRE(list.exit_code == 0);
    const auto sessions = Json::parse(list.out);
    REQUIRE(sessions.size() == 1);
    CHECK(sessions[0]["status"] != "running");
    CHECK(sessions[0]["stop_reason"] == finished["reason"]);
}
