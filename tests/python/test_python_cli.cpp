// `gossamer tool python`: code on stdin, the tool's output on stdout as the model reads it.
#include <doctest/doctest.h>

#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"

using namespace gossamer::test;

TEST_CASE("python: gossamer tool python, stateless") {
    auto r = run_gossamer("tool python", "print('hi from cli')\n");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "hi from cli\n");
    r = run_gossamer("tool python", "x = 1\n");
    CHECK(r.out ==
          "[WARN] No output available. Use print() to output anything to stdout to receive "
          "the output");
    r = run_gossamer("tool python --timeout 0.5", "while True: pass\n");
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("[ERROR] Execution timed out after 0.5 seconds") != std::string::npos);
}

TEST_CASE("python: gossamer tool python, stateful with a workspace") {
    TempDir ws("py_cli");
    auto r =
        run_gossamer("tool python --stateful --session cli1 --workspace '" + ws.path.string() + "'",
                     "open('out.txt', 'w').write('cli')\n[1, 2]\n");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "[1, 2]\n");
    CHECK(read_file(ws.path / "out.txt") == "cli");
    r = run_gossamer("tool python --session x", "print(1)\n");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--session needs --stateful") != std::string::npos);
}
