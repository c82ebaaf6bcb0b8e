// The stateless Python tool: the gpt-oss docker tool's semantics in our sandbox.
#include <doctest/doctest.h>

#include <cstdlib>
#include <thread>

#include "tests/python/python_support.h"

using namespace gossamer::test;

TEST_CASE("python: stateless print and arithmetic") {
    py::PythonTool tool(python_options(py::Mode::stateless));
    CHECK(python_call(tool, "print(6 * 7)").text == "42\n");
    const auto out = python_call(tool, "x = 2 ** 100\nprint(x)\n");
    CHECK(out.text == "1267650600228229401496703205376\n");
    CHECK_FALSE(out.is_error);
}

TEST_CASE("python: stateless empty output gives the reference's warning") {
    py::PythonTool tool(python_options(py::Mode::stateless));
    const auto out = python_call(tool, "x = 1");
    CHECK(out.text ==
          "[WARN] No output available. Use print() to output anything to stdout to receive "
          "the output");
    CHECK(python_call(tool, "1 + 1").text == std::string(py::kNoOutputWarning));  // no repl
}

TEST_CASE("python: stateless exception traceback is returned with stdout in order") {
    py::PythonTool tool(python_options(py::Mode::stateless));
    const auto out = python_call(tool, "print('before')\nraise ValueError('bad value')\n");
    CHECK(out.text.rfind("before\nTraceback (most recent call last):", 0) == 0);
    CHECK(contains(out.text, "ValueError: bad value"));
}

TEST_CASE("python: stateless state is not shared between calls") {
    py::PythonTool tool(python_options(py::Mode::stateless));
    python_call(tool, "x = 5");
    CHECK(contains(python_call(tool, "print(x)").text, "NameError"));
}

TEST_CASE("python: stateless timeout is reported, nothing survives, the next call works") {
    py::PythonTool tool(python_options(py::Mode::stateless, 1));
    const auto start = std::chrono::steady_clock::now();
    const auto out = python_call(tool,
                                 "import subprocess\n"
                                 "subprocess.Popen(['sleep', '1000'])\n"
                                 "print('looping', flush=True)\nwhile True: pass\n");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(8));
    CHECK(out.is_error);
    CHECK(contains(out.text, "looping\n"));
    CHECK(contains(out.text, "[ERROR] Execution timed out after 1 second"));
    CHECK(python_call(tool, "print('next')").text == "next\n");
    CHECK(std::system("pgrep -x 'sleep' -a | grep -q 'sleep 1000'") != 0);
}

TEST_CASE("python: output flood is capped with a marker (stateless and stateful)") {
    for (const auto mode : {py::Mode::stateless, py::Mode::stateful}) {
        CAPTURE(mode == py::Mode::stateful);
        auto options = python_options(mode);
        options.max_output_bytes = 4096;
        py::PythonTool tool(options);
        const auto out =
            python_call(tool, "print('A' * 3000)\nprint('x' * 1000000)\nprint('END')\n");
        CHECK(out.text.size() < 4200);
        CHECK(out.text.rfind("AAAA", 0) == 0);
        CHECK(contains(out.text, " bytes truncated ...]"));
        CHECK(out.text.find("END\n") == out.text.size() - 4);
    }
}

TEST_CASE("python: control characters and ANSI escapes are sanitized") {
    py::PythonTool tool(python_options(py::Mode::stateless));
    const auto out =
        python_call(tool,
                    "import sys\nsys.stdout.write('\\x1b[31mred\\x1b[0m \\x1b]52;c;SGVsbG8=\\x07"
                    "bell\\x07 nul\\x00 done\\n')\nsys.stdout.buffer.write(b'bad \\xff\\n')\n");
    CHECK(out.text == "red bell\\x07 nul\\x00 done\nbad \xEF\xBF\xBD\n");
}

TEST_CASE("python: numpy, sympy, pandas and scipy import") {
    py::PythonTool tool(python_options(py::Mode::stateless, 60));
    const auto out = python_call(tool,
                                 "import numpy as np, sympy, pandas, scipy.linalg\n"
                                 "print(int(np.arange(10).sum()))\n"
                                 "print(sympy.factor(sympy.Symbol('x')**2 - 1))\n"
                                 "print(pandas.DataFrame({'a': [1, 2]}).a.sum())\n");
    CHECK(out.text == "45\n(x - 1)*(x + 1)\n3\n");
}

TEST_CASE("python: a cancelled stateless call kills its whole sandbox at once") {
    py::PythonTool tool(python_options(py::Mode::stateless, 60));
    boost::asio::io_context io;
    gossamer::tools::ToolContext context{io.get_executor(), "s1", {}};
    std::optional<gossamer::tools::ToolOutput> out;
    tool.invoke({"python", "",
                 "import subprocess, time\n"
                 "subprocess.Popen(['sleep', '1001'])\n"
                 "time.sleep(60)\n",
                 "analysis", std::nullopt},
                context, [&](gossamer::tools::ToolOutput o) { out = std::move(o); });
    const char* alive = "pgrep -x sleep -a | grep -q 'sleep 1001'";
    for (int i = 0; i < 200 && std::system(alive) != 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(std::system(alive) == 0);  // the sandbox runs
    const auto cancelled_at = std::chrono::steady_clock::now();
    tool.cancel();
    auto guard = boost::asio::make_work_guard(io);
    while (!out) io.run_one_for(std::chrono::milliseconds(50));
    CHECK(out->is_error);
    CHECK(contains(out->text, "cancelled"));
    // the whole tree is gone long before the 60 s wall-clock limit
    while (std::system(alive) == 0 &&
           std::chrono::steady_clock::now() - cancelled_at < std::chrono::seconds(5))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(std::chrono::steady_clock::now() - cancelled_at < std::chrono::seconds(2));
    CHECK(std::system(alive) != 0);
    CHECK(python_call(tool, "print('next')").text == "next\n");
}
