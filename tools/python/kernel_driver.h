// The Python program that runs inside the stateful kernel's sandbox: it reads framed cells
// on stdin ("<length>\n<code>"), runs each in one persistent globals dict like a notebook
// cell (the value of a final expression is shown with sys.displayhook, tracebacks skip the
// driver's own frames), captures everything written to fds 1 and 2 in a memfd, and answers
// with one frame on its private copy of stdout: "\0GOSSAMER:<kept>:<total>\n" then the kept
// bytes (head and tail halves when total > the cap). Source text only; kernel.h runs it.
#pragma once

#include <string_view>

namespace gossamer::tools::python {

// Run as: python3 -I -c <kernel_driver_source()> <max_output_bytes>
std::string_view kernel_driver_source();

// The frame header's prefix on the driver's reply channel.
inline constexpr std::string_view kReplyMagic{"\0GOSSAMER:", 10};

}  // namespace gossamer::tools::python
