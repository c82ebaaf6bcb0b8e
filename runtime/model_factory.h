// Builds the model a session runs on from its reference, the same way for `run`, `resume`,
// `chat` and `fleet`: "replay:FILE" (the scripted test double, replay_model.h), "remote:URLS"
// (remote engines, remote_model.h) or a checkpoint directory loaded into a backend behind an
// EngineClient. Everything that can be wrong with the
// reference (missing folder, bad checkpoint, unknown or unusable backend, a replay file that
// does not parse) is a SetupError raised here, before any session exists. It must not run
// sessions or know about tools.
#pragma once

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/backend.h"
#include "engine/backend_factory.h"
#include "engine/weights.h"
#include "runtime/model_client.h"
#include "runtime/remote_options.h"

namespace gossamer::runtime {

inline constexpr const char* kReplayPrefix = "replay:";
// "remote:URL,URL,...": remote engines (remote_model.h), the rest of their settings in
// ModelOptions::remote.
inline constexpr const char* kRemotePrefix = "remote:";

inline constexpr std::uint64_t kDefaultKvDiskBudget = std::uint64_t{16} << 30;  // 16 GiB

struct ModelOptions {
    std::string backend = "cpu";  // cpu | cuda | auto
    int threads = 0;              // CPU threads; 0 = all cores
    int context_tokens = 0;       // 0: 131072
    int replay_delay_ms = 0;      // replay: pause per token
    int max_sequences = 16;       // sequences batched in one engine step (a fleet: --parallel)
    // Sessions keep their KV cache on disk (engine/kv_file.h) within this many bytes per store
    // (least recently used removed first); 0 keeps nothing.
    std::uint64_t kv_disk_budget = kDefaultKvDiskBudget;
    engine::KvPrecision kv_precision = engine::KvPrecision::Bf16;  // the CPU backend's KV
    // The CPU backend's MXFP4 expert matmuls (engine/expert_activations.h).
    engine::Mxfp4Activations expert_activations = engine::Mxfp4Activations::Fp32;
    // The CPU backend's bf16 dense matmuls (engine/expert_activations.h).
    engine::DenseActivations dense_activations = engine::DenseActivations::Fp32;
    // Speculative decoding: at most this many prompt-lookup draft tokens per step; 0: off.
    int draft_tokens = engine::DraftOptions{}.max_tokens;
    // Where the checkpoint's bytes live: Memory (a copy, faster decode) for the CPU backend;
    // the CUDA backend always maps (load_checkpoint).
    engine::Residency weights = engine::Residency::Memory;
    bool progress = false;  // loading progress on stderr
    RemoteOptions remote;   // remote: api, key, limits (the endpoints come from the reference)
};

// The reference for remote endpoints ("remote:" + the URLs joined by ',').
std::string remote_reference(const std::vector<std::string>& endpoints);

// Owns what a ModelClient needs (weights, backend) for as long as the client lives.
struct LoadedModel {
    std::optional<engine::Weights> weights;
    std::unique_ptr<engine::Backend> backend;
    std::unique_ptr<ModelClient> client;
    ~LoadedModel();  // the client first: it may still use the backend
};

// A checkpoint directory loaded and validated, with progress on stderr when `progress`, its
// bytes where `residency` says, except for the "cuda" backend, which always maps (it uploads
// the weights once: a copy in host memory would only cost time). When the backend is the CPU's
// and its experts take int8 activations, the experts are put in 16-row tiles
// (LoadOptions::tile_experts: where the bytes are in memory). Throws SetupError with the
// loader's message (the file and tensor at fault).
engine::Weights load_checkpoint(
    const std::filesystem::path& dir, bool progress,
    engine::Residency residency = engine::Residency::Mapped, std::string_view backend = "cpu",
    engine::Mxfp4Activations expert_activations = engine::Mxfp4Activations::Fp32);
// The backend `choice` names (engine/backend_factory.h); SetupError for an unknown kind or an
// unusable GPU, with the reason.
std::unique_ptr<engine::Backend> open_backend(const engine::Weights& weights,
                                              const engine::BackendChoice& choice);

// Callbacks of the client run on `io`. Throws SetupError.
std::unique_ptr<LoadedModel> open_model(const std::string& reference, boost::asio::io_context& io,
                                        const ModelOptions& options);

}  // namespace gossamer::runtime
