// A scripted token source behind ModelClient: it "generates" harmony text written in advance,
// token by token on the event loop, honouring max_tokens, stop tokens and cancel. It is a
// test double at the engine boundary (named as such in every test and in docs/CLI.md), used
// to drive the agent loop deterministically: by tests, by the crash/resume test through
// `gossamer run --replay FILE`, and for demos without weights. It is not a language model.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/model_client.h"

namespace gossamer::runtime {

class ReplayModel final : public ModelClient {
  public:
    // Picks the harmony text to emit for a prompt (special tokens written as "<|call|>").
    using Script = std::function<std::string(const std::vector<std::int32_t>& prompt)>;

    ReplayModel(boost::asio::io_context& io, Script script, int context_window = 131072,
                std::chrono::microseconds per_token = std::chrono::microseconds(0));

    // The script of `gossamer run --replay FILE`: a JSON array of strings; the response to a
    // prompt is element k, where k is the number of tool calls (<|call|>) in the prompt;
    // past the end, the last element repeats.
    static Script from_file(const std::filesystem::path& file);

    Conversation open() override;
    void close(Conversation c) override;
    void generate(Conversation c, ModelRequest request, OnToken on_token) override;
    void cancel(Conversation c) override;
    int context_window() const override { return context_window_; }
    int vocab_size() const override { return 201088; }

    // Every prompt it was given, in order (tests check what the loop sent).
    const std::vector<std::vector<std::int32_t>>& prompts() const { return prompts_; }

  private:
    struct Run;
    void emit_next(std::shared_ptr<Run> run);

    boost::asio::io_context& io_;
    Script script_;
    int context_window_;
    std::chrono::microseconds per_token_;
    Conversation next_ = 1;
    std::map<Conversation, std::shared_ptr<Run>> running_;
    std::vector<std::vector<std::int32_t>> prompts_;
};

}  // namespace gossamer::runtime
