// End to end with no test double anywhere: `gossamer run` with the bundled gpt-oss-nano on the
// real CPU engine, the real sandboxed python tool and the real browser (local backend over
// examples/nano/docs). Greedy decoding, so each run is deterministic.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"

using gossamer::test::run_gossamer;
using gossamer::test::TempDir;

namespace {

const std::string kExamples = std::string(GOSSAMER_TEST_DATA) + "/../../examples/nano/";

// The last JSON-lines event of a `gossamer run --json` (session.finished).
nlohmann::json finished(const std::string& out) {
    const auto start = out.rfind('\n', out.size() - 2);
    return nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start + 1));
}

nlohmann::json run_example(const std::string& spec, const std::string& task, TempDir& dir) {
    const auto r = run_gossamer("run '" + kExamples + spec + "' --json --task '" + task +
                                    "' --store '" + (dir.path / "s.db").string() + "'",
                                "");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    // with no model configured the bundled one is used, and says so
    CHECK(r.err.find("bundled gpt-oss-nano") != std::string::npos);
    return finished(r.out);
}

}  // namespace

TEST_CASE("nano: answers an arithmetic question with the python tool") {
    TempDir dir("nano_python");
    const auto f = run_example("python.yaml", "What is 3921 * 47?", dir);
    CHECK(f["reason"] == "final");
    CHECK(f["final"].get<std::string>().find("184287") != std::string::npos);
    CHECK(f["turns"].get<int>() >= 2);  // it called the tool before answering
}

TEST_CASE("nano: looks a fact up with the browser and cites the document") {
    TempDir dir("nano_browser");
    const auto f = run_example("browser.yaml", "What is the capital of Winmi?", dir);
    CHECK(f["reason"] == "final");
    CHECK(f["final"].get<std::string>().find("Fabelwin") != std::string::npos);
    REQUIRE(f["annotations"].size() >= 1);
    CHECK(f["annotations"][0]["url"].get<std::string>().find("winmi.md") != std::string::npos);
}
