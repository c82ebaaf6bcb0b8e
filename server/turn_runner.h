// One API request's work on the model, whichever endpoint it came through: renders the
// conversation (system and developer messages from the request; earlier messages verbatim as
// their tokens), generates on a pooled conversation, parses harmony as tokens arrive and
// reports typed output items (reasoning, message, function call, server-side tool call) to
// an observer; built-in tools (code_interpreter = the sandboxed python, web_search = the
// browser) run here and generation goes on until the model answers or calls a client
// function. Function calls on the analysis channel are accepted (gpt-oss-120b writes ~47% of
// its calls there). Runs on the event loop; it must not know HTTP or the wire formats.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harmony/renderer.h"
#include "harmony/stream_parser.h"
#include "runtime/model_client.h"
#include "runtime/tool_registry.h"
#include "server/conversation_pool.h"
#include "server/metrics.h"
#include "server/turn_input.h"

namespace gossamer::server {

// One message of the conversation and its tokens exactly as the model saw or wrote them.
struct Segment {
    harmony::Message message;
    std::vector<std::int32_t> tokens;
};

enum class ItemKind { reasoning, message, function_call, code_interpreter_call, web_search_call };

struct OutputItem {
    ItemKind kind = ItemKind::message;
    std::string id;       // "rs_...", "msg_...", "fc_...", "ci_...", "ws_..."
    std::string text;     // reasoning / answer text / call arguments / python code
    std::string name;     // function name (without namespace)
    std::string ns;       // function namespace ("functions" or a namespace tool's name)
    std::string call_id;  // function_call: "call_..."
    std::string channel;  // harmony channel it was written on
    std::string result;   // server-side tools: what the tool returned
    bool ok = true;
    std::vector<std::int32_t> tokens;  // reasoning: its tokens verbatim (for encrypted_content)
};

struct TurnUsage {
    int input_tokens = 0;
    int cached_tokens = 0;
    int output_tokens = 0;
    int reasoning_tokens = 0;
};

enum class TurnEnd { completed, incomplete_length, cancelled, failed };

struct TurnResult {
    TurnEnd end = TurnEnd::completed;
    std::string error;
    int error_status = 500;  // failed: 400 when the request itself is the problem
    std::string error_code = "server_error";
    std::vector<OutputItem> items;
    TurnUsage usage;
    std::vector<Segment> conversation;  // everything after system + developer, verbatim
    double first_token_ms = -1;
};

class TurnObserver {
  public:
    virtual ~TurnObserver() = default;
    virtual void item_started(std::size_t index, const OutputItem& item) = 0;
    virtual void item_delta(std::size_t index, const OutputItem& item,
                            const std::string& delta) = 0;
    virtual void item_done(std::size_t index, const OutputItem& item) = 0;
    virtual void finished(const TurnResult& result) = 0;
};

struct TurnContext {
    boost::asio::any_io_executor executor;  // the event loop (tools complete on it)
    runtime::ModelClient& model;
    ConversationPool& pool;
    const harmony::Renderer& renderer;
    runtime::ToolRegistry* builtin_tools = nullptr;  // python / browser, when the server has them
    std::filesystem::path workspace;                 // for built-in tools
    std::string session_id;                          // for built-in tools (kernels per chain)
    int max_rounds = 8;                              // generations per request
    int max_prompt_tokens = 0;                       // 0: the context window
    double tool_timeout_seconds = 120;
    std::string date;                          // conversation start date (YYYY-MM-DD)
    Histogram* inter_token_latency = nullptr;  // fed with the gap before every token
};

class TurnRunner : public std::enable_shared_from_this<TurnRunner> {
  public:
    // `history`: earlier messages verbatim (a stored response chain); the request's messages
    // follow them.
    TurnRunner(TurnContext context, TurnInput input, std::vector<Segment> history,
               TurnObserver& observer);
    ~TurnRunner();
    void start();
    void cancel();  // the client went away: ends with TurnEnd::cancelled within one step

    // The system and developer messages for `input` (what the model sees first).
    static std::vector<harmony::Message> head_messages(const TurnInput& input,
                                                       const runtime::ToolRegistry* builtin,
                                                       const std::string& date);

  private:
    void generate();
    void on_token(const runtime::TokenEvent& e);
    void on_done(const runtime::TokenEvent& e);
    void begin_item(const harmony::Message& header_only);
    void close_message(const harmony::ParsedMessage& parsed, std::vector<std::int32_t> tokens);
    // Runs a built-in tool call (item_index: its output item; nullopt: a call to a tool that
    // does not exist, answered with an error) and generates again with its result.
    void run_builtin(std::optional<std::size_t> item_index, std::size_t message_index);
    void finish(TurnEnd end, std::string error = {});
    std::vector<std::int32_t> prompt() const;
    // The structured-output mask of this round (nullptr when nothing must be JSON).
    std::shared_ptr<engine::TokenConstraint> constraint();

    TurnContext ctx_;
    TurnInput input_;
    TurnObserver& observer_;
    std::vector<harmony::Message> head_;
    std::vector<Segment> conversation_;
    std::vector<std::int32_t> head_tokens_;
    std::vector<std::int32_t> plain_opener_;  // "<|start|>assistant"
    std::vector<std::int32_t> opener_;        // this round's: plain, or a forced header
    std::optional<ConversationPool::Conversation> conv_;
    std::vector<std::int32_t> held_;  // tokens the conversation's cache holds
    std::unique_ptr<harmony::StreamParser> parser_;
    std::vector<std::int32_t> generated_;  // this round
    std::size_t message_start_ = 0;        // index in generated_ of the current message
    std::size_t parsed_ = 0;               // parser messages handled
    std::optional<std::size_t> open_item_;
    bool content_seen_ = false;  // the current message's content began (its item is open)
    struct PendingCall {
        std::optional<std::size_t> item;
        std::size_t message;
    };
    std::vector<PendingCall> pending_calls_;  // server-side calls this round
    int input_tokens_this_round_ = 0;
    TurnResult result_;
    int rounds_ = 0;
    bool generating_ = false;
    bool finished_ = false;
    std::chrono::steady_clock::time_point begun_;
    TokenGaps token_gaps_;
    std::uint64_t serial_ = 0;
};

}  // namespace gossamer::server
