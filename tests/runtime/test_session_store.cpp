// The session store on real sqlite files: records, messages that re-render exactly, events,
// transactions that roll back, reopening, and a clear error for an unusable path.
#include <doctest/doctest.h>

#include <fstream>
#include <set>

#include "harmony/builtin_tools.h"
#include "runtime/session_store.h"
#include "tests/support/temp_dir.h"

using namespace gossamer;
using runtime::SessionRecord;
using runtime::SessionStore;

TEST_CASE("session store: sessions, messages and events survive reopening") {
    test::TempDir dir("store");
    const auto path = dir.path / "nested" / "sessions.db";
    std::string id;
    harmony::Message system;
    system.role = harmony::Role::system;
    harmony::SystemContent content;
    content.tools.emplace();
    content.tools->emplace("python", harmony::builtin_tools::python_stateful());
    system.content.push_back(content);
    auto call = harmony::Message::text(harmony::Role::assistant, "{\"x\": 1}");
    call.recipient = "functions.f";
    call.channel = "commentary";
    call.content_type = "<|constrain|>json";
    {
        SessionStore store(path);
        SessionRecord r;
        r.name = "demo";
        r.spec_yaml = "name: demo\n";
        r.model = "/models/x";
        id = store.create(r);
        CHECK(r.id == id);
        CHECK(id.size() == 22);
        store.transaction([&] {
            CHECK(store.append_message(id, system, 120) == 0);
            CHECK(store.append_message(id, call, 9) == 1);
            CHECK(store.append_event(id, "tool.started", {{"message", 1}}) == 0);
        });
        store.set_status(id, "finished", "final", "done!");
    }
    SessionStore store(path);
    const auto r = store.find(id);
    REQUIRE(r);
    CHECK(r->name == "demo");
    CHECK(r->status == "finished");
    CHECK(r->final_answer == "done!");
    const auto messages = store.messages(id);
    REQUIRE(messages.size() == 2);
    CHECK(harmony::message_to_json(messages[0].message) == harmony::message_to_json(system));
    CHECK(harmony::message_to_json(messages[1].message) == harmony::message_to_json(call));
    CHECK(messages[1].tokens == 9);
    const auto events = store.events(id);
    REQUIRE(events.size() == 1);
    CHECK(events[0].data["message"] == 1);
    CHECK(store.list().size() == 1);
    CHECK_FALSE(store.find("nope"));
}

TEST_CASE("session store: a failed transaction leaves nothing behind") {
    test::TempDir dir("store");
    SessionStore store(dir.path / "s.db");
    SessionRecord r;
    r.name = "x";
    const auto id = store.create(r);
    CHECK_THROWS_AS(store.transaction([&] {
        store.append_message(id, harmony::Message::text(harmony::Role::user, "hi"), 1);
        throw std::runtime_error("crash in the middle of a step");
    }),
                    std::runtime_error);
    CHECK(store.messages(id).empty());
    store.append_message(id, harmony::Message::text(harmony::Role::user, "again"), 1);
    CHECK(store.messages(id).size() == 1);
}

TEST_CASE("session store: ids are unique and an unusable path is a clear error") {
    test::TempDir dir("store");
    SessionStore store(dir.path / "s.db");
    std::set<std::string> ids;
    for (int i = 0; i < 50; ++i) {
        SessionRecord r;
        ids.insert(store.create(r));
    }
    CHECK(ids.size() == 50);
    std::ofstream(dir.path / "file") << "x";
    CHECK_THROWS_AS(SessionStore(dir.path / "file" / "s.db"), runtime::StoreError);
    std::ofstream(dir.path / "garbage.db") << std::string(4096, 'g');
    try {
        SessionStore bad(dir.path / "garbage.db");
        FAIL("opened a file that is not a database");
    } catch (const runtime::StoreError& e) {
        CHECK(std::string(e.what()).find("garbage.db") != std::string::npos);
    }
}
