// The shell tool (tools/shell): argument parsing, then real commands in the real sandbox
// through ShellTool: exit codes and output, workdir, timeouts with nothing left running,
// the output cap, no network, protected paths (.git, a gitdir: target, .gossamer, a spec's
// names) read-only inside the writable workspace, and symlinks planted by the shell that
// apply_patch then refuses to follow.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"
#include "tools/patch/apply_patch_tool.h"
#include "tools/protected_paths.h"
#include "tools/shell/shell_call.h"
#include "tools/shell/shell_tool.h"

namespace fs = std::filesystem;
namespace sh = gossamer::tools::shell;
using gossamer::test::read_file;
using gossamer::test::TempDir;

namespace {

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

// As root the sandbox runs as nobody (65534) and owns the workspace; what the test wrote
// there as root is handed over, as a seeded workspace would be.
void give_to_sandbox(const fs::path& ws) {
    if (::geteuid() != 0) return;
    ::lchown(ws.c_str(), 65534, 65534);
    for (const auto& e : fs::recursive_directory_iterator(ws))
        ::lchown(e.path().c_str(), 65534, 65534);
}

gossamer::tools::ToolOutput call(sh::ShellTool& tool, const std::string& arguments,
                                 const fs::path& workspace) {
    boost::asio::io_context io;
    gossamer::tools::ToolContext context{io.get_executor(), "s1", workspace};
    std::optional<gossamer::tools::ToolOutput> out;
    tool.invoke({"functions.shell", "shell", arguments, "commentary", std::nullopt}, context,
                [&](gossamer::tools::ToolOutput o) { out = std::move(o); });
    auto guard = boost::asio::make_work_guard(io);
    while (!out) io.run_one_for(std::chrono::milliseconds(50));
    return *out;
}

gossamer::tools::ToolOutput run(const std::string& command, const fs::path& workspace,
                                sh::ShellOptions options = {}) {
    sh::ShellTool tool(std::move(options));
    return call(tool, nlohmann::json{{"command", command}}.dump(), workspace);
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("shell: arguments as a string, an argv, bare text; workdir and timeout_ms checked") {
    sh::ShellOptions o;
    auto c = sh::parse_shell_call(R"({"command": "ls -l"})", o);
    CHECK(c.argv == std::vector<std::string>{"bash", "-c", "ls -l"});
    CHECK(c.timeout == o.timeout);
    c = sh::parse_shell_call(R"({"command": ["git", "status"], "workdir": "/mnt/data/a/./b/",
                                "timeout_ms": 1500})",
                             o);
    CHECK(c.argv == std::vector<std::string>{"git", "status"});
    CHECK(c.workdir == "a/b");
    CHECK(c.timeout == std::chrono::milliseconds(1500));
    CHECK(sh::parse_shell_call("echo hi", o).argv.back() == "echo hi");
    CHECK(sh::parse_shell_call(R"({"command": "x", "timeout_ms": 1e15})", o).timeout ==
          o.max_timeout);
    CHECK(sh::parse_shell_call(R"({"command": "x", "workdir": "/mnt/data"})", o).workdir.empty());
    for (const char* bad :
         {R"({"command": ""})", R"({"command": []})", R"({"command": [1]})", R"({})",
          R"({"command": "x", "workdir": "../up"})", R"({"command": "x", "workdir": "/etc"})",
          R"({"command": "x", "timeout_ms": 0})", R"({"command": "x", "timeout_ms": "5"})",
          R"({"command": "x", "cwd": "a"})", R"([1, 2])", "  ", R"({"command": [""]})"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(sh::parse_shell_call(bad, o), sh::ShellCallError);
    }
}

TEST_CASE("shell: exit code, stdout and stderr together, wall time; bad calls are errors") {
    TempDir ws("shell");
    auto out = run("echo out; echo err >&2; exit 3", ws.path);
    CHECK_FALSE(out.is_error);
    CHECK(out.text.rfind("Exit code: 3\nWall time: ", 0) == 0);
    CHECK(has(out.text, "Output:\nout\nerr\n"));
    out = run("pwd; id -u; echo $HOME; ls /", ws.path);
    CHECK(has(out.text, "Output:\n/mnt/data\n"));
    CHECK_FALSE(has(out.text, "root\n"));  // no host /root in the sandbox
    sh::ShellTool tool;
    out = call(tool, R"({"command": ["printf", "%s|", "a b", "c"]})", ws.path);
    CHECK(has(out.text, "Output:\na b|c|"));
    out = call(tool, R"({"command": "true", "workdir": "missing"})", ws.path);
    CHECK(out.is_error);
    CHECK(has(out.text, "workdir 'missing' is not a folder"));
    out = call(tool, R"({"command": ["no-such-program-x"]})", ws.path);
    CHECK(out.is_error);
    CHECK(has(out.text, "could not start the command"));
}

TEST_CASE("shell: writes land in the workspace; workdir; nothing outside it is writable") {
    TempDir ws("shell");
    fs::create_directories(ws.path / "src");
    give_to_sandbox(ws.path);
    sh::ShellTool tool;
    auto out = call(tool, R"({"command": "pwd; echo made > here.txt", "workdir": "src"})", ws.path);
    CHECK_MESSAGE(has(out.text, "Exit code: 0"), out.text);
    CHECK(has(out.text, "/mnt/data/src\n"));
    CHECK(read_file(ws.path / "src/here.txt") == "made\n");
    out = run("echo x > /usr/evil; echo x > /etc/evil; echo x > /evil", ws.path);
    CHECK(has(out.text, "Read-only file system"));
    CHECK_FALSE(fs::exists("/evil"));
}

TEST_CASE("shell: a timeout kills the command and everything it started; the next call works") {
    TempDir ws("shell");
    sh::ShellTool tool;
    const auto out = call(
        tool, R"({"command": "sleep 1002 & setsid sleep 1003 & sleep 1004", "timeout_ms": 400})",
        ws.path);
    CHECK(out.is_error);
    CHECK(has(out.text, "Exit code: none (timed out after 0.4 seconds"));
    CHECK(std::system("pgrep -a sleep | grep -q 'sleep 100[234]'") != 0);
    CHECK(has(call(tool, R"({"command": "echo next"})", ws.path).text, "Output:\nnext\n"));
}

TEST_CASE("shell: output is capped head and tail; the network is off by default") {
    TempDir ws("shell");
    sh::ShellOptions o;
    o.max_output_bytes = 4096;
    const auto out = run("seq 1 100000", ws.path, o);
    CHECK(out.text.size() < 6000);
    CHECK(has(out.text, "Output:\n1\n2\n"));
    CHECK(has(out.text, "100000\n"));
    // A listener on the host's loopback is out of reach from the sandbox's own network.
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(s, 1) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
    const auto port = std::to_string(ntohs(addr.sin_port));
    const auto net = run("echo hi > /dev/tcp/127.0.0.1/" + port + " && echo CONNECTED", ws.path);
    CHECK_FALSE(has(net.text, "CONNECTED"));
    ::close(s);
}

TEST_CASE("protected paths: found at any depth, gitdir targets inside, symlinks skipped") {
    TempDir ws("protect");
    write(ws.path / ".git/config", "[core]\n");
    write(ws.path / "lib/sub/.git", "gitdir: ../../repos/sub.git\n");
    write(ws.path / "repos/sub.git/HEAD", "ref: refs/heads/main\n");
    write(ws.path / "vendor/x/.gossamer/state", "s");
    write(ws.path / "secrets/key", "k");
    fs::create_directories(ws.path / "linked");
    fs::create_symlink("/etc", ws.path / "linked/.git");
    const auto found =
        gossamer::tools::find_protected_paths(ws.path, {".git", ".gossamer", "secrets"});
    CHECK(found == std::vector<std::string>{".git", "lib/sub/.git", "repos/sub.git", "secrets",
                                            "vendor/x/.gossamer"});
}

TEST_CASE("shell: protected paths are read-only inside the writable workspace") {
    TempDir ws("shell");
    write(ws.path / ".git/config", "[core]\n");
    write(ws.path / ".git/hooks/README", "hooks\n");
    write(ws.path / "lib/.git", "gitdir: ../repos/lib.git\n");
    write(ws.path / "repos/lib.git/HEAD", "ref\n");
    write(ws.path / ".gossamer/state", "s\n");
    write(ws.path / "secrets/key", "k\n");
    write(ws.path / "code.py", "x = 1\n");
    give_to_sandbox(ws.path);
    sh::ShellOptions o;
    o.protected_names.push_back("secrets");
    const auto out =
        run("for t in 'echo x >> .git/config' 'touch .git/hooks/pre-commit' 'rm -rf .git' "
            "'mv .git moved' 'ln .git/config hard' 'echo x > lib/.git' "
            "'echo x > repos/lib.git/HEAD' 'rm .gossamer/state' 'echo x > secrets/key' "
            "'chmod 777 .git/config'; do if bash -c \"$t\" 2>/dev/null; then echo \"WROTE: $t\"; "
            "fi; done; echo y >> code.py && echo code-ok; cat .git/config",
            ws.path, o);
    CHECK_MESSAGE(!has(out.text, "WROTE"), out.text);
    CHECK(has(out.text, "code-ok\n[core]\n"));
    CHECK(read_file(ws.path / ".git/config") == "[core]\n");
    CHECK_FALSE(fs::exists(ws.path / ".git/hooks/pre-commit"));
    CHECK(read_file(ws.path / "lib/.git") == "gitdir: ../repos/lib.git\n");
    CHECK(read_file(ws.path / "repos/lib.git/HEAD") == "ref\n");
    CHECK(read_file(ws.path / "secrets/key") == "k\n");
    CHECK(read_file(ws.path / "code.py") == "x = 1\ny\n");
}

TEST_CASE("shell then apply_patch: symlinks the shell plants are refused, not followed") {
    TempDir ws("shell");
    TempDir outside("outside");
    write(outside.path / "target.txt", "outside\n");
    write(ws.path / "a.txt", "a\n");
    const auto out = run("ln -s " + outside.path.string() + "/target.txt link.txt && ln -s " +
                             outside.path.string() + " dir && ln -s .git fakegit && echo planted",
                         ws.path);
    REQUIRE_MESSAGE(has(out.text, "planted"), out.text);
    gossamer::tools::patch::ApplyPatchTool patch;
    for (const char* p :
         {"*** Begin Patch\n*** Update File: link.txt\n@@\n-outside\n+owned\n*** End Patch\n",
          "*** Begin Patch\n*** Add File: dir/new.txt\n+x\n*** End Patch\n",
          "*** Begin Patch\n*** Delete File: link.txt\n*** Add File: link.txt\n+x\n*** End "
          "Patch\n"}) {
        const auto r = patch.run(p, ws.path);
        CAPTURE(p);
        CHECK(r.is_error);
    }
    CHECK(read_file(outside.path / "target.txt") == "outside\n");
    CHECK_FALSE(fs::exists(outside.path / "new.txt"));
    // What apply_patch creates stays writable by the shell (as root: owned by the sandbox's uid).
    CHECK_FALSE(
        patch.run("*** Begin Patch\n*** Add File: new/f.txt\n+one\n*** End Patch\n", ws.path)
            .is_error);
    const auto more = run("echo two >> new/f.txt && touch new/g && echo ok", ws.path);
    CHECK_MESSAGE(has(more.text, "Output:\nok\n"), more.text);
    CHECK(read_file(ws.path / "new/f.txt") == "one\ntwo\n");
}

TEST_CASE("apply_patch: the repository a .git file points to is protected") {
    TempDir ws("patch");
    write(ws.path / ".git", "gitdir: store/repo.git\n");
    write(ws.path / "store/repo.git/HEAD", "ref\n");
    const auto r = gossamer::tools::patch::ApplyPatchTool().run(
        "*** Begin Patch\n*** Update File: store/repo.git/HEAD\n@@\n-ref\n+evil\n*** End Patch\n",
        ws.path);
    CHECK(r.is_error);
    CHECK(has(r.text, "inside the repository 'store/repo.git'"));
    CHECK(read_file(ws.path / "store/repo.git/HEAD") == "ref\n");
}
