// Writes a gpt-oss checkpoint of random weights for a config: config.json and safetensors
// shards in the official original/ layout or the Hugging Face layout, for tests, benchmarks
// and `gossamer model init`. Values are a pure function of (seed, tensor, element), so runs
// are reproducible and both layouts hold the same numbers. It streams tensor by tensor and
// must never hold a whole model in memory (the 20b preset is ~13 GB).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/model_config.h"
#include "engine/weights.h"

namespace gossamer::engine {

struct CheckpointWriteOptions {
    std::uint64_t seed = 0;
    CheckpointLayout layout = CheckpointLayout::Original;
    // Largest data section of one .safetensors file; bigger models are split into shards
    // (model-00001-of-0000N.safetensors). One file, model.safetensors, when it all fits.
    std::uint64_t shard_bytes = std::uint64_t{4} << 30;
    // Called after each chunk written (done <= total, in bytes of tensor data); may throw to
    // cancel (the partial files are removed and the exception propagates).
    std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

// One tensor as it will be stored.
struct PlannedTensor {
    std::string name;
    std::string dtype;  // "BF16" or "U8"
    std::vector<std::int64_t> shape;
    std::uint64_t bytes = 0;
};

// The tensors of `config` in `layout`, in file order, with their sizes.
std::vector<PlannedTensor> plan_checkpoint(const ModelConfig& config, CheckpointLayout layout);
// Bytes on disk that write_random_checkpoint will use (data, headers and JSON files).
std::uint64_t checkpoint_disk_bytes(const ModelConfig& config,
                                    const CheckpointWriteOptions& options);

// The staging folder inside the target directory; left behind only if the process is killed.
inline constexpr const char* kCheckpointStagingDir = ".gossamer-partial";

// Writes the checkpoint into `directory`, which must be absent or empty (created if absent).
// Files are written under a hidden staging folder inside it and renamed into place at the
// end, config.json last, so `directory` never holds a loadable half checkpoint; on any
// failure (or an exception from `progress`) the staging folder is removed, and `directory`
// too when this call created it. Throws ModelError naming the path on I/O errors.
void write_random_checkpoint(const ModelConfig& config, const std::filesystem::path& directory,
                             const CheckpointWriteOptions& options = {});

}  // namespace gossamer::engine
