// The engine behind ModelClient: one engine thread steps an engine::Scheduler (continuous
// batching: every conversation of every session shares each forward pass) and posts each
// token onto the runtime's event loop. It owns the thread; it must not interpret tokens.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "engine/backend.h"
#include "engine/scheduler.h"
#include "runtime/model_client.h"

namespace gossamer::runtime {

class EngineClient final : public ModelClient {
  public:
    // `backend` must outlive the client; callbacks run on `executor`.
    EngineClient(engine::Backend& backend, boost::asio::any_io_executor executor,
                 const engine::SchedulerOptions& options = {});
    ~EngineClient() override;  // cancels everything and joins the engine thread

    Conversation open() override;
    void close(Conversation c) override;
    void generate(Conversation c, ModelRequest request, OnToken on_token) override;
    void cancel(Conversation c) override;
    void keep_on_disk(Conversation c, const std::filesystem::path& file,
                      const std::filesystem::path& seed = {}) override;
    std::vector<std::int32_t> saved_tokens(const std::filesystem::path& file) override;
    // What saved caches are tied to (engine::kv_identity) and the disk budget of the folder
    // they go in; an empty identity or a zero budget keeps nothing on disk.
    void set_kv_disk(std::string identity, std::uint64_t budget_bytes);
    int context_window() const override { return context_window_; }
    int vocab_size() const override { return vocab_size_; }

  private:
    void run();

    boost::asio::any_io_executor executor_;
    engine::Scheduler scheduler_;
    int context_window_ = 0;
    int vocab_size_ = 0;
    std::string kv_identity_;
    std::uint64_t kv_budget_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace gossamer::runtime
