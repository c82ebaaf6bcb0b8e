// How the runtime reaches remote engines (docs/SCALE.md): the endpoints, whose API they speak,
// the key, and the limits and timeouts of the remote model client (remote_model.h). The spec's
// `model:` section and the CLI fill it (engine_wire.cpp reads and names the APIs); the defaults
// here are the only ones. Data only.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gossamer::runtime {

// What a spec's `model.api` names: whose endpoints the URLs are.
enum class EngineApi { gossamer, vllm, sglang };
std::optional<EngineApi> parse_engine_api(std::string_view name);
std::string_view to_string(EngineApi api);

// What is wrong with an endpoint URL ("" when nothing): it must be http:// or https://, have a
// host, no white space, and no user:password@ (keys go in api_key_env, not where logs and the
// session store would keep them).
std::string endpoint_url_problem(std::string_view url);

struct RemoteOptions {
    std::vector<std::string> endpoints;  // base URLs: http[s]://host:port[/prefix]
    EngineApi api = EngineApi::gossamer;
    std::string api_key;     // sent as a bearer token when set (never logged)
    std::string model_name;  // "": the first model the endpoint lists
    int max_in_flight = 32;  // generations per endpoint at once
    int max_attempts = 6;    // tries of one generation, all endpoints together
    bool stream = true;
    double connect_timeout = 5;        // seconds
    double first_token_timeout = 600;  // request -> first token (prefill of a long prompt)
    double token_timeout = 60;         // between two tokens
    double generation_timeout = 0;     // one request in all; 0: none
    double backoff_initial = 0.25;     // seconds; doubles per failed try, up to backoff_max
    double backoff_max = 8;
    double health_interval = 1;  // seconds between health checks of a down endpoint
    int context_tokens = 0;      // 0: the smallest context any endpoint reports
};

}  // namespace gossamer::runtime
