#include "cli/cli_args.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "runtime/model_factory.h"

namespace gossamer::cli {

std::optional<std::string> Parsed::get(std::string_view name) const {
    for (const auto& [n, v] : options)
        if (n == name) return v;
    return std::nullopt;
}

std::vector<std::string> Parsed::all(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [n, v] : options)
        if (n == name) out.push_back(v);
    return out;
}

std::string Parsed::need(std::string_view name) const {
    auto v = get(name);
    if (!v) throw InputError("missing required option " + std::string(name));
    return *v;
}

bool Parsed::has(std::string_view name) const {
    return std::find(switches.begin(), switches.end(), name) != switches.end();
}

Parsed parse_args(Args args, const std::vector<std::string_view>& with_value,
                  const std::vector<std::string_view>& switches, std::size_t max_positionals) {
    Parsed p;
    auto takes_value = [&](std::string_view name) {
        return std::find(with_value.begin(), with_value.end(), name) != with_value.end();
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (arg.size() > 2 && arg.substr(0, 2) == "--") {
            const auto eq = arg.find('=');
            const std::string_view name = arg.substr(0, eq);
            if (takes_value(name)) {
                std::string value;
                if (eq != std::string_view::npos) {
                    value = std::string(arg.substr(eq + 1));
                } else {
                    if (i + 1 >= args.size())
                        throw InputError("option " + std::string(name) + " needs a value");
                    value = std::string(args[++i]);
                }
                if (p.get(name) && name != "--endpoint" && name != "--header")
                    throw InputError("option " + std::string(name) + " given twice");
                p.options.emplace_back(std::string(name), std::move(value));
                continue;
            }
            if (eq == std::string_view::npos &&
                std::find(switches.begin(), switches.end(), arg) != switches.end()) {
                p.switches.emplace_back(arg);
                continue;
            }
            throw InputError("unknown argument '" + std::string(arg) + "'");
        }
        if (p.positionals.size() >= max_positionals)
            throw InputError("unexpected argument '" + std::string(arg) + "'");
        p.positionals.emplace_back(arg);
    }
    return p;
}

std::uint64_t parse_uint(const std::string& text, std::string_view option, std::uint64_t lo,
                         std::uint64_t hi) {
    std::uint64_t value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value < lo || value > hi)
        throw InputError(std::string(option) + " must be an integer in [" + std::to_string(lo) +
                         ", " + std::to_string(hi) + "], got '" + text + "'");
    return value;
}

std::uint64_t parse_bytes(const std::string& text, std::string_view option) {
    std::string digits = text;
    int shift = 0;
    if (!digits.empty()) {
        const char unit =
            static_cast<char>(std::toupper(static_cast<unsigned char>(digits.back())));
        const std::string units = "KMGT";
        if (const auto at = units.find(unit); at != std::string::npos) {
            shift = 10 * static_cast<int>(at + 1);
            digits.pop_back();
        }
    }
    std::uint64_t value = 0;
    const auto* end = digits.data() + digits.size();
    auto [ptr, ec] = std::from_chars(digits.data(), end, value);
    if (digits.empty() || ec != std::errc() || ptr != end ||
        value > (std::uint64_t{1} << 60 >> shift))
        throw InputError(
            std::string(option) +
            " must be a size in bytes, optionally with K, M, G or T (e.g. 16G), got '" + text +
            "'");
    return value << shift;
}

engine::KvPrecision kv_precision_from(const Parsed& p) {
    const auto k = p.get("--kv-precision");
    if (!k) return engine::KvPrecision::Bf16;
    if (*k != "bf16" && *k != "fp32")
        throw InputError("--kv-precision '" + *k + "': must be bf16 or fp32");
    return *k == "fp32" ? engine::KvPrecision::Fp32 : engine::KvPrecision::Bf16;
}

std::vector<std::string_view> with_engine_options(std::initializer_list<std::string_view> names) {
    std::vector<std::string_view> all(names);
    for (std::string_view engine : {"--backend", "--threads", "--kv-precision",
                                    "--expert-activations", "--dense-activations", "--weights"})
        all.push_back(engine);
    return all;
}

engine::BackendChoice backend_choice_from(const Parsed& p) {
    engine::BackendChoice choice;
    choice.kind = p.get("--backend").value_or("cpu");
    if (auto threads = p.get("--threads"))
        choice.threads = static_cast<int>(parse_uint(*threads, "--threads", 1, 4096));
    choice.kv_precision = kv_precision_from(p);
    choice.expert_activations = expert_activations_from(p);
    choice.dense_activations = dense_activations_from(p);
    return choice;
}

engine::Mxfp4Activations expert_activations_from(const Parsed& p) {
    const auto a = p.get("--expert-activations");
    if (!a) return kDefaultExpertActivations;
    if (*a != "int8" && *a != "fp32")
        throw InputError("--expert-activations '" + *a + "': must be int8 or fp32");
    return *a == "int8" ? engine::Mxfp4Activations::Int8 : engine::Mxfp4Activations::Fp32;
}

engine::DenseActivations dense_activations_from(const Parsed& p) {
    const auto a = p.get("--dense-activations");
    if (!a) return kDefaultDenseActivations;
    if (*a != "bf16" && *a != "fp32")
        throw InputError("--dense-activations '" + *a + "': must be bf16 or fp32");
    return *a == "bf16" ? engine::DenseActivations::Bf16 : engine::DenseActivations::Fp32;
}

engine::Residency weights_residency_from(const Parsed& p) {
    const auto w = p.get("--weights");
    if (!w || *w == "memory") return engine::Residency::Memory;
    if (*w != "mmap") throw InputError("--weights '" + *w + "': must be memory or mmap");
    return engine::Residency::Mapped;
}

double parse_number(const std::string& text, std::string_view option, double lo, double hi) {
    double value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value) || value < lo ||
        value > hi) {
        char range[64];
        std::snprintf(range, sizeof range, "[%g, %g]", lo, hi);
        throw InputError(std::string(option) + " must be a number in " + range + ", got '" + text +
                         "'");
    }
    return value;
}

engine::Weights load_checkpoint(const std::filesystem::path& dir, engine::Residency residency,
                                std::string_view backend,
                                engine::Mxfp4Activations expert_activations) {
    return runtime::load_checkpoint(dir, ::isatty(STDERR_FILENO) == 1, residency, backend,
                                    expert_activations);
}

std::filesystem::path bundled_model() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    auto dir = exe.parent_path() / "models" / "gpt-oss-nano";
    return std::filesystem::exists(dir / "config.json", ec) ? dir : std::filesystem::path();
}

std::vector<engine::TokenId> read_token_ids(const std::filesystem::path& path) {
    static_assert(std::endian::native == std::endian::little, "id files are little-endian");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path.string() + ": cannot read (" + std::strerror(errno) + ")");
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.empty())
        throw InputError(path.string() + ": empty (need at least one int32 token id)");
    if (bytes.size() % 4 != 0)
        throw InputError(path.string() + ": " + std::to_string(bytes.size()) +
                         " bytes is not a whole number of little-endian int32 ids");
    std::vector<engine::TokenId> ids(bytes.size() / 4);
    std::memcpy(ids.data(), bytes.data(), bytes.size());
    return ids;
}

}  // namespace gossamer::cli
