// Function tools from a native plugin and a real MCP server inside an agent run (`gossamer
// run` driven by the replay model, a test double at the engine boundary): both appear in
// the developer message, calls reach them and results come back; clashes are refused.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/mcp_servers.h"
#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"

using gossamer::test::run_gossamer;
using Json = nlohmann::json;

TEST_CASE("cli function tools: a plugin and an MCP server in one agent run") {
    gossamer::test::TempDir dir("fn_tools");
    const std::string plugin = std::string(GOSSAMER_PLUGIN_DIR) + "/libtextstats.so";
    std::ofstream(dir.path / "agent.yaml") << "name: fn\nmodel: {}\n"
                                              "tools:\n"
                                              "  - plugin: {path: '"
                                           << plugin
                                           << "'}\n"
                                              "  - mcp: {name: everything, command: ['"
                                           << gossamer::test::mcp_server("everything")
                                           << "']}\n"
                                              "task: Count the words, then echo.\n";
    const Json replay = Json::array({
        " to=functions.word_count<|channel|>commentary <|constrain|>json<|message|>{\"text\":\"one "
        "two three\"}<|call|>",
        " to=functions.echo<|channel|>commentary "
        "<|constrain|>json<|message|>{\"message\":\"hi\"}<|call|>",
        "<|channel|>final<|message|>3 words; echoed.<|return|>",
    });
    std::ofstream(dir.path / "replay.json") << replay.dump();
    const std::string store = (dir.path / "s.db").string();
    const auto run =
        run_gossamer("run '" + (dir.path / "agent.yaml").string() + "' --replay '" +
                         (dir.path / "replay.json").string() + "' --store '" + store + "'",
                     "");
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    const auto id =
        Json::parse(run_gossamer("sessions list --json --store '" + store + "'", "").out)[0]["id"];
    const auto all = Json::parse(
        run_gossamer("sessions export " + id.get<std::string>() + " --store '" + store + "'", "")
            .out);
    const auto& messages = all["messages"];
    const std::string developer = messages[1].dump();
    CHECK(developer.find("\"word_count\"") != std::string::npos);  // both sources in one namespace
    CHECK(developer.find("\"echo\"") != std::string::npos);
    std::vector<std::string> results;
    for (const auto& m : messages)
        if (m["role"] == "tool") results.push_back(m["content"].get<std::string>());
    REQUIRE(results.size() == 2);
    CHECK(Json::parse(results[0])["words"] == 3);
    CHECK(results[1] == "Echo: hi");

    // The servers' stderr went to the session log.
    const auto log =
        gossamer::test::read_file(dir.path / "logs" / (id.get<std::string>() + ".log"));
    CHECK(log.find("[everything] ") != std::string::npos);

    const auto rendered = run_gossamer(
        "sessions export " + id.get<std::string>() + " --format harmony --store '" + store + "'",
        "");
    CHECK(rendered.out.find("type word_count = (_: {\ntext: string,\n}) => any;") !=
          std::string::npos);
    CHECK(rendered.out.find("// Echoes back the input") != std::string::npos);
}

TEST_CASE("cli function tools: the same function from two sources is refused at load") {
    gossamer::test::TempDir dir("fn_clash");
    const std::string plugin = std::string(GOSSAMER_PLUGIN_DIR) + "/libtextstats.so";
    std::ofstream(dir.path / "agent.yaml")
        << "name: clash\nmodel: {}\ntools:\n  - plugin: {path: '" << plugin
        << "'}\n  - plugin: {path: '" << plugin << "'}\ntask: t\n";
    std::ofstream(dir.path / "replay.json") << "[\"<|channel|>final<|message|>x<|return|>\"]";
    const auto run = run_gossamer("run '" + (dir.path / "agent.yaml").string() + "' --replay '" +
                                      (dir.path / "replay.json").string() + "' --store '" +
                                      (dir.path / "s.db").string() + "'",
                                  "");
    CHECK(run.exit_code == 2);
    CHECK(run.err.find("two tools define the function 'functions.word_count'") !=
          std::string::npos);
}

TEST_CASE("cli function tools: an MCP server inside the sandbox") {
    gossamer::test::TempDir dir("fn_sandboxed");
    const auto server = gossamer::test::mcp_server("everything");
    const auto install = std::filesystem::path(GOSSAMER_TEST_DATA).parent_path() / "mcp";
    std::ofstream(dir.path / "agent.yaml")
        << "name: boxed\nmodel: {}\ntools:\n  - mcp: {name: everything, sandboxed: true, "
           "read_only: ['"
        << std::filesystem::canonical(install).string() << "'], command: ['" << server
        << "']}\ntask: t\n";
    const Json replay = Json::array({
        " to=functions.get-env<|channel|>commentary <|constrain|>json<|message|>{}<|call|>",
        "<|channel|>final<|message|>done<|return|>",
    });
    std::ofstream(dir.path / "replay.json") << replay.dump();
    ::setenv("GOSSAMER_TEST_SECRET_TOKEN", "hunter2-secret", 1);
    const std::string store = (dir.path / "s.db").string();
    const auto run =
        run_gossamer("run '" + (dir.path / "agent.yaml").string() + "' --json --replay '" +
                         (dir.path / "replay.json").string() + "' --store '" + store + "'",
                     "");
    ::unsetenv("GOSSAMER_TEST_SECRET_TOKEN");
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    const auto id =
        Json::parse(run_gossamer("sessions list --json --store '" + store + "'", "").out)[0]["id"];
    const auto all = Json::parse(
        run_gossamer("sessions export " + id.get<std::string>() + " --store '" + store + "'", "")
            .out);
    std::string env;
    for (const auto& m : all["messages"])
        if (m["role"] == "tool") env = m["content"].get<std::string>();
    CHECK(env.find("\"HOME\": \"/workspace\"") != std::string::npos);  // the sandbox's environment
    CHECK(env.find("hunter2-secret") == std::string::npos);
}

TEST_CASE("cli function tools: gossamer tools list prints the namespaces as the model sees them") {
    gossamer::test::TempDir dir("tools_list");
    const std::string plugin = std::string(GOSSAMER_PLUGIN_DIR) + "/libtextstats.so";
    std::ofstream(dir.path / "agent.yaml")
        << "name: t\nmodel: {}\ntools:\n  - workspace_files\n  - plugin: {path: '" << plugin
        << "'}\ntask: t\n";
    const auto r = run_gossamer("tools list '" + (dir.path / "agent.yaml").string() + "'", "");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.find("# developer message\n\n# Tools\n\n## functions\n\nnamespace functions {\n") ==
          0);
    CHECK(r.out.find("// Counts words, lines and characters of a text.\ntype word_count = (_: "
                     "{\ntext: string,\n}) => any;") != std::string::npos);
    CHECK(r.out.find("type read_file = (_: {") != std::string::npos);
    CHECK(r.out.find("} // namespace functions") != std::string::npos);
    CHECK(run_gossamer("tools list /nonexistent.yaml", "").exit_code == 2);
}
