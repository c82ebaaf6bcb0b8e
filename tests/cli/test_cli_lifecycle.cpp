// A session's life through the real binary, real sqlite files, real processes and the real
// sandbox (the model is the replay test double, scripted harmony text): one explicit state
// per session, leases (a live session cannot be resumed; many resumes racing after a kill
// -9 let exactly one through), start-up failures that create nothing, outputs on every end,
// Ctrl-C during a tool recorded as the user's interruption, user mistakes as exit 2, and a
// workspace under a 0700 folder reachable by the sandbox (issue 16, findings 0-8).
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
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

// A python call that sleeps, then a final answer.
Json slow_replay(double seconds) {
    return Json::array({"<|channel|>commentary to=python<|message|>import time\ntime.sleep(" +
                            std::to_string(seconds) + ")\nprint('slept')<|call|>",
                        "<|channel|>final<|message|>All done.<|return|>"});
}

struct Dir {
    TempDir dir{"lifecycle"};
    std::string spec, replay, store;
    explicit Dir(const std::string& yaml, const Json& script = slow_replay(0)) {
        spec = (dir.path / "agent.yaml").string();
        replay = (dir.path / "replay.json").string();
        store = (dir.path / "s.db").string();
        std::ofstream(spec) << yaml;
        std::ofstream(replay) << script.dump();
    }
    std::string flags() const { return " --replay '" + replay + "' --store '" + store + "'"; }
    std::string run_args() const { return "run '" + spec + "'" + flags(); }
    Json sessions() const { return gossamer::test::stored_sessions(store); }
    Json exported(const std::string& id) const {
        return gossamer::test::exported_session(store, id);
    }
};

constexpr const char* kPythonSpec = R"(name: sleeper
model: {reasoning_effort: low}
tools: [python]
limits: {max_turns: 6}
task: Sleep, then answer.
outputs: {final_answer: answer.md, report: report.json}
)";

// Starts gossamer with `args` (no shell), stdout/stderr to /dev/null; returns its pid.
pid_t spawn(const std::vector<std::string>& args, const std::string& log = "/dev/null") {
    const pid_t pid = gossamer::test::start_gossamer(args, log);
    REQUIRE(pid >= 0);
    return pid;
}

int wait_exit(pid_t pid) {
    return gossamer::test::wait_gossamer(pid);
}

// Waits until the store lists a session with a tool.started event (the python call runs).
std::string wait_for_tool_call(const Dir& d) {
    for (int i = 0; i < 200; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (!fs::exists(d.store)) continue;
        const auto r = run_gossamer("sessions list --json --store '" + d.store + "'", "");
        if (r.exit_code != 0 || r.out.empty()) continue;
        const auto list = Json::parse(r.out);
        if (list.empty()) continue;
        const std::string id = list[0]["id"];
        const Json all = d.exported(id);
        for (const auto& e : all["events"])
            if (e["kind"] == "tool.started") return id;
    }
    FAIL("no tool call started: " << read_file(d.dir.path / "run.log"));
    return {};
}

int count_role(const Json& messages, const std::string& role, const std::string& channel = "") {
    int n = 0;
    for (const auto& m : messages)
        if (m["role"] == role && (channel.empty() || m.value("channel", "") == channel)) ++n;
    return n;
}

}  // namespace

TEST_CASE("cli lifecycle: resume of a session that is running elsewhere is refused") {
    Dir d(kPythonSpec, slow_replay(3));
    const pid_t run = spawn({"run", d.spec, "--replay", d.replay, "--store", d.store},
                            (d.dir.path / "run.log").string());
    const std::string id = wait_for_tool_call(d);
    const auto list = d.sessions();
    CHECK(list[0]["status"] == "running");
    CHECK(list[0]["lease"]["pid"] == run);
    CHECK(list[0]["lease"]["live"] == true);
    const auto resume = run_gossamer("resume " + id + d.flags(), "");
    CHECK(resume.exit_code == 2);
    CHECK_MESSAGE(resume.err.find("is running in pid " + std::to_string(run)) != std::string::npos,
                  resume.err);
    CHECK(wait_exit(run) == 0);
    const auto all = d.exported(id);
    CHECK(count_role(all["messages"], "tool") == 1);  // one result for the one call
    CHECK(count_role(all["messages"], "assistant", "final") == 1);
    CHECK(d.sessions()[0]["status"] == "finished");
    CHECK(d.sessions()[0]["lease"].is_null());
}

TEST_CASE("cli lifecycle: resumes racing after kill -9 let exactly one process through") {
    for (int round = 0; round < 4; ++round) {
        Dir d(kPythonSpec, slow_replay(0.5));
        const pid_t run = spawn({"run", d.spec, "--replay", d.replay, "--store", d.store},
                                (d.dir.path / "run.log").string());
        const std::string id = wait_for_tool_call(d);
        ::kill(run, SIGKILL);
        wait_exit(run);
        CHECK(d.sessions()[0]["status"] == "running");
        CHECK(d.sessions()[0]["lease"]["live"] == false);  // its pid is gone
        std::vector<pid_t> racers;
        for (int i = 0; i < 6; ++i)
            racers.push_back(spawn({"resume", id, "--replay", d.replay, "--store", d.store}));
        int ok = 0, refused = 0;
        for (pid_t p : racers) {
            const int code = wait_exit(p);
            ok += code == 0;
            refused += code == 2;
        }
        CHECK(ok == 1);
        CHECK(refused == 5);
        const auto all = d.exported(id);
        CHECK(count_role(all["messages"], "assistant", "final") == 1);
        CHECK(count_role(all["messages"], "tool") == 1);
        int finished_events = 0;
        for (const auto& e : all["events"]) finished_events += e["kind"] == "session.finished";
        CHECK(finished_events == 1);
    }
}

TEST_CASE("cli lifecycle: a run that fails at start-up creates nothing") {
    Dir d(kPythonSpec);
    const std::string base = "run '" + d.spec + "' --store '" + d.store + "'";
    for (const std::string& extra :
         {std::string(" --model /no/such/dir"), std::string(" --replay /nope.json"),
          std::string(" --replay '" + d.replay + "' --backend metal")}) {
        const auto r = run_gossamer(base + extra, "");
        CHECK_MESSAGE(r.exit_code == 2, extra << ": " << r.err);
        CHECK(r.err.find("internal error") == std::string::npos);
    }
    CHECK_FALSE(fs::exists(d.store));
    CHECK_FALSE(fs::exists(d.dir.path / "workspaces"));
    // --backend cuda: bad input without a usable GPU (CI), a normal run with one.
    const auto cuda = run_gossamer(
        base + " --model '" +
            (fs::path(GOSSAMER_BINARY).parent_path() / "models/gpt-oss-nano").string() +
            "' --backend cuda",
        "");
    const bool have_nano =
        fs::exists(fs::path(GOSSAMER_BINARY).parent_path() / "models/gpt-oss-nano/config.json");
    if (have_nano && cuda.exit_code == 2) {
        CHECK_MESSAGE(cuda.err.find("cuda") != std::string::npos, cuda.err);
        CHECK_FALSE(fs::exists(d.store));
    }

    // A tool that cannot start stops the run before the model is asked anything.
    std::ofstream(d.spec) << "name: x\nmodel: {}\ntools:\n  - python: {interpreter: "
                             "/usr/bin/no-such-python3}\ntask: t\n";
    const auto tool = run_gossamer(d.run_args(), "");
    CHECK(tool.exit_code == 2);
    CHECK_MESSAGE(tool.err.find("python tool cannot run") != std::string::npos, tool.err);
    CHECK_FALSE(fs::exists(d.store));

    // A plugin that is not a shared library: the loader's reason and the spec's place.
    std::ofstream(d.dir.path / "fake.so") << "not an ELF file\n";
    std::ofstream(d.spec) << "name: x\nmodel: {}\ntools:\n  - plugin: {path: fake.so}\ntask: t\n";
    const auto plugin = run_gossamer(d.run_args(), "");
    CHECK(plugin.exit_code == 2);
    CHECK_MESSAGE(plugin.err.find("agent.yaml:4:5: tools[0]") != std::string::npos, plugin.err);
    CHECK_MESSAGE(plugin.err.find("cannot load") != std::string::npos, plugin.err);
}

TEST_CASE("cli lifecycle: a closed stdout (| head) does not leave the session running") {
    Dir d(kPythonSpec);
    const std::string command = "'" + std::string(GOSSAMER_BINARY) + "' " + d.run_args() +
                                " --json 2>/dev/null | head -c 10 > '" +
                                (d.dir.path / "head.txt").string() + "'";
    CHECK(std::system(command.c_str()) == 0);
    CHECK(read_file(d.dir.path / "head.txt").size() == 10);
    const auto list = d.sessions();
    REQUIRE(list.size() == 1);
    CHECK(list[0]["status"] == "finished");
}

TEST_CASE("cli lifecycle: the report is written on every end; unwritable outputs stop start-up") {
    Dir d(std::string(kPythonSpec) + "", slow_replay(0));
    std::string yaml = kPythonSpec;
    yaml.replace(yaml.find("max_turns: 6"), 12, "max_turns: 1");
    std::ofstream(d.spec) << yaml;
    const auto budget = run_gossamer(d.run_args(), "");
    CHECK(budget.exit_code == 3);
    const auto report = Json::parse(read_file(d.dir.path / "report.json"));
    CHECK(report["state"] == "budget");
    CHECK(report["reason"] == "max_turns");
    CHECK_FALSE(fs::exists(d.dir.path / "answer.md"));
    CHECK(d.sessions()[0]["status"] == "budget");
    for (const auto& f : fs::directory_iterator(d.dir.path))  // no temp file left behind
        CHECK(f.path().filename().string().find(".tmp") == std::string::npos);

    std::ofstream(d.spec) << "name: x\nmodel: {}\ntask: t\noutputs: {final_answer: "
                             "/proc/nope/a.md}\n";
    const auto bad = run_gossamer(d.run_args(), "");
    CHECK(bad.exit_code == 2);
    CHECK_MESSAGE(bad.err.find("outputs.final_answer: /proc/nope/a.md") != std::string::npos,
                  bad.err);
    std::ofstream(d.spec) << "name: x\nmodel: {}\ntask: t\noutputs: {report: " +
                                 d.dir.path.string() + "}\n";
    CHECK(run_gossamer(d.run_args(), "").exit_code == 2);  // a folder
    CHECK(d.sessions().size() == 1);                       // neither created a session
}

TEST_CASE("cli lifecycle: Ctrl-C during a tool call is the user's interruption, not a crash") {
    Dir d(kPythonSpec, slow_replay(20));
    const pid_t run = spawn({"run", d.spec, "--replay", d.replay, "--store", d.store},
                            (d.dir.path / "run.log").string());
    const std::string id = wait_for_tool_call(d);
    const auto started = std::chrono::steady_clock::now();
    ::kill(run, SIGINT);
    CHECK(wait_exit(run) == 4);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));  // tool stopped
    CHECK(d.sessions()[0]["status"] == "interrupted");
    const auto report = Json::parse(read_file(d.dir.path / "report.json"));
    CHECK(report["state"] == "interrupted");

    std::ofstream(d.replay) << slow_replay(0).dump();
    const auto resume = run_gossamer("resume " + id + d.flags() + " --json", "");
    CHECK_MESSAGE(resume.exit_code == 0, resume.err);
    const auto all = d.exported(id);
    std::string result;
    for (const auto& m : all["messages"])
        if (m["role"] == "tool") result = m["content"].get<std::string>();
    CHECK_MESSAGE(result.find("the user interrupted this call") != std::string::npos, result);
    CHECK(result.find("stopped while it ran") == std::string::npos);
}

TEST_CASE("cli lifecycle: store and spec mistakes are bad input (exit 2) and create nothing") {
    Dir d(kPythonSpec);
    const std::string run = "run '" + d.spec + "' --replay '" + d.replay + "' --store ";
    auto expect_2 = [&](const std::string& args, const std::string& words) {
        const auto r = run_gossamer(args, "");
        CHECK_MESSAGE(r.exit_code == 2, args << ": " << r.err);
        CHECK_MESSAGE(r.err.find(words) != std::string::npos, args << ": " << r.err);
        CHECK(r.err.find("internal error") == std::string::npos);
    };
    std::ofstream(d.dir.path / "notes.txt") << "not a database, keep me\n";
    expect_2(run + "'" + (d.dir.path / "notes.txt").string() + "'", "not a database");
    CHECK(read_file(d.dir.path / "notes.txt") == "not a database, keep me\n");
    expect_2(run + "'" + d.dir.path.string() + "'", "is a directory");
    expect_2(run + "''", "the path is empty");
    expect_2(run + "'" + (d.dir.path / "no/such/s.db").string() + "'", "does not exist");
    CHECK_FALSE(fs::exists(d.dir.path / "no"));
    expect_2("resume x --store '" + (d.dir.path / "typo.db").string() + "'", "no such file");
    CHECK_FALSE(fs::exists(d.dir.path / "typo.db"));
    expect_2("sessions list --store '" + (d.dir.path / "typo.db").string() + "'", "no such file");
    if (::geteuid() != 0) {  // root may write anywhere
        fs::create_directories(d.dir.path / "ro");
        fs::permissions(d.dir.path / "ro", fs::perms::owner_read | fs::perms::owner_exec);
        expect_2(run + "'" + (d.dir.path / "ro/s.db").string() + "'", "Permission denied");
    }
    expect_2("run '" + d.dir.path.string() + "'", "is a directory");
    std::ofstream(d.spec) << "name: x\nmodel: {}\ntools: [python]\ntools: []\ntask: t\n";
    expect_2(run + "'" + d.store + "'", "agent.yaml:4:1: tools: duplicate key");
    std::ofstream(d.spec)
        << "name: x\nmodel: {sampling: {temperature: 0, temperature: 1}}\ntask: t\n";
    expect_2(run + "'" + d.store + "'", "model.sampling.temperature: duplicate key");
    std::ofstream(d.spec, std::ios::binary) << "name: caf\xe9\nmodel: {}\ntask: t\n";
    expect_2(run + "'" + d.store + "'", "not UTF-8");
    CHECK_FALSE(fs::exists(d.store));
}

TEST_CASE("cli lifecycle: the sandbox reaches a workspace below a 0700 folder") {
    // As root the sandbox runs as another uid, which may not walk through a 0700 folder: the
    // launcher hands the workspace over before that matters (issue 16, finding 0).
    Dir d(kPythonSpec, Json::array({"<|channel|>commentary to=python<|message|>"
                                    "open('/mnt/data/x.txt','w').write('hi')\n"
                                    "print(open('/mnt/data/x.txt').read())<|call|>",
                                    "<|channel|>final<|message|>ok<|return|>"}));
    const fs::path closed = d.dir.path / "closed";
    fs::create_directories(closed);
    ::chmod(closed.c_str(), 0700);
    const std::string store = (closed / "s.db").string();
    const auto r = run_gossamer(
        "run '" + d.spec + "' --json --replay '" + d.replay + "' --store '" + store + "'", "");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err << r.out);
    CHECK_MESSAGE(r.out.find("\"result\":\"hi\\n\"") != std::string::npos, r.out);
    CHECK(r.out.find("sandbox setup failed") == std::string::npos);
}

TEST_CASE("cli lifecycle: help for every command, and command groups list their commands") {
    const auto help = run_gossamer("run --help", "");
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("--lease-timeout") != std::string::npos);
    CHECK(run_gossamer("help run", "").out == help.out);
    const auto group = run_gossamer("sessions", "");
    CHECK(group.exit_code == 2);
    CHECK(group.err.find("sessions list") != std::string::npos);
    CHECK(group.err.find("unknown command") == std::string::npos);
    CHECK(run_gossamer("sessions --help", "").exit_code == 0);
    CHECK(run_gossamer("help no-such", "").exit_code == 2);
    // `--help` after `--` belongs to the sandboxed command
    const auto exec = run_gossamer("sandbox exec --unsandboxed -- /usr/bin/printf %s --help", "");
    CHECK(exec.out == "--help");
}

namespace {

std::vector<std::string> flags_in(const std::string& text) {
    std::vector<std::string> out;
    for (std::size_t at = text.find("--"); at != std::string::npos; at = text.find("--", at + 2)) {
        if (at > 0 &&
            (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '-'))
            continue;
        std::size_t end = at + 2;
        while (end < text.size() &&
               (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '-'))
            ++end;
        if (end > at + 2) out.push_back(text.substr(at, end - at));
    }
    return out;
}

}  // namespace

TEST_CASE("cli lifecycle: every command's --help lists the flags docs/CLI.md lists, and back") {
    const std::string docs = read_file(std::string(GOSSAMER_TEST_DATA) + "/../../docs/CLI.md");
    REQUIRE(!docs.empty());
    const auto usage = run_gossamer("help", "");
    REQUIRE(usage.exit_code == 0);
    std::istringstream lines(usage.out);
    int commands = 0;
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("  ", 0) != 0 || line.size() < 3 || line[2] == ' ') continue;
        // "  name [word]   summary": the name is one or two words before two spaces
        std::string name = line.substr(2, line.find("  ", 2) - 2);
        while (!name.empty() && name.back() == ' ') name.pop_back();
        ++commands;
        const auto help = run_gossamer("help " + name, "");
        REQUIRE_MESSAGE(help.exit_code == 0, name);
        // The docs' section: from the heading naming "gossamer NAME" to the next heading.
        const auto heading = docs.find("# gossamer " + name);
        REQUIRE_MESSAGE(heading != std::string::npos, "docs/CLI.md has no heading for " << name);
        const auto body_end = docs.find("\n#", heading + 1);
        const std::string section = docs.substr(heading, body_end - heading);
        const std::string title = section.substr(0, section.find('\n'));
        for (const auto& flag : flags_in(help.out))
            CHECK_MESSAGE(section.find(flag) != std::string::npos,
                          "gossamer " << name << " --help lists " << flag
                                      << " but its docs/CLI.md section does not");
        for (const auto& flag : flags_in(title))
            CHECK_MESSAGE(help.out.find(flag) != std::string::npos,
                          "docs/CLI.md lists " << flag << " for gossamer " << name
                                               << " but its --help does not");
    }
    CHECK(commands >= 25);
}

TEST_CASE("cli lifecycle: a call whose JSON has a number out of range is the model's error") {
    // Found by fuzzing the tasks parser: nlohmann throws out_of_range, not parse_error, for
    // 1e999; in the agent loop that escaped and ended the process.
    Dir d("name: x\nmodel: {}\ntools: [workspace_files]\nlimits: {max_turns: 4}\ntask: t\n",
          Json::array({"<|channel|>commentary to=functions.list_files <|constrain|>json"
                       "<|message|>{\"depth\": 1e999}<|call|>",
                       "<|channel|>final<|message|>ok<|return|>"}));
    const auto r = run_gossamer(d.run_args() + " --json", "");
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.find("not valid JSON") != std::string::npos);
}

TEST_CASE("lifecycle: sessions gc removes orphaned caches and temporaries, then applies a budget") {
    Dir d(kPythonSpec);
    REQUIRE(run_gossamer(d.run_args(), "").exit_code == 0);
    const std::string id = d.sessions()[0]["id"];
    const fs::path kv = fs::path(d.store).parent_path() / "kv";
    fs::create_directories(kv);
    const auto write = [&](const std::string& name, std::size_t bytes) {
        std::ofstream(kv / name) << std::string(bytes, 'x');
    };
    write(id + ".gkv", 3000);                      // the live session's
    write("gone.gkv", 2000);                       // a session deleted since
    write("serve-0123456789abcdef.gkv", 1000);     // a server conversation's
    write("serve-0123456789abcdef.gkv.tmp", 500);  // an interrupted save
    write("notes.txt", 10);                        // not a cache: never touched

    auto gc = run_gossamer("sessions gc --json --store '" + d.store + "'", "");
    REQUIRE_MESSAGE(gc.exit_code == 0, gc.err);
    auto out = Json::parse(gc.out);
    std::map<std::string, std::string> removed;
    for (const auto& r : out["removed"]) removed[r["file"]] = r["why"];
    CHECK(removed == std::map<std::string, std::string>{
                         {"gone.gkv", "no such session"},
                         {"serve-0123456789abcdef.gkv.tmp", "unfinished write"}});
    CHECK(out["kept_files"] == 2);
    CHECK(out["kept_bytes"] == 4000);
    CHECK(fs::exists(kv / (id + ".gkv")));
    CHECK(fs::exists(kv / "serve-0123456789abcdef.gkv"));

    // A budget below the two: the least recently used goes first.
    fs::last_write_time(kv / "serve-0123456789abcdef.gkv",
                        fs::last_write_time(kv / (id + ".gkv")) - std::chrono::hours(1));
    gc = run_gossamer("sessions gc --json --kv-disk-budget 3500 --store '" + d.store + "'", "");
    REQUIRE_MESSAGE(gc.exit_code == 0, gc.err);
    out = Json::parse(gc.out);
    REQUIRE(out["removed"].size() == 1);
    CHECK(out["removed"][0]["file"] == "serve-0123456789abcdef.gkv");
    CHECK(out["removed"][0]["why"] == "over the budget");
    // 0 removes every cache; other files stay.
    gc = run_gossamer("sessions gc --kv-disk-budget 0 --store '" + d.store + "'", "");
    REQUIRE_MESSAGE(gc.exit_code == 0, gc.err);
    CHECK_FALSE(fs::exists(kv / (id + ".gkv")));
    CHECK(fs::exists(kv / "notes.txt"));
    CHECK(gc.out.find(id + ".gkv") != std::string::npos);
}
