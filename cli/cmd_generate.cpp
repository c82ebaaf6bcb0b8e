// `gossamer generate`: a prompt through the engine (CPU backend, the scheduler, the sampler),
// streaming the decoded text or printing one JSON object with the tokens and speeds.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "engine/backend_factory.h"
#include "engine/scheduler.h"
#include "harmony/special_tokens.h"
#include "harmony/tokenizer.h"
#include "harmony/utf8.h"
#include "runtime/model_factory.h"

namespace gossamer::cli {
namespace eng = gossamer::engine;

namespace {

eng::SamplingParams sampling_from(const Parsed& p) {
    eng::SamplingParams s;
    if (auto v = p.get("--temperature"))
        s.temperature = static_cast<float>(parse_number(*v, "--temperature", 0, 100));
    if (auto v = p.get("--top-p")) {
        s.top_p = static_cast<float>(parse_number(*v, "--top-p", 0, 1));
        if (s.top_p <= 0) throw InputError("--top-p must be > 0");
    }
    if (auto v = p.get("--top-k"))
        s.top_k = static_cast<int>(parse_uint(*v, "--top-k", 0, 1 << 20));
    if (auto v = p.get("--seed")) s.seed = parse_uint(*v, "--seed", 0, UINT64_MAX);
    return s;
}

// The prompt as ids: raw ids from a file, or text whose special-token strings ("<|start|>")
// become special tokens, so a rendered harmony conversation can be passed as text.
std::vector<eng::TokenId> prompt_from(const Parsed& p, int vocab) {
    const auto text = p.get("--prompt");
    const auto file = p.get("--prompt-ids");
    if (text.has_value() == file.has_value())
        throw InputError("give exactly one of --prompt TEXT and --prompt-ids FILE");
    std::vector<eng::TokenId> ids;
    if (file) {
        ids = read_token_ids(*file);
    } else {
        require_utf8(*text, "--prompt");
        const auto encoded = harmony::Tokenizer::o200k_harmony().encode(
            *text, harmony::AllowedSpecial::all_tokens());
        ids.assign(encoded.begin(), encoded.end());
        if (ids.empty()) throw InputError("--prompt is empty");
    }
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= vocab)
            throw InputError("prompt token " + std::to_string(i) + " is id " +
                             std::to_string(ids[i]) + ", outside this model's vocabulary of " +
                             std::to_string(vocab) + " ids");
    return ids;
}

double per_second(double count, double seconds) {
    return seconds > 0 ? count / seconds : 0.0;
}

}  // namespace

// gossamer generate --model DIR (--prompt TEXT | --prompt-ids FILE) --max-tokens N
//   [--temperature T] [--top-p P] [--top-k K] [--seed S] [--threads N]
//   [--backend cpu|cuda|auto] [--json]
int cmd_generate(Args args) {
    const Parsed p =
        parse_args(args,
                   with_engine_options({"--model", "--prompt", "--prompt-ids", "--max-tokens",
                                        "--temperature", "--top-p", "--top-k", "--seed"}),
                   {"--json"}, 0);
    const std::string model = p.need("--model");
    const int max_tokens =
        static_cast<int>(parse_uint(p.need("--max-tokens"), "--max-tokens", 1, 131072));
    const eng::SamplingParams sampling = sampling_from(p);
    const eng::BackendChoice choice = backend_choice_from(p);
    const bool json = p.has("--json");

    const eng::Weights weights =
        load_checkpoint(model, weights_residency_from(p), choice.kind, choice.expert_activations);
    const auto prompt = prompt_from(p, weights.config.vocab_size);
    auto backend = runtime::open_backend(weights, choice);
    eng::Scheduler scheduler(*backend);

    const auto& tokenizer = harmony::Tokenizer::o200k_harmony();
    harmony::utf8::StreamDecoder text;
    eng::GenerateRequest request;
    request.prompt = prompt;
    request.max_tokens = max_tokens;
    request.sampling = sampling;
    request.stop = {harmony::tok::kReturn, harmony::tok::kCall, harmony::tok::kEndOfText};
    if (!json)
        request.on_token = [&](const eng::TokenEvent& e) {
            if (!e.has_token || !tokenizer.valid(e.sample.token)) return;
            std::string piece = text.push(tokenizer.token_bytes(e.sample.token));
            if (e.done) piece += text.flush();
            std::fwrite(piece.data(), 1, piece.size(), stdout);
            std::fflush(stdout);
        };
    const auto result = eng::generate_now(scheduler, scheduler.open(), std::move(request));
    const auto& last = result.final_event;
    if (last.reason == eng::FinishReason::Error) throw InputError(last.error);

    if (!json) {
        std::fputc('\n', stdout);
        return 0;
    }
    nlohmann::ordered_json out;
    std::vector<eng::TokenId> tokens;
    for (const auto& s : result.samples) tokens.push_back(s.token);
    out["tokens"] = tokens;
    std::string decoded;
    for (auto t : tokens)
        if (tokenizer.valid(t)) decoded += tokenizer.token_bytes(t);
    out["text"] = harmony::utf8::to_valid_lossy(decoded);
    out["finish_reason"] = eng::to_string(last.reason);
    out["prompt_tokens"] = last.stats.prompt_tokens;
    out["prefill_tok_s"] = per_second(last.stats.prompt_tokens, last.stats.prefill_seconds);
    // The first token comes out of the prefill step; the rest are decode steps.
    out["decode_tok_s"] = per_second(last.stats.generated_tokens - 1, last.stats.decode_seconds);
    out["backend"] = backend->name();
    write_stdout(out.dump() + "\n");
    return 0;
}

}  // namespace gossamer::cli
