#include "runtime/replay_model.h"

#include <boost/asio/post.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "harmony/special_tokens.h"
#include "harmony/tokenizer.h"
#include "runtime/agent_spec.h"

namespace gossamer::runtime {

struct ReplayModel::Run {
    Conversation conversation = 0;
    std::vector<std::int32_t> tokens;
    std::size_t next = 0;
    ModelRequest request;
    OnToken on_token;
    bool cancelled = false;
    std::unique_ptr<boost::asio::steady_timer> timer;
};

ReplayModel::ReplayModel(boost::asio::io_context& io, Script script, int context_window,
                         std::chrono::microseconds per_token)
    : io_(io), script_(std::move(script)), context_window_(context_window), per_token_(per_token) {}

ReplayModel::Script ReplayModel::from_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw SpecError(file.string() + ": cannot read the replay script");
    nlohmann::json responses;
    try {
        responses = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw SpecError(file.string() + ": not JSON: " + e.what());
    }
    if (!responses.is_array() || responses.empty())
        throw SpecError(file.string() + ": expected a non-empty JSON array of strings");
    std::vector<std::string> texts;
    for (const auto& r : responses) {
        if (!r.is_string()) throw SpecError(file.string() + ": every element must be a string");
        texts.push_back(r.get<std::string>());
    }
    return [texts](const std::vector<std::int32_t>& prompt) {
        std::size_t calls = 0;
        for (auto t : prompt) calls += t == static_cast<std::int32_t>(harmony::tok::kCall);
        return texts[std::min(calls, texts.size() - 1)];
    };
}

ModelClient::Conversation ReplayModel::open() {
    return next_++;
}

void ReplayModel::close(Conversation c) {
    cancel(c);
}

void ReplayModel::generate(Conversation c, ModelRequest request, OnToken on_token) {
    prompts_.push_back(request.prompt);
    auto run = std::make_shared<Run>();
    run->conversation = c;
    const auto ids = harmony::Tokenizer::o200k_harmony().encode(
        script_(request.prompt), harmony::AllowedSpecial::all_tokens());
    run->tokens.assign(ids.begin(), ids.end());
    run->request = std::move(request);
    run->on_token = std::move(on_token);
    run->timer = std::make_unique<boost::asio::steady_timer>(io_);
    running_[c] = run;
    boost::asio::post(io_, [this, run] { emit_next(run); });
}

void ReplayModel::cancel(Conversation c) {
    auto it = running_.find(c);
    if (it == running_.end()) return;
    auto run = it->second;
    running_.erase(it);
    run->cancelled = true;
    run->timer->cancel();
    TokenEvent e;
    e.done = true;
    e.reason = FinishReason::Cancelled;
    boost::asio::post(io_, [run, e] { run->on_token(e); });
}

void ReplayModel::emit_next(std::shared_ptr<Run> run) {
    if (run->cancelled) return;
    TokenEvent e;
    const int emitted = static_cast<int>(run->next);
    if (run->next >= run->tokens.size()) {  // the script ran out: as if the stream ended
        e.done = true;
        e.reason = FinishReason::Length;
    } else {
        e.has_token = true;
        e.sample.token = run->tokens[run->next++];
        const auto& stop = run->request.stop;
        if (std::find(stop.begin(), stop.end(), e.sample.token) != stop.end()) {
            e.done = true;
            e.reason = FinishReason::Stop;
        } else if (emitted + 1 >= run->request.max_tokens) {
            e.done = true;
            e.reason = FinishReason::Length;
        }
    }
    e.stats.generated_tokens = emitted + (e.has_token ? 1 : 0);
    if (e.done) running_.erase(run->conversation);
    run->on_token(e);
    if (e.done) return;
    if (per_token_.count() == 0) return boost::asio::post(io_, [this, run] { emit_next(run); });
    run->timer->expires_after(per_token_);
    run->timer->async_wait([this, run](const boost::system::error_code& ec) {
        if (!ec) emit_next(run);
    });
}

}  // namespace gossamer::runtime
