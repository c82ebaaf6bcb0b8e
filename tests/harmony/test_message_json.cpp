// Message JSON tests: harmony's serde form in and out, SystemContent defaults, and one case
// per error path (each names the offending field). Conversations read from JSON must render
// to the reference fingerprints of harmony.md's appendix.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "harmony/message.h"
#include "harmony/renderer.h"
#include "harmony/sha256.h"
#include "harmony/tokenizer.h"

using namespace gossamer::harmony;

namespace {

std::vector<Message> parse(std::string_view messages_json) {
    return messages_from_json(Json::parse(messages_json));
}

// SHA-256 of the ids joined by single spaces (harmony.md's appendix fingerprint).
std::string fingerprint(const std::vector<Token>& ids) {
    std::string joined;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) joined += ' ';
        joined += std::to_string(ids[i]);
    }
    return sha256_hex(joined);
}

std::vector<Token> completion(const std::vector<Message>& messages,
                              DropAnalysis drop = DropAnalysis::completed_turns) {
    static const Renderer renderer(Tokenizer::o200k_harmony());
    return renderer.render_conversation_for_completion(messages, Role::assistant, {drop});
}

// The error message of parsing `messages_json`, or "" when it parses.
std::string error_of(std::string_view messages_json) {
    try {
        parse(messages_json);
    } catch (const MessageFormatError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("message_json: test_simple_convo from JSON, content as string and as parts") {
    // 4.1: 64 tokens, sha 52857e1f...
    const char* as_string = R"([
        {"role": "system", "content": [{"type": "system_content"}]},
        {"role": "user", "content": "What is 2 + 2?"}])";
    const char* as_parts = R"([
        {"role": "system", "content": [{"type": "system_content",
            "model_identity": "You are ChatGPT, a large language model trained by OpenAI.",
            "reasoning_effort": "Medium", "knowledge_cutoff": "2024-06",
            "channel_config": {"valid_channels": ["analysis", "commentary", "final"],
                               "channel_required": true}}]},
        {"role": "user", "content": [{"type": "text", "text": "What is 2 + 2?"}]}])";
    for (const char* json : {as_string, as_parts}) {
        auto ids = completion(parse(json));
        CHECK(ids.size() == 64);
        CHECK(fingerprint(ids) ==
              "52857e1f6dc21ffe8445458f170dee874292f489fc894519a39231eb02cd3092");
    }
}

TEST_CASE("message_json: test_render_functions_with_parameters from JSON") {
    // 4.3: 364 tokens. Tools as a map name -> {name, description?, tools: [...]}.
    auto msgs = parse(R"([
      {"role": "system", "content": [{"type": "system_content", "reasoning_effort": "High",
                                      "conversation_start_date": "2025-06-28"}]},
      {"role": "developer", "content": [{"type": "developer_content",
        "instructions": "Always respond in riddles",
        "tools": {"functions": {"name": "functions", "description": null, "tools": [
          {"name": "get_location", "description": "Gets the location of the user."},
          {"name": "get_current_weather",
           "description": "Gets the current weather in the provided location.",
           "parameters": {"type": "object", "properties": {
             "location": {"type": "string",
                          "description": "The city and state, e.g. San Francisco, CA"},
             "format": {"type": "string", "enum": ["celsius", "fahrenheit"],
                        "default": "celsius"}},
             "required": ["location"]}},
          {"name": "get_multiple_weathers",
           "description": "Gets the current weather in the provided list of locations.",
           "parameters": {"type": "object", "properties": {
             "locations": {"type": "array", "items": {"type": "string"},
               "description": "List of city and state, e.g. [\"San Francisco, CA\", \"New York, NY\"]"},
             "format": {"type": "string", "enum": ["celsius", "fahrenheit"],
                        "default": "celsius"}},
             "required": ["locations"]}},
          {"name": "kitchensink", "description": "A function with various complex schemas.",
           "parameters": {"description": "params object", "type": "object", "properties": {
             "string": {"type": "string", "title": "STRING", "description": "A string",
                        "examples": ["hello", "world"]},
             "string_nullable": {"type": "string", "nullable": true,
                                 "description": "A nullable string", "default": "the default"},
             "string_enum": {"type": "string", "enum": ["a", "b", "c"]},
             "oneof_string_or_number": {"oneOf": [
                 {"type": "string", "default": "default_string_in_oneof"},
                 {"type": "number", "description": "numbers can happen too"}],
               "description": "a oneof", "default": 20}}}}]}}}]},
      {"role": "user", "content": "What is the weather like in SF?"}])");
    auto ids = completion(msgs);
    CHECK(ids.size() == 364);
    CHECK(fingerprint(ids) == "44d51764e13c7c88e2d57538048fc44440e3a9c86dfaf9cb5bb9a23215fe6bd4");
}

TEST_CASE("message_json: tool call round trip from JSON (test_does_not_drop_if_ongoing_analysis)") {
    // 4.4: 79 tokens, sha 27b80d04...
    auto msgs = parse(R"([
      {"role": "user", "content": "What is the weather in SF?"},
      {"role": "assistant", "channel": "analysis",
       "content": "User asks: \u201cWhat is the weather in SF?\u201d We need to use lookup_weather tool."},
      {"role": "assistant", "channel": "commentary", "recipient": "functions.lookup_weather",
       "content_type": "<|constrain|>json", "content": "{\"location\": \"San Francisco\"}"},
      {"role": "tool", "name": "functions.lookup_weather",
       "content": "{\"temperature\": 20, \"description\": \"sunny\"}"}])");
    auto ids = completion(msgs, DropAnalysis::harmony_first_final);
    CHECK(ids.size() == 79);
    CHECK(fingerprint(ids) == "27b80d04d7100914a40e1403e02ac06282ddee94587e86a6b5805846ac7538a6");
}

TEST_CASE("message_json: missing system_content fields take SystemContent::new() defaults") {
    auto msgs = parse(R"([{"role": "system", "content": [{"type": "system_content"}]}])");
    const auto& sys = std::get<SystemContent>(msgs[0].content.at(0));
    CHECK(sys.model_identity == "You are ChatGPT, a large language model trained by OpenAI.");
    CHECK(sys.reasoning_effort == ReasoningEffort::medium);
    CHECK(sys.knowledge_cutoff == "2024-06");
    CHECK_FALSE(sys.conversation_start_date);
    CHECK_FALSE(sys.tools);
    REQUIRE(sys.channel_config);
    CHECK(sys.channel_config->valid_channels ==
          std::vector<std::string>{"analysis", "commentary", "final"});
    CHECK(sys.channel_config->channel_required);
}

TEST_CASE("message_json: null clears a system_content field") {
    auto msgs = parse(R"([{"role": "system", "content": [{"type": "system_content",
        "model_identity": null, "reasoning_effort": null, "knowledge_cutoff": null,
        "channel_config": null}]}])");
    const auto& sys = std::get<SystemContent>(msgs[0].content.at(0));
    CHECK_FALSE(sys.model_identity);
    CHECK_FALSE(sys.reasoning_effort);
    CHECK_FALSE(sys.knowledge_cutoff);
    CHECK_FALSE(sys.channel_config);
    // Nothing left to say: an empty system message.
    CHECK(Tokenizer::o200k_harmony().decode(completion(msgs)) ==
          "<|start|>system<|message|><|end|><|start|>assistant");
}

TEST_CASE("message_json: reasoning effort spellings") {
    for (auto [text, effort] : {std::pair{"Low", ReasoningEffort::low},
                                {"high", ReasoningEffort::high},
                                {"Medium", ReasoningEffort::medium}}) {
        auto msgs = parse(std::string(R"([{"role": "system", "content": [{"type":
            "system_content", "reasoning_effort": ")") +
                          text + "\"}]}]");
        CHECK(std::get<SystemContent>(msgs[0].content.at(0)).reasoning_effort == effort);
    }
    CHECK_FALSE(reasoning_effort_from_string("HIGH"));
    CHECK_FALSE(reasoning_effort_from_string(""));
}

TEST_CASE("message_json: every field of a message") {
    auto msgs = parse(R"([{"role": "assistant", "name": "bot", "recipient": "functions.f",
        "channel": "commentary", "content_type": "<|constrain|>json", "content": "{}"},
        {"role": "user", "name": null, "recipient": null, "content": []}])");
    CHECK(msgs[0].role == Role::assistant);
    CHECK(msgs[0].name == "bot");
    CHECK(msgs[0].recipient == "functions.f");
    CHECK(msgs[0].channel == "commentary");
    CHECK(msgs[0].content_type == "<|constrain|>json");
    CHECK(msgs[0].text_content() == "{}");
    CHECK_FALSE(msgs[1].name);
    CHECK_FALSE(msgs[1].recipient);
    CHECK(msgs[1].content.empty());
}

TEST_CASE("message_json: to_json writes serde's shape and reads back the same") {
    Message text = Message::text(Role::user, "hi");
    CHECK(message_to_json(text) == Json::parse(R"({"role": "user", "content": "hi"})"));

    Message call = Message::text(Role::assistant, "{}");
    call.recipient = "functions.f";
    call.channel = "commentary";
    call.content_type = "<|constrain|>json";
    CHECK(message_to_json(call).dump() ==
          R"({"role":"assistant","recipient":"functions.f","content":"{}",)"
          R"("channel":"commentary","content_type":"<|constrain|>json"})");

    Message sys;
    sys.role = Role::system;
    SystemContent content;
    content.reasoning_effort = ReasoningEffort::high;
    content.model_identity.reset();
    add_tool_namespace(
        content.tools,
        ToolNamespace{"browser", std::nullopt, {{"search", "Search.", std::nullopt}}});
    sys.content.push_back(content);
    Json json = message_to_json(sys);
    CHECK(json["content"][0] == Json::parse(R"({"type": "system_content",
        "model_identity": null, "reasoning_effort": "High",
        "tools": {"browser": {"name": "browser", "description": null,
                              "tools": [{"name": "search", "description": "Search.",
                                         "parameters": null}]}},
        "conversation_start_date": null, "knowledge_cutoff": "2024-06",
        "channel_config": {"valid_channels": ["analysis", "commentary", "final"],
                           "channel_required": true}})"));

    // Reading the JSON back renders identically (null identity stays cleared).
    std::vector<Message> original{sys, text, call};
    auto round_trip = messages_from_json(messages_to_json(original));
    CHECK(completion(round_trip) == completion(original));
    CHECK(messages_to_json(round_trip) == messages_to_json(original));
}

TEST_CASE("message_json: two parts render back to back") {
    auto msgs = parse(R"([{"role": "user", "content": [{"type": "text", "text": "a"},
                                                         {"type": "text", "text": "b"}]}])");
    CHECK(msgs[0].text_content() == "ab");
    CHECK(message_to_json(msgs[0])["content"].is_array());
}

TEST_CASE("message_json: errors name the message and the field") {
    struct Case {
        const char* json;
        const char* message;
    };
    const Case cases[] = {
        {R"({"role": "user"})", "messages: expected an array of messages, got object"},
        {R"([42])", "messages[0]: expected a JSON object, got number"},
        {R"([{"content": "x"}])", "messages[0].role: missing"},
        {R"([{"role": 1, "content": "x"}])", "messages[0].role: expected a string, got number"},
        {R"([{"role": "robot", "content": "x"}])", "messages[0].role: unknown role 'robot'"},
        {R"([{"role": "user"}])", "messages[0].content: missing"},
        {R"([{"role": "user", "content": 5}])",
         "messages[0].content: expected a string or an array of content parts, got number"},
        {R"([{"role": "user", "content": "x", "author": "me"}])",
         "messages[0].author: unknown key"},
        {R"([{"role": "user", "content": "x", "channel": 3}])",
         "messages[0].channel: expected a string"},
        {R"([{"role": "user", "content": "x"}, {"role": "tool", "content": "42"}])",
         "messages[1].name: a tool message needs a name"},
        {R"([{"role": "user", "content": [{"text": "x"}]}])",
         "messages[0].content[0].type: missing"},
        {R"([{"role": "user", "content": [{"type": "image"}]}])",
         "messages[0].content[0].type: unknown content type 'image'"},
        {R"([{"role": "user", "content": [{"type": "text"}]}])",
         "messages[0].content[0].text: missing"},
        {R"([{"role": "user", "content": [{"type": "text", "text": "x", "lang": "en"}]}])",
         "messages[0].content[0].lang: unknown key"},
        {R"([{"role": "user", "content": [{"type": "system_content"}]}])",
         "messages[0].content[0]: system_content may only appear in a system message, found in "
         "a user message"},
        {R"([{"role": "system", "content": [{"type": "developer_content"}]}])",
         "messages[0].content[0]: developer_content may only appear in a developer message, "
         "found in a system message"},
        {R"([{"role": "system", "content": [{"type": "system_content", "effort": "High"}]}])",
         "messages[0].content[0].effort: unknown key"},
        {R"([{"role": "system", "content": [{"type": "system_content",
              "reasoning_effort": "Extreme"}]}])",
         "messages[0].content[0].reasoning_effort: unknown reasoning effort \"Extreme\""},
        {R"([{"role": "system", "content": [{"type": "system_content",
              "model_identity": 7}]}])",
         "messages[0].content[0].model_identity: expected a string"},
        {R"([{"role": "system", "content": [{"type": "system_content",
              "channel_config": {"valid_channels": ["final"]}}]}])",
         "messages[0].content[0].channel_config.channel_required: expected true or false"},
        {R"([{"role": "system", "content": [{"type": "system_content",
              "channel_config": {"valid_channels": "final", "channel_required": true}}]}])",
         "messages[0].content[0].channel_config.valid_channels: expected an array"},
        {R"([{"role": "system", "content": [{"type": "system_content", "tools": []}]}])",
         "messages[0].content[0].tools: expected an object mapping namespace names"},
        {R"([{"role": "developer", "content": [{"type": "developer_content",
              "tools": {"functions": {"name": "functions"}}}]}])",
         "messages[0].content[0].tools.functions.tools: missing"},
        {R"([{"role": "developer", "content": [{"type": "developer_content",
              "tools": {"functions": {"name": "fns", "tools": []}}}]}])",
         "messages[0].content[0].tools.functions.name: 'fns' differs from its key 'functions'"},
        {R"([{"role": "developer", "content": [{"type": "developer_content",
              "tools": {"functions": {"tools": [], "namespace": "x"}}}]}])",
         "messages[0].content[0].tools.functions.namespace: unknown key"},
        {R"([{"role": "developer", "content": [{"type": "developer_content",
              "tools": {"functions": {"tools": [{"name": "f"}]}}}]}])",
         "messages[0].content[0].tools.functions.tools[0].description: missing"},
        {R"([{"role": "developer", "content": [{"type": "developer_content",
              "tools": {"functions": {"tools": [{"name": "f", "description": "d",
                                                 "params": {}}]}}}]}])",
         "messages[0].content[0].tools.functions.tools[0].params: unknown key"},
        {R"([{"role": "developer", "content": [{"type": "developer_content",
              "instructions": ["x"]}]}])",
         "messages[0].content[0].instructions: expected a string, got array"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.json);
        std::string error = error_of(c.json);
        CHECK(error.find(c.message) == 0);
    }
}

TEST_CASE("message_json: a single message names itself 'message'") {
    CHECK_THROWS_WITH_AS(message_from_json(Json::parse(R"({"role": "x", "content": ""})")),
                         doctest::Contains("message.role: unknown role 'x'"), MessageFormatError);
    Message m = message_from_json(Json::parse(R"({"role": "developer", "content": [
        {"type": "developer_content", "instructions": "Be brief."}]})"));
    CHECK(std::get<DeveloperContent>(m.content.at(0)).instructions == "Be brief.");
}

TEST_CASE("message_json: role and effort names") {
    for (Role role : {Role::user, Role::assistant, Role::system, Role::developer, Role::tool})
        CHECK(role_from_string(to_string(role)) == role);
    CHECK_FALSE(role_from_string("User"));
    CHECK(to_string(ReasoningEffort::high) == "high");
}
