// What one API request asks the model to do, whichever endpoint it came through: the
// conversation as harmony messages, the tools, sampling and limits. The Responses and Chat
// Completions parsers (responses_request.h, chat_request.h) both produce it, so rendering,
// generation and tool handling are written once (turn_runner.h). Data only.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sampler.h"
#include "harmony/message.h"

namespace gossamer::server {

using Json = nlohmann::ordered_json;

// call_id -> "ns.name" of the function calls a request or a stored response holds.
using CallNames = std::vector<std::pair<std::string, std::string>>;

// The recipient of the call `call_id` ("ns.name"); nullptr when `calls` has none. The first
// call with that id wins.
inline const std::string* find_call(const CallNames& calls, const std::string& call_id) {
    for (const auto& [id, name] : calls)
        if (id == call_id) return &name;
    return nullptr;
}

// A tool result whose call is not in the request names the tool as this prefix + its call_id
// until the stored response it continues resolves it.
inline constexpr std::string_view kUnresolvedCall = "?";

// A client-side function the model may call; `ns` is its harmony namespace ("functions", or
// the name of a Responses `namespace` tool).
struct FunctionTool {
    std::string ns = "functions";
    std::string name;
    std::string description;
    std::optional<Json> parameters;
    bool strict = false;
};

enum class ToolChoice { automatic, none, required, named };

struct TurnInput {
    std::string model;
    std::optional<std::string> instructions;  // the developer message's instructions
    std::vector<FunctionTool> tools;
    bool code_interpreter = false;  // built-in tools, run by the server in its sandbox
    bool web_search = false;
    ToolChoice tool_choice = ToolChoice::automatic;
    std::string tool_choice_name;  // named: "ns.name" as the model addresses it
    bool parallel_tool_calls = true;
    harmony::ReasoningEffort effort = harmony::ReasoningEffort::medium;
    engine::SamplingParams sampling;
    int max_output_tokens = 0;  // 0: what the context window leaves
    // The conversation after the system and developer messages (user, assistant, tool).
    std::vector<harmony::Message> messages;
    // Harmony's token ids for some assistant messages, verbatim as sampled (from reasoning
    // items' encrypted_content); index into `messages`.
    std::vector<std::pair<std::size_t, std::vector<std::int32_t>>> verbatim;
    std::optional<Json> output_schema;  // text.format / response_format json_schema
    std::string output_schema_name = "response";
    bool stream = false;
    bool store = true;
    std::optional<std::string> previous_response_id;
    bool include_reasoning = false;  // include: ["reasoning.encrypted_content"]
    CallNames call_names;            // the function_call items given in the input
    Json metadata = Json::object();
};

// The recipient the model writes for a tool ("functions.get_weather").
inline std::string recipient_of(const FunctionTool& tool) {
    return tool.ns + "." + tool.name;
}

}  // namespace gossamer::server
