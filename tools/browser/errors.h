// The two failures the browser turns into tool messages for the model, as simple_browser
// does: a usage error (bad cursor, link id or location) and a backend error (a fetch or a
// search failed). Their what() is the exact text the model reads.
#pragma once

#include <stdexcept>

namespace gossamer::tools::browser {

// The model asked for something that does not exist (ToolUsageError).
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A search API, a page fetch or the safety policy said no (BackendError).
struct BackendError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace gossamer::tools::browser
