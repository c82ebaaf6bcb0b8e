// The wire forms of the remote engines' tokens-in/tokens-out endpoints (docs/SCALE.md): the
// request body for a ModelRequest and an incremental decoder of the answer (a whole JSON body
// or server-sent events), for
//   - /inference/v1/generate (gossamer serve and vLLM): {"token_ids", "sampling_params"} ->
//     {"choices": [{"token_ids", "finish_reason"}], "usage"};
//   - /v1/completions with prompt token ids and "return_token_ids" (older vLLM);
//   - /generate (SGLang): {"input_ids", "sampling_params"} -> {"output_ids", "meta_info"}.
// Pure: no I/O, no threads. The answers are untrusted input (fuzzed: fuzz_engine_wire); every
// malformed frame is a WireError, never a crash. It must not retry or pick endpoints.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/scheduler.h"
#include "runtime/remote_options.h"

namespace gossamer::runtime {

struct ModelRequest;

// The endpoint a request goes to. vLLM starts on `generate` and falls back to `completions`
// when the server does not have the token endpoint (404).
enum class WireShape { generate, completions, sglang };
WireShape first_shape(EngineApi api);
std::string_view path_of(WireShape shape);

struct WireError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// `model` may be empty (then the field is left out).
std::string encode_request(WireShape shape, const ModelRequest& request, const std::string& model,
                           bool stream);

// What one frame says: the tokens it adds (in order) and, on the last frame, how it ended.
struct WireChunk {
    std::vector<std::int32_t> tokens;
    std::optional<engine::FinishReason> finish;
    std::optional<std::int32_t> matched_stop;  // the stop id the engine says it matched
    int cached_tokens = -1;                    // prompt tokens the engine had cached (-1: unknown)
    std::string error;                         // with finish == Error: the engine's words
};

class WireDecoder {
  public:
    WireDecoder(WireShape shape, bool stream) : shape_(shape), stream_(stream) {}
    // Bytes of the response body as they arrive; the frames they complete.
    std::vector<WireChunk> feed(std::string_view bytes);
    // The body ended: the frames left (non-streamed: the whole answer). Throws WireError when
    // the answer never said how the generation ended.
    std::vector<WireChunk> end();
    bool finished() const { return finished_; }

  private:
    std::optional<WireChunk> frame(std::string_view json);
    void event(std::string_view data, std::vector<WireChunk>& out);

    WireShape shape_;
    bool stream_;
    std::string buffer_;
    std::size_t delivered_ = 0;  // SGLang: tokens handed out (its stream may be cumulative)
    bool finished_ = false;
    bool done_marker_ = false;
};

}  // namespace gossamer::runtime
