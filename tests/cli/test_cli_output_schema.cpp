// Structured final output (outputs.schema / --output-schema): the bundled gpt-oss-nano's final
// answer sampled under the schema's token mask always parses and validates and lands in
// report.json; with the replay model (a test double at the engine boundary, which applies no
// mask) an answer that fails the schema goes back to the model; the schema survives resume
// (stored in the session's spec); bad schema files are refused before anything runs.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/run_gossamer.h"
#include "tests/support/stored_sessions.h"
#include "tests/support/temp_dir.h"

using gossamer::test::read_file;
using gossamer::test::run_gossamer;
using gossamer::test::TempDir;
using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

const char* kSchema =
    R"({"type": "object", "properties": {"answer": {"type": "integer"},
        "unit": {"enum": ["none", "m", "s"]}}, "required": ["answer", "unit"],
        "additionalProperties": false})";

}  // namespace

TEST_CASE("cli output schema: nano's final answer under the mask always validates") {
    const fs::path nano = fs::path(GOSSAMER_BINARY).parent_path() / "models/gpt-oss-nano";
    if (!fs::exists(nano / "config.json")) {
        MESSAGE("no bundled gpt-oss-nano in this build: skipped");
        return;
    }
    TempDir dir("cli_schema_nano");
    std::ofstream(dir.path / "schema.json") << kSchema;
    int validated = 0;
    for (const char* task : {"What is 3921 * 47?", "What is 12 + 30?", "What is 7 * 6?",
                             "Compute 1000 - 1.", "What is 2 ** 10?"}) {
        CAPTURE(task);
        std::ofstream(dir.path / "a.yaml")
            << "name: q\nmodel:\n  reasoning_effort: low\n  sampling: {temperature: 0}\n"
               "instructions: \"Answer the user's question. Use the python tool for any "
               "calculation and answer in one sentence.\"\ntools: [python]\n"
               "limits: {max_turns: 6, max_output_tokens: 2000}\noutputs: {report: report.json}\n"
               "task: \""
            << task << "\"\n";
        const auto r = run_gossamer("run '" + (dir.path / "a.yaml").string() + "' --store '" +
                                        (dir.path / "s.db").string() + "' --output-schema '" +
                                        (dir.path / "schema.json").string() + "'",
                                    "");
        const auto report = Json::parse(read_file(dir.path / "report.json"));
        if (report["reason"] != "final") continue;  // a budget ended it: nothing to validate
        CHECK_MESSAGE(r.exit_code == 0, r.err);
        REQUIRE(report["output"].is_object());
        const auto& out = report["output"];
        CHECK(out.size() == 2);
        CHECK(out["answer"].is_number_integer());
        CHECK((out["unit"] == "none" || out["unit"] == "m" || out["unit"] == "s"));
        CHECK(Json::parse(report["final"].get<std::string>()) == report["output"]);
        ++validated;
    }
    CHECK(validated >= 3);
}

TEST_CASE("cli output schema: an answer that fails the schema goes back to the model") {
    TempDir dir("cli_schema_replay");
    std::ofstream(dir.path / "schema.json") << kSchema;
    const auto spec = (dir.path / "a.yaml").string();
    std::ofstream(spec) << "name: q\nmodel: {}\nlimits: {max_turns: 3}\ntask: t\n"
                           "outputs: {report: report.json, schema: schema.json}\n";
    const auto replay = (dir.path / "r.json").string();
    std::ofstream(replay) << Json::array({"<|channel|>final<|message|>{\"answer\": \"five\", "
                                          "\"unit\": \"none\"}<|return|>"})
                                 .dump();
    const auto store = (dir.path / "s.db").string();
    const auto r = run_gossamer(
        "run '" + spec + "' --replay '" + replay + "' --store '" + store + "' --json", "");
    CHECK(r.exit_code == 3);  // max_turns: every answer was sent back
    const auto report = Json::parse(read_file(dir.path / "report.json"));
    CHECK(report["reason"] == "max_turns");
    CHECK(report["output"].is_null());
    const auto sessions = gossamer::test::stored_sessions(store);
    REQUIRE(sessions.size() == 1);
    const auto all = gossamer::test::exported_session(store, sessions[0]["id"]);
    int sent_back = 0;
    for (const auto& text : gossamer::test::texts_of(all, "user")) {
        if (text.rfind("Your final answer must be one JSON value valid under the output schema",
                       0) == 0) {
            ++sent_back;
            CHECK(text.find("answer") != std::string::npos);
        }
    }
    CHECK(sent_back == 3);  // each of the three answers
}

TEST_CASE("cli output schema: a valid answer lands in report.json; --output-schema is stored") {
    TempDir dir("cli_schema_ok");
    std::ofstream(dir.path / "schema.json") << kSchema;
    const auto spec = (dir.path / "a.yaml").string();
    std::ofstream(spec) << "name: q\nmodel: {}\nlimits: {max_turns: 3}\ntask: t\n"
                           "outputs: {report: report.json}\n";
    const auto replay = (dir.path / "r.json").string();
    std::ofstream(replay) << Json::array({"<|channel|>final<|message|>{\"answer\": 42, "
                                          "\"unit\": \"m\"}<|return|>"})
                                 .dump();
    const auto store = (dir.path / "s.db").string();
    const auto r =
        run_gossamer("run '" + spec + "' --replay '" + replay + "' --store '" + store +
                         "' --output-schema '" + (dir.path / "schema.json").string() + "'",
                     "");
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    const auto report = Json::parse(read_file(dir.path / "report.json"));
    CHECK(report["output"] == Json::parse(R"({"answer": 42, "unit": "m"})"));
    // The schema is kept in the stored spec: a resumed session still answers under it.
    // (The first run is slowed past a 2 s wall time, so it stops unfinished.)
    const auto slow_spec = (dir.path / "slow.yaml").string();
    std::ofstream(slow_spec) << "name: q\nmodel: {}\nlimits: {wall_time: 2}\ntask: t\n"
                                "outputs: {report: report.json}\n";
    const auto first = run_gossamer(
        "run '" + slow_spec + "' --replay '" + replay + "' --replay-delay-ms 400 --store '" +
            store + "' --output-schema '" + (dir.path / "schema.json").string() + "'",
        "");
    CHECK(first.exit_code == 3);
    const auto sessions = gossamer::test::stored_sessions(store);
    REQUIRE(sessions.size() == 2);
    std::string unfinished;
    for (const auto& s : sessions)
        if (s["status"] != "finished") unfinished = s["id"];
    REQUIRE(!unfinished.empty());
    const auto resumed = run_gossamer(
        "resume " + unfinished + " --replay '" + replay + "' --store '" + store + "'", "");
    CHECK_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(Json::parse(read_file(dir.path / "report.json"))["output"]["answer"] == 42);

    for (const auto& [content, expect] : std::vector<std::pair<std::string, std::string>>{
             {"{not json", "not valid JSON"}, {"[1, 2]", "must be a JSON Schema object"}}) {
        std::ofstream(dir.path / "bad.json") << content;
        const auto bad =
            run_gossamer("run '" + spec + "' --replay '" + replay + "' --store '" + store +
                             "' --output-schema '" + (dir.path / "bad.json").string() + "'",
                         "");
        CHECK(bad.exit_code == 2);
        CHECK_MESSAGE(bad.err.find(expect) != std::string::npos, bad.err);
    }
    const auto missing = run_gossamer(
        "run '" + spec + "' --replay '" + replay + "' --output-schema /nonexistent.json", "");
    CHECK(missing.exit_code == 2);
    CHECK(gossamer::test::stored_sessions(store).size() == 2);  // nothing was created
}
