// The workspace file functions on a real directory: reads, writes, listings, offsets and
// caps, and every way out of the workspace refused.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/temp_dir.h"
#include "tools/workspace_files.h"

using gossamer::tools::ToolCall;
using gossamer::tools::WorkspaceFiles;
namespace fs = std::filesystem;

namespace {

gossamer::tools::ToolOutput call(const WorkspaceFiles& tool, const fs::path& ws,
                                 const char* function, const std::string& args) {
    ToolCall c;
    c.recipient = std::string("functions.") + function;
    c.function = function;
    c.arguments = args;
    return tool.run(c, ws);
}

}  // namespace

TEST_CASE("workspace files: write, read back, list") {
    gossamer::test::TempDir dir("ws");
    WorkspaceFiles tool;
    CHECK(call(tool, dir.path, "list_files", "{}").text == "(empty directory)");
    auto out = call(tool, dir.path, "write_file", R"({"path": "sub/x.txt", "content": "héllo"})");
    CHECK_FALSE(out.is_error);
    CHECK(call(tool, dir.path, "read_file", R"({"path": "sub/x.txt"})").text == "héllo");
    CHECK(call(tool, dir.path, "list_files", "{}").text == "sub/\n");
    CHECK(call(tool, dir.path, "list_files", R"({"path": "sub"})").text == "x.txt  (6 bytes)\n");
    CHECK(call(tool, dir.path, "read_file", R"({"path": "sub/x.txt", "offset": 2})").text ==
          "\xef\xbf\xbdllo");
}

TEST_CASE("workspace files: long files are cut with a note saying how to read on") {
    gossamer::test::TempDir dir("ws");
    WorkspaceFiles tool(10);
    std::ofstream(dir.path / "big.txt") << std::string(25, 'a');
    const auto out = call(tool, dir.path, "read_file", R"({"path": "big.txt"})");
    CHECK(out.text.rfind(std::string(10, 'a'), 0) == 0);
    CHECK(out.text.find("15 more bytes; read again with offset 10") != std::string::npos);
    CHECK(call(tool, dir.path, "read_file", R"({"path": "big.txt", "offset": 99})").is_error);
}

TEST_CASE("workspace files: nothing outside the workspace is reachable") {
    gossamer::test::TempDir dir("ws");
    gossamer::test::TempDir outside("outside");
    std::ofstream(outside.path / "secret") << "s3cret";
    fs::create_directory_symlink(outside.path, dir.path / "link");
    WorkspaceFiles tool;
    for (const std::string args : {R"({"path": "/etc/passwd"})", R"({"path": "../x"})",
                                   R"({"path": "link/secret"})", R"({"path": ""})"}) {
        const auto out = call(tool, dir.path, "read_file", args);
        CHECK_MESSAGE(out.is_error, args);
        CHECK(out.text.find("s3cret") == std::string::npos);
    }
    CHECK(call(tool, dir.path, "write_file", R"({"path": "link/new", "content": "x"})").is_error);
    CHECK_FALSE(fs::exists(outside.path / "new"));
    CHECK(call(tool, dir.path, "read_file", R"({"path": 3})").is_error);
    CHECK(call(tool, dir.path, "frobnicate", "{}").is_error);
}
