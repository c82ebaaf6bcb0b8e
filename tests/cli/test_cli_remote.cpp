// Agents on remote engines through the real binary: real `gossamer serve` processes on
// loopback running the bundled gpt-oss-nano, driven by `gossamer run` / `resume` / `fleet`
// with --endpoint. Runs are token-for-token the local engine's; a fleet keeps every task
// exactly once while one of three engines is killed and restarted; when every engine is gone
// the session fails with the reason and resumes later. (The wire forms of vLLM and SGLang and
// each fault in isolation: tests/runtime/test_remote_model.cpp.)
#include <doctest/doctest.h>
#include <signal.h>

#include <array>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/support/run_gossamer.h"
#include "tests/support/serve_process.h"
#include "tests/support/stored_sessions.h"
#include "tests/support/temp_dir.h"

using gossamer::test::read_file;
using gossamer::test::run_gossamer;
using gossamer::test::ServeGuard;
using gossamer::test::ServeProcess;
using gossamer::test::start_serve;
using gossamer::test::TempDir;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

fs::path nano() {
    return fs::path(GOSSAMER_BINARY).parent_path() / "models/gpt-oss-nano";
}

std::string quoted(const std::string& s) {
    return "'" + s + "'";
}

// The whole conversation as the model saw it, rendered: equal text = equal tokens.
std::string transcript(const std::string& store) {
    const auto list =
        Json::parse(run_gossamer("sessions list --json --store " + quoted(store), "").out);
    REQUIRE(list.size() == 1);
    const auto r = run_gossamer("sessions export " + list[0]["id"].get<std::string>() +
                                    " --format harmony --store " + quoted(store),
                                "");
    REQUIRE(r.exit_code == 0);
    return r.out;
}

std::string calc_spec(const std::string& sampling, const std::string& extra = "") {
    return "name: calc\nmodel:\n  reasoning_effort: low\n  sampling: " + sampling + "\n" + extra +
           "instructions: \"Answer the user's question. Use the python tool for any calculation "
           "and answer in one sentence.\"\ntools: [python]\nlimits: {max_turns: 8, wall_time: "
           "120}\n";
}

// Three `gossamer serve --model <nano>` processes, stopped at the end of the test.
struct NanoServes {
    std::array<ServeProcess, 3> all;
    ServeGuard guard;
    explicit NanoServes(const fs::path& dir) {
        for (auto& s : all) {
            s = start_serve({"--model", nano().string()}, dir);
            guard.all.push_back(&s);
        }
    }
};

}  // namespace

TEST_CASE("cli remote: runs on 1-3 serve processes are token for token the local engine's") {
    if (!fs::exists(nano() / "config.json")) {
        MESSAGE("no bundled gpt-oss-nano in this build: skipped");
        return;
    }
    TempDir dir("remote");
    NanoServes serves(dir.path);
    auto& [a, b, c] = serves.all;
    REQUIRE((a && b && c));
    const std::vector<std::string> samplings = {"{temperature: 0}", "{temperature: 1, seed: 11}",
                                                "{temperature: 0.7, top_p: 0.95, seed: 3}"};
    const std::vector<std::string> tasks = {"What is 12 * 34?",
                                            "What is the average of 12, 40, 7?"};
    int n = 0;
    for (std::size_t s = 0; s < samplings.size(); ++s) {
        const auto spec = (dir.path / ("s" + std::to_string(s) + ".yaml")).string();
        std::ofstream(spec) << calc_spec(samplings[s]);
        for (const auto& task : tasks) {
            CAPTURE(samplings[s]);
            CAPTURE(task);
            const auto local = (dir.path / ("l" + std::to_string(n) + ".db")).string();
            const auto remote = (dir.path / ("r" + std::to_string(n) + ".db")).string();
            std::string endpoints = " --endpoint " + a.url;
            if (n % 3 >= 1) endpoints += " --endpoint " + b.url;
            if (n % 3 == 2) endpoints += " --endpoint " + c.url;
            ++n;
            const auto l =
                run_gossamer("run " + quoted(spec) + " --task " + quoted(task) + " --model " +
                                 quoted(nano().string()) + " --store " + quoted(local),
                             "");
            const auto r = run_gossamer("run " + quoted(spec) + " --task " + quoted(task) +
                                            endpoints + " --store " + quoted(remote),
                                        "");
            CHECK_MESSAGE(l.exit_code == 0, l.err);
            CHECK_MESSAGE(r.exit_code == 0, r.err);
            CHECK(r.err.find("warning") == std::string::npos);
            const auto lt = transcript(local), rt = transcript(remote);
            CHECK(lt.size() > 200);
            CHECK(lt == rt);
            // The remote session says where each generation ran.
            const auto show = run_gossamer("sessions show $(" + std::string(GOSSAMER_BINARY) +
                                               " sessions list --json --store " + quoted(remote) +
                                               " | sed -n 's/.*\"id\":\"\\([^\"]*\\)\".*/\\1/p' | "
                                               "head -1) --store " +
                                               quoted(remote),
                                           "");
            CHECK(show.out.find("usage: " + a.url) != std::string::npos);
        }
    }
}

TEST_CASE(
    "cli remote: every endpoint gone: the session fails with the reason and resumes "
    "later on a live one") {
    if (!fs::exists(nano() / "config.json")) {
        MESSAGE("no bundled gpt-oss-nano in this build: skipped");
        return;
    }
    TempDir dir("remote_down");
    // A slow scripted engine (the replay test double behind a real serve process): 100 ms a
    // token, so the run is mid-generation when the engine is killed.
    const auto replay = (dir.path / "slow.json").string();
    std::ofstream(replay) << Json::array({"<|channel|>final<|message|>" + std::string(200, 'x') +
                                          "<|return|>"})
                                 .dump();
    ServeProcess slow = start_serve({"--replay", replay, "--replay-delay-ms", "100"}, dir.path);
    ServeGuard guard{{&slow}};
    REQUIRE(slow);
    const auto spec = (dir.path / "calc.yaml").string();
    std::ofstream(spec) << calc_spec("{temperature: 0}", "  remote: {max_attempts: 3}\n");
    const auto store = (dir.path / "s.db").string();
    const pid_t run = gossamer::test::start_gossamer(
        {"run", spec, "--task", "What is 12 * 34?", "--endpoint", slow.url, "--store", store},
        (dir.path / "run.err").string());
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    gossamer::test::stop_serve(slow, SIGKILL);
    CHECK(gossamer::test::wait_gossamer(run) == 1);
    const auto sessions = gossamer::test::stored_sessions(store);
    REQUIRE(sessions.size() == 1);
    const std::string id = sessions[0]["id"];
    CHECK(sessions[0]["status"] == "failed");
    const std::string error = sessions[0].value("error", "");
    CHECK(error.find("every endpoint failed") != std::string::npos);
    CHECK(error.find(slow.url) != std::string::npos);
    // No half generation was committed: only the system, developer and user messages.
    const auto exported = gossamer::test::exported_session(store, id);
    for (const auto& m : exported["messages"]) CHECK(m["role"] != "assistant");

    // The engine comes back (the same address, now the real nano): resume finishes the run.
    ServeProcess back = start_serve({"--model", nano().string()}, dir.path, slow.port);
    guard.all.push_back(&back);
    REQUIRE(back);
    const auto resumed = run_gossamer("resume " + id + " --store " + quoted(store), "");
    CHECK_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(gossamer::test::stored_sessions(store)[0]["status"] == "finished");
    CHECK(resumed.out.find("408") != std::string::npos);
}

TEST_CASE(
    "cli remote: a fleet of 32 nano tasks over 3 serve processes, one killed and "
    "restarted mid-run: every task ends exactly once, as on the local engine") {
    if (!fs::exists(nano() / "config.json")) {
        MESSAGE("no bundled gpt-oss-nano in this build: skipped");
        return;
    }
    TempDir dir("remote_fleet");
    NanoServes serves(dir.path);
    auto& [a, b, c] = serves.all;
    REQUIRE((a && b && c));
    const auto spec = (dir.path / "agent.yaml").string();
    fs::copy_file(std::string(GOSSAMER_TEST_DATA) + "/../../examples/fleet/agent.yaml", spec);
    std::string tasks;
    for (int i = 0; i < 32; ++i)
        tasks += "{\"id\": \"t" + std::to_string(i) +
                 "\", \"vars\": {\"a\": " + std::to_string(1000 + 37 * i) +
                 ", \"b\": " + std::to_string(11 + i) + "}}\n";
    std::ofstream(dir.path / "tasks.jsonl") << tasks;
    const auto tasks_file = (dir.path / "tasks.jsonl").string();

    const auto local_results = (dir.path / "local.jsonl").string();
    const auto local = run_gossamer("fleet " + quoted(spec) + " --tasks " + quoted(tasks_file) +
                                        " --parallel 16 --model " + quoted(nano().string()) +
                                        " --store " + quoted((dir.path / "l.db").string()) +
                                        " --results " + quoted(local_results),
                                    "");
    REQUIRE_MESSAGE(local.exit_code == 0, local.err);

    const auto store = (dir.path / "r.db").string();
    const auto results = (dir.path / "remote.jsonl").string();
    const pid_t fleet = gossamer::test::start_gossamer(
        {"fleet", spec, "--tasks", tasks_file, "--parallel", "16", "--endpoint", a.url,
         "--endpoint", b.url, "--endpoint", c.url, "--store", store, "--results", results},
        (dir.path / "fleet.err").string());
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    const int port = b.port;
    gossamer::test::stop_serve(b, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    b = start_serve({"--model", nano().string()}, dir.path, port);
    CHECK(b);
    CHECK_MESSAGE(gossamer::test::wait_gossamer(fleet) == 0, read_file(dir.path / "fleet.err"));

    auto answers = [](const std::string& file) {
        std::map<std::string, std::string> out;
        std::istringstream in(read_file(file));
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) {
                const auto j = Json::parse(line);
                out[j["id"]] = j["state"].get<std::string>() + ": " + j.value("final", "");
            }
        return out;
    };
    const auto remote_answers = answers(results);
    CHECK(remote_answers.size() == 32);
    CHECK(remote_answers == answers(local_results));
    const auto sessions = gossamer::test::stored_sessions(store);
    CHECK(sessions.size() == 32);  // no task got a second session
    int retried = 0, on_b = 0;
    for (const auto& s : sessions) {
        const auto all = gossamer::test::exported_session(store, s["id"]);
        int finals = 0, calls = 0, results_seen = 0, finished = 0;
        for (const auto& m : all["messages"]) {
            if (m["role"] == "assistant" && m.value("channel", "") == "final") ++finals;
            if (m["role"] == "assistant" && m.contains("recipient") && m["recipient"] == "python")
                ++calls;
            if (m["role"] == "tool") ++results_seen;
        }
        for (const auto& e : all["events"]) {
            finished += e["kind"] == "session.finished";
            if (e["kind"] == "generation") {
                retried += e["data"].value("retries", 0) > 0;
                on_b += e["data"].value("endpoint", "") == b.url;
            }
        }
        CHECK(finals == 1);
        CHECK(calls == results_seen);
        CHECK(finished == 1);
    }
    MESSAGE("generations retried after the kill: " << retried
                                                   << ", served by the killed one: " << on_b);
    CHECK(retried > 0);  // the kill did hit generations in flight
    CHECK(on_b > 0);
}

TEST_CASE("cli remote: bad endpoints are exit 2 before anything is created") {
    TempDir dir("remote_bad");
    const auto spec = (dir.path / "a.yaml").string();
    std::ofstream(spec) << calc_spec("{temperature: 0}");
    const auto store = (dir.path / "s.db").string();
    const std::string base = "run " + quoted(spec) + " --task hi --store " + quoted(store);
    const auto none = run_gossamer(base + " --endpoint http://127.0.0.1:1", "");
    CHECK(none.exit_code == 2);
    CHECK(none.err.find("no endpoint answered: http://127.0.0.1:1") != std::string::npos);
    const auto scheme = run_gossamer(base + " --endpoint ftp://h", "");
    CHECK(scheme.exit_code == 2);
    CHECK(scheme.err.find("--endpoint 'ftp://h': must be an http:// or https:// URL") !=
          std::string::npos);
    const auto secret = run_gossamer(base + " --endpoint http://me:pw@127.0.0.1:1", "");
    CHECK(secret.exit_code == 2);
    CHECK(secret.err.find("must not hold a user or password") != std::string::npos);
    CHECK(secret.err.find("pw") == std::string::npos);  // the password is not echoed
    CHECK(run_gossamer(base + " --endpoint http://127.0.0.1:1 --engine-api tgi", "").exit_code ==
          2);
    const auto spec_key = (dir.path / "k.yaml").string();
    std::ofstream(spec_key) << calc_spec("{temperature: 0}",
                                         "  api_key_env: GOSSAMER_TEST_UNSET_KEY\n");
    const auto key = run_gossamer("run " + quoted(spec_key) + " --task hi --store " +
                                      quoted(store) + " --endpoint http://127.0.0.1:1",
                                  "");
    CHECK(key.exit_code == 2);
    CHECK(key.err.find("GOSSAMER_TEST_UNSET_KEY, which is not set") != std::string::npos);
    CHECK_FALSE(fs::exists(store));  // no session, no store
}
