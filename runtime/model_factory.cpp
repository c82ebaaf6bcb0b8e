#include "runtime/model_factory.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/backend_factory.h"
#include "engine/model_error.h"
#include "runtime/agent_spec.h"
#include "runtime/engine_client.h"
#include "runtime/replay_model.h"
#include "runtime/setup_error.h"

namespace gossamer::runtime {

LoadedModel::~LoadedModel() {
    client.reset();
    backend.reset();
}

std::unique_ptr<LoadedModel> open_model(const std::string& reference, boost::asio::io_context& io,
                                        const ModelOptions& options) {
    auto model = std::make_unique<LoadedModel>();
    const int window = options.context_tokens > 0 ? options.context_tokens : 131072;
    if (reference.rfind(kReplayPrefix, 0) == 0) {
        try {
            model->client = std::make_unique<ReplayModel>(
                io, ReplayModel::from_file(reference.substr(std::string(kReplayPrefix).size())),
                window, std::chrono::milliseconds(options.replay_delay_ms));
        } catch (const SpecError& e) {
            throw SetupError(e.what());
        }
        return model;
    }
    engine::LoadOptions load;
    if (options.progress)
        load.progress = [&](std::size_t done, std::size_t total) {
            std::fprintf(stderr, "\rloading %s: %zu/%zu tensors", reference.c_str(), done, total);
            if (done == total) std::fputs("\r\033[K", stderr);
        };
    try {
        model->weights = engine::load_weights(reference, load);
    } catch (const engine::ModelError& e) {
        if (options.progress) std::fputc('\n', stderr);
        throw SetupError(e.what());
    } catch (const std::filesystem::filesystem_error& e) {
        throw SetupError(reference + ": " + e.code().message());
    }
    engine::BackendChoice choice;
    choice.kind = options.backend;
    choice.threads = options.threads;
    try {
        model->backend = engine::make_backend(*model->weights, choice);
    } catch (const engine::ModelError& e) {
        throw SetupError(e.what());
    }
    engine::SchedulerOptions scheduler;
    scheduler.max_context = window;
    scheduler.max_active = std::max(1, options.max_sequences);
    model->client = std::make_unique<EngineClient>(*model->backend, io.get_executor(), scheduler);
    return model;
}

}  // namespace gossamer::runtime
