// The one exception type the engine throws for bad checkpoints, configs and arguments. Its
// message names the file and tensor or field at fault and, where possible, what to do.
#pragma once

#include <stdexcept>

namespace gossamer::engine {

struct ModelError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace gossamer::engine
