// The runtime's view of a language model: conversations (each keeps its KV cache between
// generations) that receive token prompts and stream sampled tokens back on the runtime's
// event loop. The real one is engine_client.h (the engine on its own thread); tests may drive
// the agent loop with a scripted token source behind this same interface (a test double at
// the engine boundary). It must not know about harmony messages or tools.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "engine/sampler.h"
#include "engine/scheduler.h"

namespace gossamer::runtime {

using engine::FinishReason;
using engine::TokenEvent;

struct ModelRequest {
    std::vector<std::int32_t> prompt;
    int max_tokens = 1024;
    engine::SamplingParams sampling;
    std::vector<std::int32_t> stop;
    // Masks each sampled token (structured outputs). The engine applies it; the replay model
    // (a scripted test double) ignores it.
    std::shared_ptr<engine::TokenConstraint> constraint;
};

// Called on the event loop for every token; the last call has done == true.
using OnToken = std::function<void(const TokenEvent&)>;

class ModelClient {
  public:
    using Conversation = std::uint64_t;
    virtual ~ModelClient() = default;
    virtual Conversation open() = 0;
    virtual void close(Conversation c) = 0;
    // At most one generation per conversation at a time.
    virtual void generate(Conversation c, ModelRequest request, OnToken on_token) = 0;
    // The running generation ends with a Cancelled event.
    virtual void cancel(Conversation c) = 0;
    // Keeps the conversation's KV cache in `file` (engine/kv_file.h) so that a later process
    // starts where this one stopped; while `file` does not exist, its first generation starts
    // from `seed` (another conversation's file it branches from), if any. Called again between
    // generations, later saves go to the new file (written whole). Models that keep no cache
    // here (replay, remote) ignore it.
    virtual void keep_on_disk(Conversation /*c*/, const std::filesystem::path& /*file*/,
                              const std::filesystem::path& /*seed*/ = {}) {}
    // The token ids a saved cache file holds (unchecked: a hint for choosing a seed); empty
    // when there is none or it belongs to another model.
    virtual std::vector<std::int32_t> saved_tokens(const std::filesystem::path& /*file*/) {
        return {};
    }
    virtual int context_window() const = 0;  // positions per conversation
    virtual int vocab_size() const = 0;
    // Whether requests may carry a token constraint (remote engines: no).
    virtual bool supports_constraints() const { return true; }
};

}  // namespace gossamer::runtime
