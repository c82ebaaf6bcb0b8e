// A rule over which token may come next, applied by the sampler as one step of its chain
// (a token mask): structured outputs (a JSON Schema, runtime/json_constraint.h) implement it.
// The sampler asks `allows` about candidates, most likely first, and calls `accept` with the
// token it picked; both run on the engine thread, one request at a time. The engine knows
// token ids only: what the ids mean is the implementation's business.
#pragma once

#include <cstdint>

namespace gossamer::engine {

class TokenConstraint {
  public:
    virtual ~TokenConstraint() = default;
    virtual bool allows(std::int32_t token) const = 0;
    virtual void accept(std::int32_t token) = 0;
};

}  // namespace gossamer::engine
