// `gossamer model init`, `gossamer model info` and `gossamer model forward`: make a random
// checkpoint, describe and validate one, and run the CPU forward pass on raw token ids.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "cli/cli_io.h"
#include "cli/commands.h"
#include "engine/backend_factory.h"
#include "engine/checkpoint_writer.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/model_error.h"
#include "engine/safetensors.h"
#include "engine/weights.h"
#include "runtime/model_factory.h"

namespace gossamer::cli {
namespace fs = std::filesystem;
namespace eng = gossamer::engine;

namespace {

std::string human_bytes(std::uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(units)) value /= 1024.0, ++unit;
    char text[32];
    if (unit == 0)
        std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
    else
        std::snprintf(text, sizeof text, "%.2f %s", value, units[unit]);
    return text;
}

// ---- model init -------------------------------------------------------------------------

volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_signal(int sig) {
    g_signal = sig;
}

struct Interrupted {};

// Installs SIGINT/SIGTERM/SIGHUP handlers that only set g_signal; restores the old ones.
class SignalGuard {
  public:
    SignalGuard() {
        struct sigaction action {};
        action.sa_handler = on_signal;
        sigemptyset(&action.sa_mask);
        for (std::size_t i = 0; i < 3; ++i) sigaction(kSignals[i], &action, &old_[i]);
    }
    ~SignalGuard() {
        for (std::size_t i = 0; i < 3; ++i) sigaction(kSignals[i], &old_[i], nullptr);
    }
    SignalGuard(const SignalGuard&) = delete;
    SignalGuard& operator=(const SignalGuard&) = delete;

  private:
    static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction old_[3]{};
};

// The nearest existing directory at or above `path` (where free space is measured).
fs::path existing_ancestor(fs::path path) {
    path = fs::absolute(path);
    std::error_code ec;
    while (!fs::exists(path, ec) && path.has_parent_path() && path.parent_path() != path)
        path = path.parent_path();
    return path;
}

}  // namespace

// gossamer model init --preset 20b|120b|tiny|nano --out DIR [--seed N] [--layers N]
//                     [--layout original|hf]
int cmd_model_init(Args args) {
    const Parsed p =
        parse_args(args, {"--preset", "--out", "--seed", "--layers", "--layout"}, {}, 0);
    const std::string preset = p.need("--preset");
    const fs::path out = p.need("--out");
    if (out.empty()) throw InputError("--out must name a directory");
    eng::ModelConfig config;
    try {
        config = eng::config_preset(preset);
    } catch (const eng::ModelError& e) {
        throw InputError(std::string("--preset: ") + e.what());
    }
    if (auto layers = p.get("--layers"))
        config.num_hidden_layers = static_cast<int>(parse_uint(*layers, "--layers", 1, 1000));
    eng::CheckpointWriteOptions options;
    if (auto seed = p.get("--seed")) options.seed = parse_uint(*seed, "--seed", 0, UINT64_MAX);
    const std::string layout = p.get("--layout").value_or("original");
    if (layout == "hf")
        options.layout = eng::CheckpointLayout::HuggingFace;
    else if (layout != "original")
        throw InputError("--layout must be 'original' or 'hf', got '" + layout + "'");

    std::error_code ec;
    if (fs::exists(out, ec)) {
        if (!fs::is_directory(out, ec))
            throw InputError(out.string() + " exists and is not a directory");
        if (fs::exists(out / eng::kCheckpointStagingDir, ec))
            throw InputError(out.string() + " holds " + eng::kCheckpointStagingDir +
                             ", left by an init that was killed; remove the directory and run "
                             "again");
        if (!fs::is_empty(out, ec))
            throw InputError(out.string() +
                             " is not empty; model init only writes into a new or empty directory");
    }
    const std::uint64_t needed = eng::checkpoint_disk_bytes(config, options);
    const fs::path where = existing_ancestor(out);
    const auto space = fs::space(where, ec);
    constexpr std::uint64_t kMargin = std::uint64_t{64} << 20;
    if (!ec && space.available < needed + kMargin)
        throw InputError("not enough free disk space on " + where.string() +
                         ": the checkpoint needs " + human_bytes(needed) + ", " +
                         human_bytes(space.available) + " available");

    const bool show = ::isatty(STDERR_FILENO) == 1;
    int last_percent = -1;
    options.progress = [&](std::uint64_t done, std::uint64_t total) {
        if (g_signal) throw Interrupted{};
        if (!show) return;
        const int percent = total ? static_cast<int>(done * 100 / total) : 100;
        if (percent == last_percent) return;
        last_percent = percent;
        std::fprintf(stderr, "\rwriting %s: %s of %s (%d%%)", out.c_str(),
                     human_bytes(done).c_str(), human_bytes(total).c_str(), percent);
        std::fflush(stderr);
    };

    g_signal = 0;
    SignalGuard guard;
    try {
        eng::write_random_checkpoint(config, out, options);
    } catch (const Interrupted&) {
        if (show) std::fprintf(stderr, "\n");
        std::fprintf(stderr, "gossamer model init: interrupted; removed the partial checkpoint\n");
        return 128 + static_cast<int>(g_signal);
    } catch (const eng::ModelError& e) {
        if (show) std::fprintf(stderr, "\n");
        throw InputError(e.what());
    }
    if (show) std::fprintf(stderr, "\n");
    std::printf("wrote %s: preset %s, %d layers, seed %llu, %s layout, %s\n", out.c_str(),
                preset.c_str(), config.num_hidden_layers,
                static_cast<unsigned long long>(options.seed), layout.c_str(),
                human_bytes(needed).c_str());
    return 0;
}

namespace {

// ---- model info -------------------------------------------------------------------------

struct TensorStats {
    std::size_t count = 0;
    std::uint64_t bf16 = 0, mxfp4_blocks = 0, mxfp4_scales = 0, fp32 = 0, other = 0;
    std::uint64_t parameters = 0;        // MXFP4 values count once each; scales are not counted
    std::uint64_t embedding_params = 0;  // the input embedding table
    std::uint64_t expert_params = 0;     // mlp1/mlp2 weights and biases, all experts
    nlohmann::json files = nlohmann::json::array();
};

bool ends_with(const std::string& s, std::string_view tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

TensorStats tensor_stats(const fs::path& dir) {
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".safetensors") paths.push_back(entry.path());
    std::sort(paths.begin(), paths.end());
    TensorStats s;
    for (const auto& path : paths) {
        const eng::SafetensorsFile file(path);
        s.files.push_back({{"name", path.filename().string()}, {"bytes", file.size()}});
        for (const auto& [name, view] : file.tensors()) {
            ++s.count;
            std::uint64_t params = static_cast<std::uint64_t>(view.elements());
            const bool u8 = view.dtype == eng::DType::U8;
            if (u8 && ends_with(name, "blocks")) {
                s.mxfp4_blocks += view.bytes;
                params *= 2;
            } else if (u8 && ends_with(name, "scales")) {
                s.mxfp4_scales += view.bytes;
                params = 0;
            } else if (view.dtype == eng::DType::BF16) {
                s.bf16 += view.bytes;
            } else if (view.dtype == eng::DType::F32) {
                s.fp32 += view.bytes;
            } else {
                s.other += view.bytes;
            }
            s.parameters += params;
            if (name == "embedding.weight" || name == "model.embed_tokens.weight")
                s.embedding_params += params;
            if (name.find("mlp.mlp1") != std::string::npos ||
                name.find("mlp.mlp2") != std::string::npos ||
                name.find("mlp.experts.") != std::string::npos)
                s.expert_params += params;
        }
    }
    return s;
}

nlohmann::json kv_at(const eng::ModelConfig& c, std::uint64_t tokens, std::uint64_t ring) {
    const std::uint64_t per_token_layer = 2ull * static_cast<std::uint64_t>(c.kv_width()) * 4;
    std::uint64_t full_layers = 0, sliding_layers = 0;
    for (int n = 0; n < c.num_hidden_layers; ++n)
        (eng::ModelConfig::is_sliding(n) ? sliding_layers : full_layers) += 1;
    const std::uint64_t full = full_layers * tokens * per_token_layer;
    const std::uint64_t sliding = sliding_layers * std::min(tokens, ring) * per_token_layer;
    return {{"tokens", tokens},
            {"full_layers_bytes", full},
            {"sliding_layers_bytes", sliding},
            {"total_bytes", full + sliding}};
}

}  // namespace

// gossamer model info DIR [--json]
int cmd_model_info(Args args) {
    const Parsed p = parse_args(args, {}, {"--json"}, 1);
    if (p.positionals.empty())
        throw InputError("missing the checkpoint directory (model info DIR)");
    const auto start = std::chrono::steady_clock::now();
    const eng::Weights w = load_checkpoint(p.positionals[0]);
    const double load_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const eng::ModelConfig& c = w.config;
    const TensorStats s = tensor_stats(w.directory);

    const std::uint64_t active = s.parameters - s.embedding_params - s.expert_params +
                                 s.expert_params * static_cast<std::uint64_t>(c.experts_per_token) /
                                     static_cast<std::uint64_t>(c.num_experts);
    const eng::cpu::CpuOptions cpu_defaults;
    const std::uint64_t ring = static_cast<std::uint64_t>(c.sliding_window) +
                               static_cast<std::uint64_t>(cpu_defaults.sliding_slack);
    int full_layers = 0;
    for (int n = 0; n < c.num_hidden_layers; ++n) full_layers += !eng::ModelConfig::is_sliding(n);
    nlohmann::json kv = {
        {"dtype", "f32"},
        {"bytes_per_token_per_layer", 2 * c.kv_width() * 4},
        {"full_layers", full_layers},
        {"sliding_layers", c.num_hidden_layers - full_layers},
        {"sliding_positions_kept", ring},
        {"per_1k_tokens", kv_at(c, 1024, ring)},
        {"at_max_context", kv_at(c, static_cast<std::uint64_t>(c.max_context()), ring)}};

    nlohmann::json out = {
        {"directory", w.directory.string()},
        {"layout", w.layout == eng::CheckpointLayout::HuggingFace ? "hf" : "original"},
        {"config", eng::config_to_json(c)},
        {"files", s.files},
        {"tensor_count", s.count},
        {"bytes_by_dtype",
         {{"bf16", s.bf16},
          {"mxfp4_blocks", s.mxfp4_blocks},
          {"mxfp4_scales", s.mxfp4_scales},
          {"fp32", s.fp32},
          {"other", s.other}}},
        {"parameters", {{"total", s.parameters}, {"active_per_token", active}}},
        {"memory", {{"weights_bytes", w.mapped_bytes}, {"kv_cache", kv}}},
        {"load_seconds", load_seconds}};
    if (p.has("--json")) {
        write_stdout(out.dump(2) + "\n");
        return 0;
    }
    auto line = [](const std::string& text) { std::printf("%s\n", text.c_str()); };
    line("checkpoint:   " + w.directory.string() + " (" + out["layout"].get<std::string>() +
         " layout, " + std::to_string(s.files.size()) + " file(s), " + human_bytes(w.mapped_bytes) +
         ", loaded and validated in " + std::to_string(load_seconds).substr(0, 5) + " s)");
    line("config:       " + eng::config_to_json(c).dump());
    line("tensors:      " + std::to_string(s.count));
    line("bytes:        bf16 " + human_bytes(s.bf16) + ", MXFP4 blocks " +
         human_bytes(s.mxfp4_blocks) + ", MXFP4 scales " + human_bytes(s.mxfp4_scales) + ", fp32 " +
         human_bytes(s.fp32) + ", other " + human_bytes(s.other));
    auto count = [](std::uint64_t n) {
        char text[32];
        if (n >= 1'000'000'000)
            std::snprintf(text, sizeof text, "%.3fB", static_cast<double>(n) / 1e9);
        else
            std::snprintf(text, sizeof text, "%.3fM", static_cast<double>(n) / 1e6);
        return std::string(text);
    };
    line("parameters:   " + count(s.parameters) + " total, " + count(active) +
         " active per token (excl. embedding)");
    line("memory:       weights " + human_bytes(w.mapped_bytes) + " (memory-mapped)");
    line("kv cache:     f32, " + std::to_string(2 * c.kv_width() * 4) +
         " bytes per token per layer; " + std::to_string(full_layers) + " full layers, " +
         std::to_string(c.num_hidden_layers - full_layers) + " sliding layers keeping " +
         std::to_string(ring) + " positions");
    for (const char* key : {"per_1k_tokens", "at_max_context"}) {
        const auto& k = kv[key];
        line("  " + std::to_string(k["tokens"].get<std::uint64_t>()) + " tokens: full " +
             human_bytes(k["full_layers_bytes"].get<std::uint64_t>()) + " + sliding " +
             human_bytes(k["sliding_layers_bytes"].get<std::uint64_t>()) + " = " +
             human_bytes(k["total_bytes"].get<std::uint64_t>()));
    }
    return 0;
}

// gossamer model forward --model DIR --prompt-ids FILE --out FILE [--threads N]
//   [--backend cpu|cuda|auto]
int cmd_model_forward(Args args) {
    static_assert(std::endian::native == std::endian::little, "logits files are little-endian");
    const Parsed p =
        parse_args(args, with_engine_options({"--model", "--prompt-ids", "--out"}), {}, 0);
    const fs::path model = p.need("--model");
    const fs::path prompt_path = p.need("--prompt-ids");
    const fs::path out_path = p.need("--out");
    const eng::BackendChoice choice = backend_choice_from(p);

    const std::vector<eng::TokenId> ids = read_token_ids(prompt_path);

    const eng::Weights w =
        load_checkpoint(model, weights_residency_from(p), choice.kind, choice.expert_activations);
    const int vocab = w.config.vocab_size;
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= vocab)
            throw InputError(prompt_path.string() + ": id " + std::to_string(i) + " (" +
                             std::to_string(ids[i]) + ") is not in [0, " + std::to_string(vocab) +
                             ") for this model");
    const int max_tokens = w.config.max_context();
    if (ids.size() > static_cast<std::size_t>(max_tokens))
        throw InputError(prompt_path.string() + ": " + std::to_string(ids.size()) +
                         " ids exceed the model's context of " + std::to_string(max_tokens));

    auto backend = runtime::open_backend(w, choice);
    auto cache = backend->new_cache(static_cast<int>(ids.size()));
    std::vector<float> logits;
    eng::ForwardItem item{cache.get(), ids, eng::LogitsWanted::All};
    backend->forward({&item, 1}, logits);

    // Written beside the target and renamed, so --out is either complete or untouched.
    const fs::path tmp = out_path.string() + ".partial";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            throw InputError(out_path.string() + ": cannot write (" + std::strerror(errno) + ")");
        out.write(reinterpret_cast<const char*>(logits.data()),
                  static_cast<std::streamsize>(logits.size() * sizeof(float)));
        out.close();
        if (!out) {
            std::error_code ec;
            fs::remove(tmp, ec);
            throw std::runtime_error(out_path.string() + ": write failed");
        }
    }
    std::error_code ec;
    fs::rename(tmp, out_path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw InputError(out_path.string() + ": cannot write: " + ec.message());
    }
    return 0;
}

}  // namespace gossamer::cli
