// The browser inside an agent run (`gossamer run`, replay model = a test double at the engine
// boundary) on the offline local backend: built-in calls on the analysis channel reach it,
// and the final answer's 【cursor†Lx-Ly】 citations become URL annotations.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"

using gossamer::test::run_gossamer;
using Json = nlohmann::json;

TEST_CASE("cli browser agent: search, open, and a cited final answer") {
    gossamer::test::TempDir dir("browser_agent");
    std::filesystem::create_directories(dir.path / "docs");
    std::ofstream(dir.path / "docs" / "otters.md")
        << "# Sea otters\n\nSea otters hold hands while they sleep "
           "so that they do not drift apart.\n";
    std::ofstream(dir.path / "agent.yaml") << "name: research\nmodel: {}\n"
                                              "tools:\n  - browser: {backend: local, root: docs}\n"
                                              "task: Why do sea otters hold hands?\n";
    const Json replay = Json::array({
        "<|channel|>analysis to=browser.search <|constrain|>json<|message|>{\"query\":\"sea otters "
        "hold hands\"}<|call|>",
        "<|channel|>analysis to=browser.open <|constrain|>json<|message|>{\"id\":0}<|call|>",
        "<|channel|>final<|message|>So they do not drift apart while asleep 【1†L1-L3】.<|return|>",
    });
    std::ofstream(dir.path / "replay.json") << replay.dump();
    const auto run = run_gossamer("run '" + (dir.path / "agent.yaml").string() +
                                      "' --json --replay '" + (dir.path / "replay.json").string() +
                                      "' --store '" + (dir.path / "s.db").string() + "'",
                                  "");
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    std::istringstream lines(run.out);
    std::string line, last;
    std::vector<Json> tool_results;
    while (std::getline(lines, line)) {
        const auto e = Json::parse(line);
        if (e["event"] == "tool.finished") tool_results.push_back(e);
        last = line;
    }
    REQUIRE(tool_results.size() == 2);
    CHECK(tool_results[0]["ok"] == true);
    CHECK(tool_results[0]["result"].get<std::string>().find("otters") != std::string::npos);
    CHECK(tool_results[1]["result"].get<std::string>().find("drift apart") != std::string::npos);
    const auto finished = Json::parse(last);
    CHECK(finished["reason"] == "final");
    REQUIRE(finished.contains("annotations"));
    REQUIRE(finished["annotations"].size() == 1);
    CHECK(finished["annotations"][0]["type"] == "url_citation");
    CHECK(finished["annotations"][0]["url"].get<std::string>().find("otters.md") !=
          std::string::npos);
    CHECK(finished["final"].get<std::string>().find("【") == std::string::npos);
}
