// Session leases on real sqlite files (runtime/session_store.h): many connections racing for
// one session's lease let exactly one through, every time; a live lease is refused and a stale
// one (old heartbeat, or a holder process that is gone) is taken over; and a store whose lease
// was taken over can no longer commit anything for that session (the fence).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "runtime/agent_spec.h"
#include "runtime/fleet_tasks.h"
#include "runtime/session_store.h"
#include "tests/support/temp_dir.h"

using namespace gossamer;
using runtime::SessionRecord;
using runtime::SessionStore;

namespace {

std::string new_session(SessionStore& store) {
    SessionRecord r;
    r.name = "lease";
    r.spec_yaml = "name: lease\n";
    r.model = "replay:/x";
    return store.create(r);
}

}  // namespace

TEST_CASE("session lease: racing connections, exactly one wins, 200 times") {
    test::TempDir dir("lease_race");
    const auto path = dir.path / "s.db";
    SessionStore setup(path);
    constexpr int kRounds = 200, kRacers = 8;
    for (int round = 0; round < kRounds; ++round) {
        const std::string id = new_session(setup);
        std::atomic<int> ready{0}, winners{0}, refused{0};
        std::vector<std::thread> racers;
        for (int i = 0; i < kRacers; ++i)
            racers.emplace_back([&] {
                SessionStore mine(path);  // its own connection, as another process has
                ++ready;
                while (ready < kRacers) std::this_thread::yield();
                if (mine.take_lease(id, "created", 30))
                    ++refused;
                else
                    ++winners;
            });
        for (auto& t : racers) t.join();
        REQUIRE(winners == 1);
        REQUIRE(refused == kRacers - 1);
    }
}

TEST_CASE("session lease: live leases refuse, stale ones are taken over, writes are fenced") {
    test::TempDir dir("lease_fence");
    const auto path = dir.path / "s.db";
    SessionStore a(path), b(path);
    const std::string id = new_session(a);
    CHECK(a.find(id)->status == "created");
    REQUIRE_FALSE(a.take_lease(id, "created", 30));
    CHECK(a.find(id)->status == "running");
    const auto held = b.take_lease(id, "running", 30);
    REQUIRE(held);  // live: same host, our pid exists, fresh heartbeat
    REQUIRE(held->holder);
    CHECK(held->holder->pid == ::getpid());
    CHECK(held->holder->live(30));
    CHECK(held->status == "running");
    CHECK(a.heartbeat(id));
    a.append_event(id, "note", {{"by", "a"}});

    // B takes over a lease it considers stale (no heartbeat within 0 s): A is fenced out.
    REQUIRE_FALSE(b.take_lease(id, "running", 0));
    CHECK_FALSE(a.heartbeat(id));
    CHECK_THROWS_AS(a.append_event(id, "note", {{"by", "a"}}), runtime::LeaseLost);
    CHECK_THROWS_AS(a.append_message(id, harmony::Message::text(harmony::Role::user, "x"), 1),
                    runtime::LeaseLost);
    CHECK_THROWS_AS(a.set_status(id, "finished", "final"), runtime::LeaseLost);
    // a failed transaction leaves nothing behind
    CHECK_THROWS_AS(a.transaction([&] {
        a.append_event(id, "never", {});  // fenced too
    }),
                    runtime::LeaseLost);
    b.append_event(id, "note", {{"by", "b"}});
    int notes_by_a = 0;
    for (const auto& e : b.events(id)) notes_by_a += e.kind == "note" && e.data["by"] == "a";
    CHECK(notes_by_a == 1);  // only the one written while A held the lease
    b.set_status(id, "finished", "final");
    b.drop_lease(id);
    CHECK_FALSE(b.lease(id));
    CHECK(b.find(id)->status == "finished");

    // A resume that read `running` (A's stale lease) and reaches take_lease only after B
    // finished is refused: the session moved on; one that read `finished` may run it again.
    const auto late = a.take_lease(id, "running", 30);
    REQUIRE(late);
    CHECK_FALSE(late->holder);
    CHECK(late->status == "finished");
    CHECK_FALSE(a.lease(id));
    CHECK(a.find(id)->status == "finished");
    CHECK_FALSE(a.take_lease(id, "finished", 30));
    CHECK(a.find(id)->status == "running");
}

TEST_CASE("session lease: the lease of a process that is gone is stale at once") {
    test::TempDir dir("lease_dead");
    const auto path = dir.path / "s.db";
    SessionStore store(path);
    const std::string id = new_session(store);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        SessionStore theirs(path);
        ::_exit(theirs.take_lease(id, "created", 3600) ? 1 : 0);  // holds it, then dies
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WEXITSTATUS(status) == 0);
    const auto lease = store.lease(id);
    REQUIRE(lease);
    CHECK(lease->pid == child);
    CHECK_FALSE(lease->live(3600));  // the heartbeat is fresh, but its process is gone
    CHECK_FALSE(store.take_lease(id, "running", 3600));
}

TEST_CASE("session store: a path that cannot be a store is refused and nothing is created") {
    test::TempDir dir("store_paths");
    using runtime::StoreOpen;
    using runtime::StorePathError;
    CHECK_THROWS_AS(SessionStore(""), StorePathError);
    CHECK_THROWS_AS(SessionStore(dir.path), StorePathError);
    CHECK_THROWS_AS(SessionStore(dir.path / "missing.db", StoreOpen{true, false}), StorePathError);
    CHECK_THROWS_AS(SessionStore(dir.path / "a/b/s.db", StoreOpen{false, false}), StorePathError);
    CHECK_FALSE(std::filesystem::exists(dir.path / "missing.db"));
    CHECK_FALSE(std::filesystem::exists(dir.path / "a"));
    std::ofstream(dir.path / "text.db") << "hello\n";
    CHECK_THROWS_AS(SessionStore(dir.path / "text.db"), StorePathError);
    CHECK_FALSE(std::filesystem::exists(dir.path / "text.db-wal"));
}

TEST_CASE("fleet tasks: lines parse strictly and fill a template's placeholders") {
    using runtime::SpecError;
    const auto tasks = runtime::parse_task_lines(
        "{\"id\": \"a\", \"vars\": {\"x\": 3, \"y\": \"two words: yes\"}}\n\n"
        "{\"task\": \"Say {{x}}\", \"vars\": {\"x\": true}}\n",
        "t.jsonl");
    REQUIRE(tasks.size() == 2);
    CHECK(tasks[0].id == "a");
    CHECK(tasks[1].id == "task-3");
    CHECK(tasks[1].line == 3);
    const std::string tmpl =
        "name: \"n {{id}}\"\nmodel: {}\ntask: \"{{x}} and {{ y }}\"\n"
        "outputs:\n  report: \"out/{{id}}.json\"\n";
    const auto first =
        runtime::parse_agent_spec(runtime::instantiate_spec(tmpl, "s.yaml", tasks[0], 2), "s", "/");
    CHECK(first.name == "n a");
    CHECK(first.task == "3 and two words: yes");  // a value with ": " stays one string
    CHECK(*first.outputs.report == "out/a.json");
    const auto second =
        runtime::parse_agent_spec(runtime::instantiate_spec(tmpl, "s.yaml", tasks[1], 2), "s", "/");
    CHECK(second.task == "Say true");
    auto refused = [](const std::string& text, const std::string& words) {
        try {
            runtime::parse_task_lines(text, "t.jsonl");
        } catch (const SpecError& e) {
            CHECK_MESSAGE(std::string(e.what()).find(words) != std::string::npos, e.what());
            return;
        }
        FAIL("accepted: " << text);
    };
    refused("", "no tasks");
    refused("{\"task\": 1}\n", "t.jsonl:1: task");
    refused("{}\n[1]\n", "t.jsonl:2: expected a JSON object");
    refused("{\"id\": \"a\"}\n{\"id\": \"a\"}\n", "t.jsonl:2: id 'a' is used");
    refused("{\"vars\": {\"bad name\": 1}}\n", "is not a name");
    refused("{\"vars\": {\"x\": [1]}}\n", "vars.x");
    refused("{\"extra\": 1}\n", "unknown key 'extra'");
    refused("{not json}\n", "not JSON");
    CHECK_THROWS_AS(
        runtime::instantiate_spec("name: n\nmodel: {}\ntask: \"{{missing}}\"\n", "s", tasks[0], 1),
        SpecError);
    CHECK_THROWS_AS(runtime::instantiate_spec("name: n\nmodel: {}\ntask: t\noutputs: {report: "
                                              "r.json}\n",
                                              "s", tasks[0], 2),
                    SpecError);  // every task would write r.json
}
