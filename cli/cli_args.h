// Option parsing shared by the CLI subcommands: "--name VALUE" / "--name=VALUE" options,
// switches and positionals, numbers checked against their ranges, and the engine inputs
// several commands take (a checkpoint directory, a raw int32 token-id file). Everything
// wrong becomes an InputError (exit 2) naming the option or file. No command logic here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/cli_io.h"
#include "cli/commands.h"
#include "engine/backend.h"
#include "engine/backend_factory.h"
#include "engine/expert_activations.h"
#include "engine/weights.h"

namespace gossamer::cli {

struct Parsed {
    std::vector<std::pair<std::string, std::string>> options;
    std::vector<std::string> switches;
    std::vector<std::string> positionals;

    std::optional<std::string> get(std::string_view name) const;
    std::vector<std::string> all(std::string_view name) const;  // a repeatable option's values
    std::string need(std::string_view name) const;              // throws InputError when missing
    bool has(std::string_view name) const;                      // a switch was given
};

// Unknown options, repeated options (but --endpoint and --header, which may be given several
// times), missing values and surplus positionals are refused.
Parsed parse_args(Args args, const std::vector<std::string_view>& with_value,
                  const std::vector<std::string_view>& switches, std::size_t max_positionals);

// A decimal integer in [lo, hi], all of `text`.
std::uint64_t parse_uint(const std::string& text, std::string_view option, std::uint64_t lo,
                         std::uint64_t hi);
// A size in bytes: an integer with an optional K, M, G or T (powers of 1024; "16G"), at most
// 2^60.
std::uint64_t parse_bytes(const std::string& text, std::string_view option);
// The options of every command that runs a local checkpoint, saying how the engine runs it:
// --backend, --threads, --kv-precision, --expert-activations, --dense-activations, --weights.
// `names` (a command's own options) followed by those.
std::vector<std::string_view> with_engine_options(std::initializer_list<std::string_view> names);
// Those options read and checked (InputError for a bad value) before anything is loaded:
// --backend (default cpu), --threads N in [1, 4096] (default all cores), and the precisions.
engine::BackendChoice backend_choice_from(const Parsed& p);

// --kv-precision bf16|fp32 (default bf16); InputError for another value.
engine::KvPrecision kv_precision_from(const Parsed& p);
// --expert-activations int8|fp32: the CPU backend's MXFP4 expert matmuls.
inline constexpr engine::Mxfp4Activations kDefaultExpertActivations =
    engine::Mxfp4Activations::Int8;
engine::Mxfp4Activations expert_activations_from(const Parsed& p);
// --dense-activations bf16|fp32: the CPU backend's bf16 dense matmuls.
inline constexpr engine::DenseActivations kDefaultDenseActivations = engine::DenseActivations::Bf16;
engine::DenseActivations dense_activations_from(const Parsed& p);

// --weights memory|mmap (default memory); InputError for another value.
engine::Residency weights_residency_from(const Parsed& p);
// A finite decimal number in [lo, hi], all of `text`.
double parse_number(const std::string& text, std::string_view option, double lo, double hi);

// A checkpoint the user named (runtime::load_checkpoint, progress on stderr when it is a
// terminal); a bad one is bad input (runtime::SetupError, exit 2).
engine::Weights load_checkpoint(
    const std::filesystem::path& dir, engine::Residency residency = engine::Residency::Mapped,
    std::string_view backend = "cpu",
    engine::Mxfp4Activations expert_activations = engine::Mxfp4Activations::Fp32);

// The gpt-oss-nano checkpoint unpacked next to this binary by the build (models/CMakeLists.txt):
// <directory of /proc/self/exe>/models/gpt-oss-nano. Empty when it is not there.
std::filesystem::path bundled_model();

// Raw little-endian int32 ids; refuses an empty file or one that is not whole ids.
std::vector<engine::TokenId> read_token_ids(const std::filesystem::path& path);

}  // namespace gossamer::cli
