// The stateful Python tool: one persistent kernel per session, restarted after a crash or
// a timeout with the restart reported to the model.
#include <doctest/doctest.h>

#include <thread>

#include "tests/python/python_support.h"

using namespace gossamer::test;

TEST_CASE("python: stateful variables persist across calls") {
    py::PythonTool tool(python_options(py::Mode::stateful));
    CHECK(python_call(tool, "x = 41\nimport math").text == std::string(py::kNoOutputWarning));
    CHECK(python_call(tool, "x += 1\nprint(x, math.pi > 3)").text == "42 True\n");
    CHECK(python_call(tool, "def f(n): return n * x\nprint(f(2))").text == "84\n");
}

TEST_CASE("python: stateful final expression value is shown like Jupyter") {
    py::PythonTool tool(python_options(py::Mode::stateful));
    CHECK(python_call(tool, "y = [1, 2]\ny + [3]").text == "[1, 2, 3]\n");
    CHECK(python_call(tool, "'text'").text == "'text'\n");
    CHECK(python_call(tool, "print('a')\nNone").text == "a\n");
    CHECK(python_call(tool, "_").text == "'text'\n");  // sys.displayhook keeps the last value
}

TEST_CASE("python: stateful exceptions, syntax errors and SystemExit keep the kernel") {
    py::PythonTool tool(python_options(py::Mode::stateful));
    python_call(tool, "keep = 'kept'");
    const auto out = python_call(tool, "def g():\n    return 1 / 0\ng()\n");
    CHECK(contains(out.text, "Traceback (most recent call last):"));
    CHECK(contains(out.text, "return 1 / 0"));  // the cell's source line is shown
    CHECK(contains(out.text, "ZeroDivisionError: division by zero"));
    CHECK_FALSE(contains(out.text, "_gossamer"));  // the driver's frames are hidden
    CHECK(contains(python_call(tool, "def (:").text, "SyntaxError"));
    CHECK(contains(python_call(tool, "import sys\nsys.exit(3)").text, "SystemExit: 3"));
    CHECK(python_call(tool, "print(keep)").text == "kept\n");
}

TEST_CASE("python: stateful crash restarts the kernel, reports it, state is fresh") {
    py::PythonTool tool(python_options(py::Mode::stateful));
    python_call(tool, "z = 1");
    auto out = python_call(tool, "import os\nos._exit(7)");
    CHECK(out.is_error);
    CHECK(contains(out.text, "[ERROR] The Python process exited with status 7."));
    CHECK(contains(out.text, "The Python kernel was restarted"));
    CHECK(contains(python_call(tool, "print(z)").text, "NameError"));
    python_call(tool, "z = 2");
    out = python_call(tool, "import ctypes\nctypes.string_at(0)");
    CHECK(contains(out.text, "killed by SIGSEGV"));
    CHECK(contains(out.text, "The Python kernel was restarted"));
    CHECK(python_call(tool, "print('alive')").text == "alive\n");
}

TEST_CASE("python: stateful timeout kills and restarts the kernel") {
    py::PythonTool tool(python_options(py::Mode::stateful, 1));
    python_call(tool, "w = 1");
    const auto start = std::chrono::steady_clock::now();
    const auto out = python_call(tool, "while True: pass");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(out.is_error);
    CHECK(contains(out.text, "[ERROR] Execution timed out after 1 second."));
    CHECK(contains(out.text, "The Python kernel was restarted"));
    CHECK(contains(python_call(tool, "print(w)").text, "NameError"));
    CHECK(python_call(tool, "print(1 + 1)").text == "2\n");
}

TEST_CASE("python: stateful input() and writes to fd 1 do not break the protocol") {
    py::PythonTool tool(python_options(py::Mode::stateful));
    CHECK(contains(python_call(tool, "input()").text, "EOFError"));
    CHECK(
        python_call(tool, "import os\nos.write(1, b'raw\\n')\nos.write(2, b'err\\n')\nNone").text ==
        "raw\nerr\n");
    CHECK(python_call(tool, "import subprocess\nsubprocess.run(['echo', 'child'])\nNone").text ==
          "child\n");
    CHECK(python_call(tool, "print('\\x00GOSSAMER:99:99')\nprint('after')").text ==
          "\\x00GOSSAMER:99:99\nafter\n");
}

TEST_CASE("python: sessions have separate kernels") {
    py::PythonTool tool(python_options(py::Mode::stateful));
    python_call(tool, "secret = 'a'", {}, "session-a");
    CHECK(contains(python_call(tool, "print(secret)", {}, "session-b").text, "NameError"));
    CHECK(python_call(tool, "print(secret)", {}, "session-a").text == "a\n");
}

TEST_CASE("python: description texts are harmony's and gpt-oss's") {
    py::PythonTool stateful(python_options(py::Mode::stateful, 120));
    CHECK(contains(*stateful.describe().description, "stateful Jupyter notebook"));
    CHECK(contains(*stateful.describe().description, "time out after 120.0 seconds"));
    CHECK(contains(*stateful.describe().description, "/mnt/data"));
    py::PythonTool short_one(python_options(py::Mode::stateful, 30));
    CHECK(contains(*short_one.describe().description, "time out after 30.0 seconds"));
    py::PythonTool stateless(python_options(py::Mode::stateless));
    CHECK(contains(*stateless.describe().description, "STATELESS"));
    CHECK(stateless.describe().name == "python");
}

TEST_CASE("python: cancel reports the call in flight and the next call works") {
    py::PythonTool tool(python_options(py::Mode::stateful, 30));
    boost::asio::io_context io;
    gossamer::tools::ToolContext context{io.get_executor(), "s1", {}};
    std::optional<gossamer::tools::ToolOutput> out;
    tool.invoke({"python", "", "import time\ntime.sleep(60)", "analysis", std::nullopt}, context,
                [&](gossamer::tools::ToolOutput o) { out = std::move(o); });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    tool.cancel();
    auto guard = boost::asio::make_work_guard(io);
    while (!out) io.run_one_for(std::chrono::milliseconds(50));
    REQUIRE(out);
    CHECK(out->is_error);
    CHECK(contains(out->text, "cancelled"));
    CHECK(python_call(tool, "print('ok')").text == "ok\n");
}

TEST_CASE("python: an idle kernel is stopped and the next call says its state was lost") {
    auto options = python_options(py::Mode::stateful, 30);
    options.idle_timeout = std::chrono::milliseconds(500);
    py::PythonTool tool(options);
    const char* alive = "pgrep -x sleep -a | grep -q 'sleep 1002'";
    CHECK(python_call(tool,
                      "import subprocess\nx = 41\nsubprocess.Popen(['sleep', '1002'])\nprint(x)")
              .text == "41\n");
    CHECK(std::system(alive) == 0);  // the kernel's sandbox (and its background child) runs
    // idle: the kernel is stopped (its whole sandbox is killed)
    for (int i = 0; i < 100 && std::system(alive) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(std::system(alive) != 0);
    const auto next = python_call(tool, "print('x' in globals())");
    CHECK(contains(next.text,
                   "[WARN] The Python kernel was stopped after 0.5 seconds without a "
                   "call. The Python kernel was restarted"));
    CHECK(contains(next.text, "False\n"));
    CHECK(python_call(tool, "print('again')").text == "again\n");  // noted once
}
