// What the model reads, as pure functions: the warning, the error line, cap and sanitizer.
#include <doctest/doctest.h>

#include "tools/python/python_output.h"

namespace py = gossamer::tools::python;

TEST_CASE("python: model output formatting") {
    CHECK(py::model_output("", "", 0).text == std::string(py::kNoOutputWarning));
    CHECK_FALSE(py::model_output("", "", 0).is_error);
    CHECK(py::model_output("hi\n", "", 0).text == "hi\n");
    const auto err = py::model_output("partial", "[ERROR] stopped.", 0);
    CHECK(err.text == "partial\n[ERROR] stopped.");
    CHECK(err.is_error);
    CHECK(py::model_output("", "[ERROR] x", 0).text == "[ERROR] x");
    CHECK(py::model_output("\x1b[1mbold\x1b[0m\r\n", "", 0).text == "bold\n");
    CHECK(py::model_output(std::string(100, 'a') + std::string(100, 'b'), "", 20).text ==
          std::string(10, 'a') + "\n[... 180 bytes truncated ...]\n" + std::string(10, 'b'));
    CHECK(py::seconds_text(std::chrono::milliseconds(1000)) == "1 second");
    CHECK(py::seconds_text(std::chrono::milliseconds(120000)) == "120 seconds");
    CHECK(py::seconds_text(std::chrono::milliseconds(500)) == "0.5 seconds");
}
