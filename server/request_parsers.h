// The parsers of untrusted request bodies: OpenAI Responses (`POST /v1/responses`), Chat
// Completions (`POST /v1/chat/completions`) and the token-level generate endpoint (vLLM's
// `/inference/v1/generate` shape). Each turns JSON into a typed request or throws ApiError
// naming the parameter; unknown fields are ignored, fields we know but do not implement are
// refused by name. Pure: no I/O, no model (fuzzed by tests/fuzz/fuzz_server_requests.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/api_error.h"
#include "server/turn_input.h"

namespace gossamer::server {

// Parses the body as JSON (400 on a syntax error) and checks it is an object.
Json parse_body(std::string_view body);

TurnInput parse_responses_request(const Json& body);
TurnInput parse_chat_request(const Json& body);

// Token ids in, token ids out (vLLM's tokens-in/tokens-out request shape).
struct GenerateRequest {
    std::string model;
    std::vector<std::int32_t> token_ids;
    engine::SamplingParams sampling;
    int max_tokens = 16;
    std::vector<std::int32_t> stop_token_ids;
    int logprobs = -1;  // -1: none; N >= 0: the sampled token's logprob and N alternatives
    bool stream = false;
    std::string cache_key;  // "cache_salt" or "conversation": requests that share a prefix
    std::optional<std::string> request_id;
};
GenerateRequest parse_generate_request(const Json& body, int vocab_size);

// The sampling fields both OpenAI APIs share (temperature in [0, 2], top_p in (0, 1], seed).
void read_sampling(const Json& body, engine::SamplingParams& sampling);

// Reasoning text carried through a stateless client as `encrypted_content` (not encrypted:
// base64 of JSON {"text", "tokens"}); nullopt if it is not ours.
std::string encode_reasoning(const std::string& text, const std::vector<std::int32_t>& tokens);
struct DecodedReasoning {
    std::string text;
    std::vector<std::int32_t> tokens;
};
std::optional<DecodedReasoning> decode_reasoning(std::string_view encrypted);

}  // namespace gossamer::server
