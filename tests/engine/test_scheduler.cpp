// The scheduler on the golden tiny-moe checkpoint through the real CPU backend: greedy
// generation equals the reference's continuation, and everything the runtime relies on
// (stop tokens, prefix reuse across turns, continuous batching with chunked prefill,
// cancellation, concurrent callers, request errors, the context limit) behaves.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <future>
#include <thread>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/model_error.h"
#include "engine/scheduler.h"
#include "engine/weights.h"
#include "tests/support/golden.h"

using namespace gossamer::engine;
using gossamer::test::golden;
using gossamer::test::read_raw;

namespace {

// fp32 KV: these compare against the reference's greedy continuation token by token.
const cpu::CpuOptions kExact{.kv_precision = KvPrecision::Fp32};

const Weights& tiny() {
    static Weights w = load_weights(golden("tiny-moe/model"));
    return w;
}

std::vector<TokenId> prompt() {
    return read_raw<std::int32_t>(golden("tiny-moe/prompt.i32"));
}

std::vector<TokenId> reference_greedy() {
    return read_raw<std::int32_t>(golden("tiny-moe/greedy.i32"));
}

GenerateRequest greedy(std::vector<TokenId> tokens, int max_tokens) {
    GenerateRequest r;
    r.prompt = std::move(tokens);
    r.max_tokens = max_tokens;
    r.sampling.temperature = 0;
    return r;
}

std::vector<TokenId> tokens_of(const GenerateResult& r) {
    std::vector<TokenId> out;
    for (const auto& s : r.samples) out.push_back(s.token);
    return out;
}

}  // namespace

TEST_CASE("scheduler: greedy generation equals the reference continuation") {
    auto backend = cpu::make_cpu_backend(tiny(), kExact);
    Scheduler scheduler(*backend);
    const auto expected = reference_greedy();
    const auto result = generate_now(scheduler, scheduler.open(),
                                     greedy(prompt(), static_cast<int>(expected.size())));
    CHECK(tokens_of(result) == expected);
    CHECK(result.final_event.done);
    CHECK(result.final_event.reason == FinishReason::Length);
    CHECK(result.final_event.stats.prompt_tokens == 64);
    CHECK(result.final_event.stats.reused_tokens == 0);
    CHECK(result.final_event.stats.generated_tokens == static_cast<int>(expected.size()));
    for (const auto& s : result.samples) CHECK(s.logprob <= 0);
}

TEST_CASE("scheduler: a stop token ends generation and is reported last") {
    auto backend = cpu::make_cpu_backend(tiny(), kExact);
    Scheduler scheduler(*backend);
    const auto expected = reference_greedy();
    auto request = greedy(prompt(), 24);
    request.stop = {expected[5], 9999};
    const auto first = static_cast<std::size_t>(
        std::find(expected.begin(), expected.end(), expected[5]) - expected.begin());
    const auto result = generate_now(scheduler, scheduler.open(), request);
    CHECK(result.final_event.reason == FinishReason::Stop);
    CHECK(tokens_of(result) ==
          std::vector<TokenId>(expected.begin(),
                               expected.begin() + static_cast<std::ptrdiff_t>(first) + 1));
}

TEST_CASE("scheduler: the next turn reuses the cached prefix and continues identically") {
    auto backend = cpu::make_cpu_backend(tiny(), kExact);
    Scheduler scheduler(*backend);
    const auto expected = reference_greedy();
    const SequenceId seq = scheduler.open();
    generate_now(scheduler, seq, greedy(prompt(), 12));
    CHECK(scheduler.cached_tokens(seq) == 64 + 11);  // the last sample is not fed yet

    auto next = prompt();
    next.insert(next.end(), expected.begin(), expected.begin() + 10);
    const auto result = generate_now(scheduler, seq, greedy(next, 14));
    CHECK(result.final_event.stats.reused_tokens == 73);  // all but the last prompt token
    CHECK(tokens_of(result) == std::vector<TokenId>(expected.begin() + 10, expected.end()));

    // A different history is cut back to the common prefix.
    auto other = prompt();
    other.resize(30);
    other.push_back(7);
    const auto third = generate_now(scheduler, seq, greedy(other, 2));
    CHECK(third.final_event.stats.reused_tokens == 30);
}

TEST_CASE("scheduler: batched sequences with chunked prefill match single runs") {
    auto backend = cpu::make_cpu_backend(tiny(), kExact);
    const auto full = prompt();
    const std::vector<std::vector<TokenId>> prompts = {
        full, {full.begin(), full.begin() + 40}, {full.begin() + 5, full.begin() + 25}};

    std::vector<GenerateResult> alone;
    for (const auto& p : prompts) {
        Scheduler single(*backend);
        alone.push_back(generate_now(single, single.open(), greedy(p, 10)));
    }

    SchedulerOptions options;
    options.max_batch_tokens = 16;  // forces prompt chunks that share steps with decodes
    Scheduler batched(*backend, options);
    std::vector<GenerateResult> together(prompts.size());
    std::vector<SequenceId> ids;
    int done = 0;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        ids.push_back(batched.open());
        auto request = greedy(prompts[i], 10);
        request.on_token = [&, i](const TokenEvent& e) {
            if (e.has_token) together[i].samples.push_back(e.sample);
            if (e.done) ++done;
        };
        batched.generate(ids[i], request);
    }
    int steps = 0;
    while (done < 3) batched.step(), ++steps;
    CHECK(steps < 3 * 14);  // the sequences really shared steps
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        CHECK(tokens_of(together[i]) == tokens_of(alone[i]));
        for (std::size_t t = 0; t < together[i].samples.size(); ++t)
            CHECK(std::fabs(together[i].samples[t].logprob - alone[i].samples[t].logprob) < 1e-4);
    }
}

TEST_CASE("scheduler: a seed reproduces a sampled generation") {
    auto backend = cpu::make_cpu_backend(tiny(), kExact);
    Scheduler scheduler(*backend);
    auto request = [&](std::uint64_t seed) {
        GenerateRequest r;
        r.prompt = prompt();
        r.max_tokens = 16;
        r.sampling.seed = seed;
        return r;
    };
    const auto a = tokens_of(generate_now(scheduler, scheduler.open(), request(7)));
    const auto b = tokens_of(generate_now(scheduler, scheduler.open(), request(7)));
    const auto c = tokens_of(generate_now(scheduler, scheduler.open(), request(8)));
    CHECK(a == b);
    CHECK(a != c);
}

TEST_CASE("scheduler: cancel from the callback stops after that token") {
    auto backend = cpu::make_cpu_backend(tiny(), kExact);
    Scheduler scheduler(*backend);
    const SequenceId seq = scheduler.open();
    auto request = greedy(prompt(), 20);
    int seen = 0;
    request.on_token = [&](const TokenEvent& e) {
        if (e.has_token && ++seen == 3) scheduler.cancel(seq);
    };
    const auto result = generate_now(scheduler, seq, request);
    CHECK(result.final_event.reason == FinishReason::Cancelled);
    CHECK_FALSE(result.final_event.has_token);
    CHECK(result.samples.size() == 3);
    CHECK_FALSE(scheduler.busy());
}

TEST_CASE("scheduler: callers on other threads while an engine thread steps") {
    auto backend = cpu::make_cpu_backend(tiny(), kExact);
    Scheduler scheduler(*backend);
    std::atomic<bool> stop{false};
    std::thread engine([&] {
        while (!stop)
            if (!scheduler.step()) scheduler.wait_for_work(std::chrono::milliseconds(5));
    });
    const auto expected = reference_greedy();
    std::vector<std::future<std::vector<TokenId>>> results;
    for (int i = 0; i < 4; ++i)
        results.push_back(std::async(std::launch::async, [&] {
            auto done = std::make_shared<std::promise<std::vector<TokenId>>>();
            auto tokens = std::make_shared<std::vector<TokenId>>();
            auto request = greedy(prompt(), 8);
            request.on_token = [done, tokens](const TokenEvent& e) {
                if (e.has_token) tokens->push_back(e.sample.token);
                if (e.done) done->set_value(*tokens);
            };
            scheduler.generate(scheduler.open(), request);
            return done->get_future().get();
        }));
    // One more that is closed while it runs: it must end as cancelled, not hang.
    const SequenceId doomed = scheduler.open();
    std::promise<FinishReason> doomed_reason;
    auto request = greedy(prompt(), 500);
    request.on_token = [&](const TokenEvent& e) {
        if (e.done) doomed_reason.set_value(e.reason);
    };
    scheduler.generate(doomed, request);
    scheduler.close(doomed);
    for (auto& r : results)
        CHECK(r.get() == std::vector<TokenId>(expected.begin(), expected.begin() + 8));
    CHECK(doomed_reason.get_future().get() == FinishReason::Cancelled);
    stop = true;
    engine.join();
}

TEST_CASE("scheduler: bad requests end with an error event or are refused") {
    auto backend = cpu::make_cpu_backend(tiny(), kExact);
    SchedulerOptions options;
    options.max_context = 70;
    Scheduler scheduler(*backend, options);
    const SequenceId seq = scheduler.open();

    auto error_of = [&](GenerateRequest r) { return generate_now(scheduler, seq, r).final_event; };
    auto e = error_of(greedy({}, 4));
    CHECK(e.reason == FinishReason::Error);
    CHECK(e.error.find("empty") != std::string::npos);
    e = error_of(greedy({1, 2, 512}, 4));
    CHECK(e.reason == FinishReason::Error);
    CHECK(e.error.find("512") != std::string::npos);
    auto long_prompt = prompt();
    long_prompt.insert(long_prompt.end(), long_prompt.begin(), long_prompt.begin() + 10);
    e = error_of(greedy(long_prompt, 4));
    CHECK(e.reason == FinishReason::Error);
    CHECK(e.error.find("74 tokens") != std::string::npos);

    // The context limit ends a generation cleanly: 64 prompt tokens + 6 = 70 positions.
    const auto limited = generate_now(scheduler, seq, greedy(prompt(), 100));
    CHECK(limited.final_event.reason == FinishReason::Context);
    CHECK(limited.samples.size() == 6);

    CHECK_THROWS_AS(scheduler.generate(9999, greedy(prompt(), 1)), ModelError);
    auto bad = greedy(prompt(), 1);
    bad.sampling.top_p = 0;
    CHECK_THROWS_AS(scheduler.generate(seq, bad), ModelError);
    scheduler.generate(seq, greedy(prompt(), 1));
    CHECK_THROWS_AS(scheduler.generate(seq, greedy(prompt(), 1)), ModelError);
    while (scheduler.busy()) scheduler.step();
}
