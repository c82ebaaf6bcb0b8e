// One `shell` call's arguments, parsed and checked: the command (a string run by bash -c, or
// an argv), the working folder inside the workspace and the timeout. Untrusted input (the
// model writes it): every problem is a ShellCallError whose text the model reads. Pure.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "tools/shell/shell_options.h"

namespace gossamer::tools::shell {

struct ShellCall {
    std::vector<std::string> argv;
    std::string workdir;  // relative to the workspace, "" for its root; no "..", no "."
    std::chrono::milliseconds timeout{0};
};

struct ShellCallError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// `arguments`: {"command": "..." | ["prog", ...], "workdir"?: "sub" | "/mnt/data/sub",
// "timeout_ms"?: N}. A bare string (not JSON) is taken as the command.
ShellCall parse_shell_call(const std::string& arguments, const ShellOptions& options);

}  // namespace gossamer::tools::shell
