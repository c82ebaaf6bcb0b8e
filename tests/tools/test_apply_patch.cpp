// apply_patch (tools/patch): the V4A grammar, the reference's matching rules, all-or-nothing
// application, and every way out of the workspace (.., absolute paths, symlinks on the way or
// at the end, protected names), on real files in a temp folder.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"
#include "tools/patch/apply_patch_tool.h"

namespace fs = std::filesystem;
namespace tp = gossamer::tools::patch;
using gossamer::test::read_file;
using gossamer::test::TempDir;

namespace {

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

gossamer::tools::ToolOutput run(const fs::path& ws, const std::string& patch) {
    return tp::ApplyPatchTool().run(patch, ws);
}

}  // namespace

TEST_CASE("apply_patch: add, update with anchors, move and delete in one patch") {
    TempDir ws("patch");
    write(ws.path / "src/app.py",
          "import os\n\ndef greet():\n    print(\"Hi\")\n\ndef bye():\n    print(\"Bye\")\n");
    write(ws.path / "obsolete.txt", "old\n");
    const auto out = run(ws.path, R"(*** Begin Patch
*** Add File: hello.txt
+Hello world
*** Update File: src/app.py
*** Move to: src/main.py
@@ def greet():
-    print("Hi")
+    print("Hello, world!")
@@ def bye():
     print("Bye")
+    return 0
*** Delete File: obsolete.txt
*** End Patch
)");
    CHECK_MESSAGE(!out.is_error, out.text);
    CHECK(out.text == "Done!\nA hello.txt\nM src/app.py -> src/main.py\nD obsolete.txt");
    CHECK(read_file(ws.path / "hello.txt") == "Hello world\n");
    CHECK(read_file(ws.path / "src/main.py") ==
          "import os\n\ndef greet():\n    print(\"Hello, world!\")\n\ndef bye():\n    "
          "print(\"Bye\")\n    return 0\n");
    CHECK_FALSE(fs::exists(ws.path / "src/app.py"));
    CHECK_FALSE(fs::exists(ws.path / "obsolete.txt"));
    // No temp file is left behind.
    for (const auto& e : fs::recursive_directory_iterator(ws.path))
        CHECK(e.path().filename().string().find("gossamer-patch") == std::string::npos);
}

TEST_CASE(
    "apply_patch: matching is exact, then without trailing, then surrounding space; "
    "CRLF, no final newline, End of File, Unicode") {
    TempDir ws("patch_match");
    write(ws.path / "a.txt", "x = 1   \ny = 2\n");
    CHECK_FALSE(
        run(ws.path, "*** Begin Patch\n*** Update File: a.txt\n@@\n-x = 1\n+x = 10\n*** End Patch")
            .is_error);
    CHECK(read_file(ws.path / "a.txt") == "x = 10\ny = 2\n");
    write(ws.path / "b.txt", "    indented\nz\n");
    CHECK_FALSE(
        run(ws.path,
            "*** Begin Patch\n*** Update File: b.txt\n@@\n-indented\n+    changed\n*** End Patch")
            .is_error);
    CHECK(read_file(ws.path / "b.txt") == "    changed\nz\n");
    // CRLF file: added lines keep CRLF; the patch itself may be CRLF too.
    write(ws.path / "c.txt", "one\r\ntwo\r\nthree\r\n");
    CHECK_FALSE(run(ws.path,
                    "*** Begin Patch\r\n*** Update File: c.txt\r\n@@\r\n "
                    "one\r\n-two\r\n+deux\r\n*** End Patch\r\n")
                    .is_error);
    CHECK(read_file(ws.path / "c.txt") == "one\r\ndeux\r\nthree\r\n");
    // No final newline stays so; End of File anchors at the end (the same line earlier too).
    write(ws.path / "d.txt", "end\nmiddle\nend");
    CHECK_FALSE(run(ws.path,
                    "*** Begin Patch\n*** Update File: d.txt\n@@\n-end\n+fin\n*** End of File\n*** "
                    "End Patch")
                    .is_error);
    CHECK(read_file(ws.path / "d.txt") == "end\nmiddle\nfin");
    write(ws.path / "u.txt", "naïve café\n日本\n");
    CHECK_FALSE(
        run(ws.path, "*** Begin Patch\n*** Update File: u.txt\n-日本\n+日本語\n*** End Patch")
            .is_error);
    CHECK(read_file(ws.path / "u.txt") == "naïve café\n日本語\n");
    // JSON forms of the argument, as models write them.
    CHECK_FALSE(
        run(ws.path, R"({"input": "*** Begin Patch\n*** Add File: j.txt\n+j\n*** End Patch"})")
            .is_error);
    CHECK(read_file(ws.path / "j.txt") == "j\n");
    CHECK_FALSE(
        run(ws.path, R"("*** Begin Patch\n*** Delete File: j.txt\n*** End Patch")").is_error);
    CHECK_FALSE(fs::exists(ws.path / "j.txt"));
}

TEST_CASE(
    "apply_patch: a hunk that does not match names the file and hunk, shows the nearest "
    "lines, and changes nothing (atomic over files)") {
    TempDir ws("patch_atomic");
    write(ws.path / "a.txt", "alpha\n");
    write(ws.path / "b.txt", "beta\n");
    write(ws.path / "c.py", "def f():\n    return 1 + 1\n");
    const auto out = run(ws.path, R"(*** Begin Patch
*** Update File: a.txt
-alpha
+ALPHA
*** Add File: new.txt
+new
*** Update File: c.py
@@ def f():
-    return 1 - 1
+    return 2
*** End Patch)");
    CHECK(out.is_error);
    CHECK(out.text.find("c.py: hunk 1 (@@ def f():) did not match") != std::string::npos);
    CHECK(out.text.find("2|     return 1 + 1") != std::string::npos);
    CHECK(read_file(ws.path / "a.txt") == "alpha\n");  // the first file was not changed
    CHECK_FALSE(fs::exists(ws.path / "new.txt"));
    for (const auto& [patch, want] : std::vector<std::pair<std::string, std::string>>{
             {"*** Update File: a.txt\n-alpha", "must start with '*** Begin Patch'"},
             {"*** Begin Patch\n*** Update File: a.txt\n-alpha\n+x",
              "must end with '*** End Patch'"},
             {"*** Begin Patch\n*** Add File: z\nnot plus\n*** End Patch",
              "line 3: every line of an added file"},
             {"*** Begin Patch\n*** Frobnicate: a\n*** End Patch",
              "line 2: expected '*** Add File: '"},
             {"*** Begin Patch\n*** Update File: a.txt\n*** End Patch", "has no hunks"},
             {"*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch", "already exists"},
             {"*** Begin Patch\n*** Delete File: nope\n*** End Patch", "nope: does not exist"},
             {"*** Begin Patch\n*** Update File: a.txt\n-alpha\n+1\n*** Update File: "
              "a.txt\n-alpha\n+2\n*** End Patch",
              "appears twice"},
         }) {
        CAPTURE(patch);
        const auto r = run(ws.path, patch);
        CHECK(r.is_error);
        CHECK(r.text.find(want) != std::string::npos);
    }
    CHECK(read_file(ws.path / "a.txt") == "alpha\n");
}

TEST_CASE("apply_patch: nothing outside the workspace, no symlinks, protected names") {
    TempDir outside("patch_outside");
    TempDir ws("patch_escape");
    write(outside.path / "secret.txt", "secret\n");
    write(ws.path / "ok.txt", "ok\n");
    fs::create_directory_symlink(outside.path, ws.path / "link_dir");
    fs::create_symlink(outside.path / "secret.txt", ws.path / "link_file");
    write(ws.path / ".git/config", "[core]\n");
    const std::vector<std::pair<std::string, std::string>> escapes = {
        {"*** Update File: ../patch_outside/secret.txt\n-secret\n+owned", "'..' is not allowed"},
        {"*** Update File: " + (outside.path / "secret.txt").string() + "\n-secret\n+owned",
         "not absolute"},
        {"*** Update File: link_dir/secret.txt\n-secret\n+owned", "symlink"},
        {"*** Add File: link_dir/new.txt\n+owned", "symlink"},
        {"*** Update File: link_file\n-secret\n+owned", "symlink"},
        {"*** Delete File: link_file", "symlink"},
        {"*** Update File: .git/config\n-[core]\n+owned", "'.git' is protected"},
        {"*** Add File: sub/.gossamer/x\n+owned", "'.gossamer' is protected"},
        {"*** Update File: ok.txt\n*** Move to: ../escaped.txt\n-ok\n+moved",
         "'..' is not allowed"},
    };
    for (const auto& [body, want] : escapes) {
        CAPTURE(body);
        const auto r = run(ws.path, "*** Begin Patch\n" + body + "\n*** End Patch");
        CHECK(r.is_error);
        CHECK(r.text.find(want) != std::string::npos);
    }
    CHECK(read_file(outside.path / "secret.txt") == "secret\n");
    CHECK(read_file(ws.path / ".git/config") == "[core]\n");
    CHECK(fs::is_symlink(ws.path / "link_file"));
    CHECK_FALSE(fs::exists(outside.path / "new.txt"));
    CHECK_FALSE(fs::exists(ws.path.parent_path() / "escaped.txt"));
    // A hard link to a file outside: the patch replaces the link, never the outside file.
    write(outside.path / "shared.txt", "shared\n");
    if (::link((outside.path / "shared.txt").c_str(), (ws.path / "hard.txt").c_str()) == 0) {
        CHECK_FALSE(run(ws.path,
                        "*** Begin Patch\n*** Update File: hard.txt\n-shared\n+mine\n*** End Patch")
                        .is_error);
        CHECK(read_file(ws.path / "hard.txt") == "mine\n");
        CHECK(read_file(outside.path / "shared.txt") == "shared\n");
    }
    // The file mode is kept.
    write(ws.path / "run.sh", "echo hi\n");
    ::chmod((ws.path / "run.sh").c_str(), 0755);
    CHECK_FALSE(
        run(ws.path, "*** Begin Patch\n*** Update File: run.sh\n-echo hi\n+echo bye\n*** End Patch")
            .is_error);
    struct stat st {};
    ::stat((ws.path / "run.sh").c_str(), &st);
    CHECK((st.st_mode & 0777) == 0755);
}

TEST_CASE("apply_patch: the tool as the model sees it") {
    tp::ApplyPatchTool tool;
    const auto ns = tool.describe();
    CHECK(ns.name == "functions");
    REQUIRE(ns.tools.size() == 1);
    CHECK(ns.tools[0].name == "apply_patch");
    CHECK(ns.tools[0].description == "Patch a file");
    CHECK((*ns.tools[0].parameters)["type"] == "string");
    const auto instructions = tool.developer_instructions();
    REQUIRE(instructions);
    CHECK(instructions->rfind("When requested to perform coding-related tasks", 0) == 0);
    CHECK(instructions->find("Hunk := \"@@\" [ header ] NEWLINE") != std::string::npos);
}

TEST_CASE("apply_patch: a folder swapped for a symlink while patches run never leaks out") {
    TempDir ws("patch_race");
    TempDir outside("patch_race_out");
    std::atomic<bool> stop{false};
    // Swaps ws/sub between a real folder and a symlink to `outside`, as fast as it can.
    std::thread swapper([&] {
        std::error_code ec;
        while (!stop) {
            fs::remove_all(ws.path / "sub", ec);
            fs::create_directory(ws.path / "sub", ec);
            std::this_thread::sleep_for(std::chrono::microseconds(2000));
            fs::remove_all(ws.path / "sub", ec);
            fs::create_directory_symlink(outside.path, ws.path / "sub", ec);
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    });
    int applied = 0;
    for (int i = 0; i < 400; ++i) {
        const auto out = run(ws.path, "*** Begin Patch\n*** Add File: sub/f" + std::to_string(i) +
                                          ".txt\n+x\n*** End Patch\n");
        applied += out.is_error ? 0 : 1;
    }
    stop = true;
    swapper.join();
    CHECK(fs::is_empty(outside.path));  // nothing was ever written through the link
    MESSAGE(applied << " of 400 patches landed in the real folder; the rest were refused");
}
