#include "runtime/model_factory.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/backend_factory.h"
#include "engine/model_error.h"
#include "runtime/agent_spec.h"
#include "runtime/engine_client.h"
#include "runtime/remote_model.h"
#include "runtime/replay_model.h"
#include "runtime/setup_error.h"

namespace gossamer::runtime {

LoadedModel::~LoadedModel() {
    client.reset();
    backend.reset();
}

engine::Weights load_checkpoint(const std::filesystem::path& dir, bool progress,
                                engine::Residency residency, std::string_view backend,
                                engine::Mxfp4Activations expert_activations) {
    engine::LoadOptions load;
    load.residency = backend == "cuda" ? engine::Residency::Mapped : residency;
    if (expert_activations == engine::Mxfp4Activations::Int8) {
        try {
            load.tile_experts = engine::resolve_backend(std::string(backend)) == "cpu";
        } catch (const engine::ModelError&) {
            // open_backend reports it, after the checkpoint's own errors
        }
    }
    if (progress)
        load.progress = [&](std::size_t done, std::size_t total) {
            std::fprintf(stderr, "\rloading %s: %zu/%zu tensors", dir.c_str(), done, total);
            if (done == total) std::fputs("\r\033[K", stderr);  // clear the line when done
        };
    try {
        return engine::load_weights(dir, load);
    } catch (const engine::ModelError& e) {
        if (progress) std::fputc('\n', stderr);
        throw SetupError(e.what());
    } catch (const std::filesystem::filesystem_error& e) {
        throw SetupError(dir.string() + ": " + e.code().message());
    }
}

std::unique_ptr<engine::Backend> open_backend(const engine::Weights& weights,
                                              const engine::BackendChoice& choice) {
    try {
        return engine::make_backend(weights, choice);
    } catch (const engine::ModelError& e) {
        throw SetupError(e.what());  // the engine's message names the backend
    }
}

std::string remote_reference(const std::vector<std::string>& endpoints) {
    std::string ref = kRemotePrefix;
    for (std::size_t i = 0; i < endpoints.size(); ++i) ref += (i ? "," : "") + endpoints[i];
    return ref;
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
    if (reference.rfind(kRemotePrefix, 0) == 0) {
        RemoteOptions remote = options.remote;
        remote.endpoints.clear();
        const std::string list = reference.substr(std::string(kRemotePrefix).size());
        for (std::size_t at = 0; at <= list.size();) {
            const auto comma = std::min(list.find(',', at), list.size());
            if (comma > at) remote.endpoints.push_back(list.substr(at, comma - at));
            at = comma + 1;
        }
        if (options.context_tokens > 0) remote.context_tokens = options.context_tokens;
        auto client = std::make_unique<RemoteModel>(io, std::move(remote));
        for (const auto& w : client->warnings()) std::fprintf(stderr, "gossamer: %s\n", w.c_str());
        model->client = std::move(client);
        return model;
    }
    model->weights = load_checkpoint(reference, options.progress, options.weights, options.backend,
                                     options.expert_activations);
    engine::BackendChoice choice;
    choice.kind = options.backend;
    choice.threads = options.threads;
    choice.kv_precision = options.kv_precision;
    choice.expert_activations = options.expert_activations;
    choice.dense_activations = options.dense_activations;
    model->backend = open_backend(*model->weights, choice);
    engine::SchedulerOptions scheduler;
    scheduler.max_context = window;
    scheduler.max_active = std::max(1, options.max_sequences);
    scheduler.speculation.max_tokens = std::max(0, options.draft_tokens);
    auto client = std::make_unique<EngineClient>(*model->backend, io.get_executor(), scheduler);
    if (options.kv_disk_budget > 0) {
        const auto sample = model->backend->new_cache(1);
        if (sample->copyable())
            client->set_kv_disk(
                engine::kv_identity(engine::fingerprint(*model->weights), *model->backend, *sample),
                options.kv_disk_budget);
    }
    model->client = std::move(client);
    return model;
}

}  // namespace gossamer::runtime
