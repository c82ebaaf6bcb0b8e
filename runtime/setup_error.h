// A problem found while preparing a session that the user can fix: a model directory that is
// not a checkpoint, an unknown backend, a replay file that does not parse, an output path that
// cannot be written, a session another process is running. The CLI reports it as bad input
// (exit 2). Found before a session is created wherever it can be; it must not be used for bugs.
#pragma once

#include <stdexcept>

namespace gossamer::runtime {

struct SetupError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace gossamer::runtime
