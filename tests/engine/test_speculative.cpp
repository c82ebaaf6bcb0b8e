// Speculative decoding from prompt-lookup drafts (engine/ngram_draft.h, the scheduler's
// verify step) on the golden tiny-moe checkpoints: the drafts themselves by value, and the
// property that matters: with speculation on, every request produces exactly the tokens of
// plain decoding (greedy and seeded sampling, stop tokens and max_tokens inside a draft, a
// small sliding ring), while drafts are in fact accepted where the context repeats.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/ngram_draft.h"
#include "engine/scheduler.h"
#include "engine/weights.h"
#include "tests/support/tiny_moe.h"

using namespace gossamer::engine;
using gossamer::test::golden;
using gossamer::test::read_raw;

namespace {

const Weights& tiny() {
    return gossamer::test::tiny_moe();
}
std::vector<TokenId> prompt() {
    return gossamer::test::tiny_moe_prompt();
}

struct Run {
    std::vector<Sample> samples;
    TokenEvent final_event;
};

Run generate(bool speculate, std::vector<TokenId> tokens, int max_tokens, float temperature,
             std::vector<TokenId> stop = {}, cpu::CpuOptions cpu = {}) {
    auto backend = cpu::make_cpu_backend(tiny(), cpu);
    SchedulerOptions options;
    if (!speculate) options.speculation.max_tokens = 0;
    Scheduler scheduler(*backend, options);
    GenerateRequest r;
    r.prompt = std::move(tokens);
    r.max_tokens = max_tokens;
    r.sampling.temperature = temperature;
    r.sampling.seed = 42;
    r.stop = std::move(stop);
    const auto result = generate_now(scheduler, scheduler.open(), std::move(r));
    return {result.samples, result.final_event};
}

void same(const Run& spec, const Run& plain) {
    CAPTURE(to_string(spec.final_event.reason));
    CAPTURE(spec.final_event.error);
    REQUIRE(spec.samples.size() == plain.samples.size());
    for (std::size_t i = 0; i < spec.samples.size(); ++i) {
        CAPTURE(i);
        CHECK(spec.samples[i].token == plain.samples[i].token);
        CHECK(std::fabs(spec.samples[i].logprob - plain.samples[i].logprob) < 1e-3);
    }
    CHECK(spec.final_event.reason == plain.final_event.reason);
    CHECK(spec.final_event.stats.generated_tokens == plain.final_event.stats.generated_tokens);
}

std::vector<TokenId> tokens_of(const Run& r) {
    std::vector<TokenId> out;
    for (const auto& s : r.samples) out.push_back(s.token);
    return out;
}

}  // namespace

TEST_CASE("ngram draft: the continuation of the latest earlier match of the longest suffix") {
    const std::vector<std::int32_t> t = {1, 2, 3, 4, 5, 9, 2, 3, 7, 1, 2, 3};
    // [1, 2, 3] (n = 3) last occurred at 0: 4, 5, 9, ...
    CHECK(ngram_draft(t, {.max_tokens = 3}) == std::vector<std::int32_t>{4, 5, 9});
    // Only 2-grams: [2, 3] most recently at 6, followed by 7, 1, 2, 3.
    CHECK(ngram_draft(t, {.max_tokens = 8, .min_ngram = 2, .max_ngram = 2}) ==
          std::vector<std::int32_t>{7, 1, 2, 3});
    CHECK(ngram_draft(std::vector<std::int32_t>{1, 2, 3, 4}, {}).empty());  // no repeat
    CHECK(ngram_draft(std::vector<std::int32_t>{}, {}).empty());
    CHECK(ngram_draft(std::vector<std::int32_t>{5}, {}).empty());
    // A window that does not reach the match finds nothing.
    CHECK(ngram_draft(t, {.max_tokens = 3, .window = 4}).empty());
    // A run of one token drafts more of it.
    CHECK(ngram_draft(std::vector<std::int32_t>{8, 8, 8, 8}, {.max_tokens = 2}) ==
          std::vector<std::int32_t>{8});
}

TEST_CASE("speculative decoding: greedy output is plain decoding's, and drafts are accepted") {
    const auto p = prompt();
    const auto plain = generate(false, p, 48, 0);
    // The context repeats: the prompt, its continuation, then the prompt again.
    auto repeating = p;
    const auto g = tokens_of(plain);
    repeating.insert(repeating.end(), g.begin(), g.end());
    repeating.insert(repeating.end(), p.begin(), p.end());
    int accepted = 0, drafted = 0;
    for (const auto& input : {p, repeating}) {
        const auto a = generate(true, input, 48, 0);
        const auto b = generate(false, input, 48, 0);
        same(a, b);
        accepted += a.final_event.stats.accepted_tokens;
        drafted += a.final_event.stats.drafted_tokens;
        MESSAGE("greedy: " << a.final_event.stats.verify_steps << " verify steps, "
                           << a.final_event.stats.drafted_tokens << " drafted, "
                           << a.final_event.stats.accepted_tokens << " accepted of "
                           << a.samples.size());
        CHECK(b.final_event.stats.drafted_tokens == 0);
    }
    CHECK(drafted > 0);
    CHECK(accepted > 0);
}

TEST_CASE("speculative decoding: seeded sampling draws exactly what plain decoding draws") {
    auto input = prompt();
    const auto first = generate(false, input, 32, 0);
    const auto g = tokens_of(first);
    input.insert(input.end(), g.begin(), g.end());
    const auto again = prompt();
    input.insert(input.end(), again.begin(), again.end());
    for (float temperature : {0.3f, 1.0f}) {
        CAPTURE(temperature);
        const auto a = generate(true, input, 40, temperature);
        const auto b = generate(false, input, 40, temperature);
        same(a, b);
        MESSAGE("t=" << temperature << ": " << a.final_event.stats.accepted_tokens << " of "
                     << a.final_event.stats.drafted_tokens << " drafted accepted");
    }
}

TEST_CASE("speculative decoding: stops and limits inside a draft end where plain decoding does") {
    auto input = prompt();
    const auto g = tokens_of(generate(false, input, 40, 0));
    input.insert(input.end(), g.begin(), g.end());
    const auto again = prompt();
    input.insert(input.end(), again.begin(), again.end());
    const auto plain = tokens_of(generate(false, input, 40, 0));
    for (int max_tokens : {1, 2, 5, 13}) {
        CAPTURE(max_tokens);
        same(generate(true, input, max_tokens, 0), generate(false, input, max_tokens, 0));
    }
    for (std::size_t at : {std::size_t{1}, std::size_t{6}, std::size_t{20}}) {
        CAPTURE(at);
        const std::vector<TokenId> stop = {plain[at]};
        same(generate(true, input, 40, 0, stop), generate(false, input, 40, 0, stop));
    }
    // A tiny ring slack: cutting rejected drafts back may need a recompute; still exact.
    const cpu::CpuOptions small{.sliding_slack = 2};
    same(generate(true, input, 40, 0, {}, small), generate(false, input, 40, 0, {}, small));
}
