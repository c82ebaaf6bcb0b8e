// The per-session workspace at /mnt/data: kept between calls, visible on the host, invisible
// to other sessions; matplotlib writes plots there with its file-only backend.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/python/python_support.h"
#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"

using namespace gossamer::test;

TEST_CASE("python: workspace file persists across calls, on the host, not in other sessions") {
    TempDir a("py_ws_a"), b("py_ws_b");
    py::PythonTool tool(python_options(py::Mode::stateful));
    CHECK(python_call(tool, "import os\nprint(os.getcwd())", a.path, "a").text == "/mnt/data\n");
    python_call(tool, "open('/mnt/data/note.txt', 'w').write('from a')", a.path, "a");
    CHECK(python_call(tool, "print(open('note.txt').read())", a.path, "a").text == "from a\n");
    CHECK(read_file(a.path / "note.txt") == "from a");
    const auto other = python_call(
        tool,
        "import os\nprint(os.listdir('/mnt/data'))\nopen('" + (a.path / "note.txt").string() + "')",
        b.path, "b");
    CHECK(other.text.rfind("[]\n", 0) == 0);
    CHECK(contains(other.text, "FileNotFoundError"));

    py::PythonTool stateless(python_options(py::Mode::stateless));
    CHECK(python_call(stateless, "print(open('note.txt').read())", a.path).text == "from a\n");
    CHECK(contains(python_call(stateless, "print(open('note.txt').read())", b.path).text,
                   "FileNotFoundError"));
}

TEST_CASE("python: matplotlib savefig writes a png into the workspace") {
    TempDir ws("py_mpl");
    py::PythonTool tool(python_options(py::Mode::stateful, 90));
    const auto out = python_call(tool,
                                 "import matplotlib.pyplot as plt\n"
                                 "plt.plot([1, 2, 3], [1, 4, 9])\n"
                                 "plt.savefig('plot.png')\n"
                                 "print(plt.get_backend())\n",
                                 ws.path);
    CHECK(out.text == "agg\n");
    const std::string png = read_file(ws.path / "plot.png");
    REQUIRE(png.size() > 100);
    CHECK(png.substr(1, 3) == "PNG");
}

TEST_CASE("python: without a workspace the working directory is a private /tmp") {
    py::PythonTool tool(python_options(py::Mode::stateless));
    CHECK(python_call(tool, "import os\nprint(os.getcwd(), os.path.exists('/mnt/data'))").text ==
          "/tmp False\n");
}

TEST_CASE("python: a workspace below a folder closed to the sandbox's user is reached") {
    // As root the sandbox runs as another host user, which cannot pass a 0700 folder of
    // root's; the launcher hands the workspace over (open_tree) before that matters (issue
    // 16). As any other user the sandbox is that user, and can pass anyway.
    TempDir top("py_ws_private");
    std::filesystem::permissions(top.path, std::filesystem::perms::owner_all);
    const auto ws = top.path / "ws";
    std::filesystem::create_directory(ws);
    for (const auto mode : {py::Mode::stateful, py::Mode::stateless}) {
        py::PythonTool tool(python_options(mode));
        const auto out = python_call(tool, "open('/mnt/data/f','w').write('x')\nprint(1)", ws);
        CAPTURE(out.text);
        CHECK_FALSE(out.is_error);
        CHECK(out.text == "1\n");
        CHECK(std::filesystem::exists(ws / "f"));
    }
}
