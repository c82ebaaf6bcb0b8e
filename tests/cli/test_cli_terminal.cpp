// The terminal view of `gossamer run` (runtime/terminal_view.h) as a person and a pipe see
// it: under a pseudo-terminal a status line redrawn in place (turn, tokens/s, context,
// elapsed, the tool running) and reasoning as one line unless --verbose; piped, labelled
// blocks and no escapes; --quiet, the final answer alone. The replay model is the test double
// at the engine boundary; the shell tool and its sandbox are real.
#include <doctest/doctest.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"

using gossamer::test::run_gossamer;

namespace {

struct Fixture {
    gossamer::test::TempDir dir{"terminal"};
    Fixture() {
        std::ofstream(dir.path / "agent.yaml")
            << "name: t\nmodel: {reasoning_effort: low}\ntools:\n  - shell: {timeout: 30}\n"
               "task: wait a little\n";
        std::ofstream(dir.path / "replay.json")
            << R"(["<|channel|>analysis<|message|>I will wait with sleep and then say hi to the user.<|end|><|start|>assistant<|channel|>commentary to=functions.shell <|constrain|>json<|message|>{\"command\": \"sleep 0.8; echo hi\"}<|call|>", "<|channel|>final<|message|>It said hi.<|return|>"])";
    }
    std::string args(const std::string& extra) const {
        return "run '" + (dir.path / "agent.yaml").string() + "' --replay '" +
               (dir.path / "replay.json").string() + "' --store '" + (dir.path / "s.db").string() +
               "' " + extra;
    }
};

// Runs gossamer with `args` on a pseudo-terminal; returns all it wrote there.
std::string under_pty(const std::vector<std::string>& args, int* exit_code) {
    int master = -1;
    winsize size{40, 120, 0, 0};
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
    if (pid == 0) {
        std::vector<char*> argv{const_cast<char*>(GOSSAMER_BINARY)};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(GOSSAMER_BINARY, argv.data());
        ::_exit(127);
    }
    std::string out;
    char buffer[4096];
    while (true) {
        const ssize_t n = ::read(master, buffer, sizeof buffer);
        if (n <= 0) break;  // EIO once the child has gone
        out.append(buffer, static_cast<std::size_t>(n));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(master);
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("cli terminal: on a TTY a live status line, reasoning folded unless --verbose") {
    Fixture f;
    const auto base = std::vector<std::string>{"run",
                                               (f.dir.path / "agent.yaml").string(),
                                               "--replay",
                                               (f.dir.path / "replay.json").string(),
                                               "--replay-delay-ms",
                                               "5",
                                               "--store",
                                               (f.dir.path / "s.db").string()};
    int code = -1;
    const auto out = under_pty(base, &code);
    CHECK(code == 0);
    CHECK(has(out, "\r\033[K"));  // redrawn in place
    CHECK(has(out, "turn 1 · "));
    CHECK(has(out, "turn 2 · "));
    CHECK(has(out, " tok/s · ctx "));
    CHECK(has(out, "/ 131,072 ("));
    CHECK(has(out, "running functions.shell"));  // while the call sleeps
    CHECK(has(out, "\033[2m"));                  // colours on a terminal
    CHECK(has(out, "It said hi."));
    CHECK(has(out, "--verbose shows it all"));
    CHECK_FALSE(has(out, "reasoning:"));  // labels are for pipes

    auto verbose = base;
    verbose.push_back("--verbose");
    const auto full = under_pty(verbose, &code);
    CHECK(code == 0);
    CHECK(has(full, "I will wait with sleep and then say hi to the user."));
    CHECK_FALSE(has(full, "--verbose shows it all"));
}

TEST_CASE("cli terminal: piped output is labelled and plain; --quiet is the answer alone") {
    Fixture f;
    const auto piped = run_gossamer(f.args(""), "");
    CHECK(piped.exit_code == 0);
    CHECK(has(piped.out, "reasoning: I will wait"));
    CHECK(has(piped.out, "call functions.shell: "));
    CHECK(has(piped.out, "result functions.shell ("));
    CHECK(has(piped.out, "final answer:\nIt said hi.\n"));
    CHECK_FALSE(has(piped.out, "\033["));

    const auto quiet = run_gossamer(f.args("--quiet"), "");
    CHECK(quiet.exit_code == 0);
    CHECK(quiet.out == "It said hi.\n");

    const auto both = run_gossamer(f.args("--quiet --verbose"), "");
    CHECK(both.exit_code == 2);
    CHECK(has(both.err, "exclude each other"));
    CHECK(run_gossamer(f.args("--json --quiet"), "").exit_code == 2);
}
