#include "runtime/engine_client.h"

#include <boost/asio/post.hpp>

namespace gossamer::runtime {

EngineClient::EngineClient(engine::Backend& backend, boost::asio::any_io_executor executor,
                           const engine::SchedulerOptions& options)
    : executor_(std::move(executor)),
      scheduler_(backend, options),
      context_window_(options.max_context > 0
                          ? std::min(options.max_context, backend.config().max_context())
                          : backend.config().max_context()),
      vocab_size_(backend.config().vocab_size),
      thread_([this] { run(); }) {}

EngineClient::~EngineClient() {
    stop_ = true;
    thread_.join();
}

void EngineClient::run() {
    while (!stop_)
        if (!scheduler_.step()) scheduler_.wait_for_work(std::chrono::milliseconds(20));
}

ModelClient::Conversation EngineClient::open() {
    return scheduler_.open();
}

void EngineClient::close(Conversation c) {
    scheduler_.close(c);
}

void EngineClient::generate(Conversation c, ModelRequest request, OnToken on_token) {
    engine::GenerateRequest r;
    r.prompt = std::move(request.prompt);
    r.max_tokens = request.max_tokens;
    r.sampling = request.sampling;
    r.stop = std::move(request.stop);
    r.constraint = std::move(request.constraint);
    r.on_token = [executor = executor_, on_token = std::move(on_token)](const TokenEvent& e) {
        boost::asio::post(executor, [on_token, e] { on_token(e); });
    };
    scheduler_.generate(c, std::move(r));
}

void EngineClient::set_kv_disk(std::string identity, std::uint64_t budget_bytes) {
    kv_identity_ = std::move(identity);
    kv_budget_ = budget_bytes;
}

void EngineClient::keep_on_disk(Conversation c, const std::filesystem::path& file,
                                const std::filesystem::path& seed) {
    if (kv_identity_.empty() || kv_budget_ == 0) return;
    auto kv = std::make_shared<engine::KvFile>(
        file, kv_identity_, engine::KvDiskBudget{file.parent_path(), kv_budget_});
    if (!seed.empty()) kv->set_seed(seed);
    scheduler_.persist(c, std::move(kv));
}

std::vector<std::int32_t> EngineClient::saved_tokens(const std::filesystem::path& file) {
    if (kv_identity_.empty()) return {};
    return engine::KvFile(file, kv_identity_).saved_tokens();
}

void EngineClient::cancel(Conversation c) {
    scheduler_.cancel(c);
}

}  // namespace gossamer::runtime
