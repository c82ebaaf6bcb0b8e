// The sampler against the distributions it must draw from: greedy, temperature, top-k, top-p
// (including the fallback past the first 1024 candidates), seeds, logprobs, bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "engine/model_error.h"
#include "engine/sampler.h"

using namespace gossamer::engine;

namespace {

std::vector<double> softmax(const std::vector<float>& logits, double temperature) {
    std::vector<double> p(logits.size());
    double max = -1e300, sum = 0;
    for (float l : logits) max = std::max(max, static_cast<double>(l));
    for (std::size_t i = 0; i < p.size(); ++i)
        sum += p[i] = std::exp((logits[i] - max) / temperature);
    for (double& v : p) v /= sum;
    return p;
}

// Frequencies of each id over `draws` samples.
std::vector<double> frequencies(const SamplingParams& params, const std::vector<float>& logits,
                                int draws) {
    Sampler sampler(params);
    std::vector<double> f(logits.size());
    for (int i = 0; i < draws; ++i)
        f[static_cast<std::size_t>(sampler.next(logits).token)] += 1.0 / draws;
    return f;
}

const std::vector<float> kLogits = {1.0f, 2.5f, 0.0f, 2.0f, -1.0f};

}  // namespace

TEST_CASE("sampler: temperature 0 is greedy, ties go to the lowest id") {
    SamplingParams p;
    p.temperature = 0;
    Sampler s(p);
    CHECK(s.next(kLogits).token == 1);
    CHECK(s.next(std::vector<float>{3, 5, 5, 1}).token == 1);
    p.temperature = 1;
    p.top_k = 1;
    CHECK(Sampler(p).next(kLogits).token == 1);
}

TEST_CASE("sampler: temperature 1 and 0.5 draw from softmax(logits / T)") {
    for (float t : {1.0f, 0.5f, 2.0f}) {
        SamplingParams p;
        p.temperature = t;
        p.seed = 11;
        const auto f = frequencies(p, kLogits, 40000);
        const auto expected = softmax(kLogits, t);
        for (std::size_t i = 0; i < f.size(); ++i)
            CHECK_MESSAGE(std::fabs(f[i] - expected[i]) < 0.01, "T=" << t << " id " << i);
    }
}

TEST_CASE("sampler: top-k keeps the k most likely tokens, renormalised") {
    SamplingParams p;
    p.top_k = 2;
    p.seed = 3;
    const auto f = frequencies(p, kLogits, 40000);
    const double z = std::exp(2.5) + std::exp(2.0);
    CHECK(std::fabs(f[1] - std::exp(2.5) / z) < 0.01);
    CHECK(std::fabs(f[3] - std::exp(2.0) / z) < 0.01);
    CHECK(f[0] == 0);
    CHECK(f[2] == 0);
    CHECK(f[4] == 0);
}

TEST_CASE("sampler: top-p keeps the smallest head reaching p") {
    const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f),
                                       std::log(0.05f)};
    SamplingParams p;
    p.top_p = 0.7f;  // 0.5 < 0.7 <= 0.8: ids 0 and 1
    auto f = frequencies(p, logits, 20000);
    CHECK(std::fabs(f[0] - 0.625) < 0.015);
    CHECK(f[2] == 0);
    CHECK(f[3] == 0);
    p.top_p = 0.9f;  // 0.8 < 0.9 <= 0.95: ids 0, 1, 2
    f = frequencies(p, logits, 20000);
    CHECK(f[2] > 0.1);
    CHECK(f[3] == 0);
}

TEST_CASE("sampler: top-p past the first 1024 candidates looks at the whole vocabulary") {
    std::vector<float> flat(5000, 0.0f);  // uniform: top-p 0.5 keeps ids 0..2499
    SamplingParams p;
    p.top_p = 0.5f;
    Sampler s(p);
    int highest = 0;
    for (int i = 0; i < 4000; ++i) highest = std::max(highest, s.next(flat).token);
    CHECK(highest >= 2000);
    CHECK(highest <= 2500);  // 2500 only through rounding of the running sum
}

TEST_CASE("sampler: the same seed gives the same tokens, another seed others") {
    std::vector<float> logits(300);
    for (std::size_t i = 0; i < logits.size(); ++i)
        logits[i] = static_cast<float>(std::sin(static_cast<double>(i) * 0.37));
    SamplingParams p;
    p.seed = 42;
    Sampler a(p), b(p);
    p.seed = 43;
    Sampler c(p);
    int differ = 0;
    for (int i = 0; i < 50; ++i) {
        const int ta = a.next(logits).token;
        CHECK(ta == b.next(logits).token);
        differ += ta != c.next(logits).token;
    }
    CHECK(differ > 25);
}

TEST_CASE("sampler: logprobs are the raw log-softmax; alternatives best first") {
    SamplingParams p;
    p.temperature = 0;
    p.top_logprobs = 3;
    const auto sample = Sampler(p).next(kLogits);
    const auto expected = softmax(kLogits, 1.0);
    CHECK(sample.logprob == doctest::Approx(std::log(expected[1])).epsilon(1e-6));
    REQUIRE(sample.top.size() == 3);
    CHECK(sample.top[0].token == 1);
    CHECK(sample.top[1].token == 3);
    CHECK(sample.top[2].token == 0);
    CHECK(sample.top[2].logprob == doctest::Approx(std::log(expected[0])).epsilon(1e-6));
}

TEST_CASE("sampler: logprobs over a full vocabulary match a double-precision log-softmax") {
    // The normaliser is summed with a vectorised float exp: across a real vocabulary's width,
    // wide and narrow spreads, -inf and NaN entries, it stays within 1e-6 of the reference.
    std::mt19937 random(3);
    for (const float spread : {0.5f, 8.0f, 40.0f}) {
        std::vector<float> logits(201088);
        std::normal_distribution<float> normal(0, spread);
        for (auto& l : logits) l = normal(random);
        logits[7] = -std::numeric_limits<float>::infinity();
        logits[11] = std::numeric_limits<float>::quiet_NaN();
        double max = -1e30;
        for (float l : logits)
            if (!std::isnan(l)) max = std::max(max, static_cast<double>(l));
        double sum = 0;
        for (float l : logits)
            if (!std::isnan(l)) sum += std::exp(static_cast<double>(l) - max);
        SamplingParams p;
        p.temperature = 0;
        const auto sample = Sampler(p).next(logits);
        const double expected =
            static_cast<double>(logits[static_cast<std::size_t>(sample.token)]) - max -
            std::log(sum);
        CHECK(std::abs(sample.logprob - expected) < 1e-6);
    }
}

TEST_CASE("sampler: NaN logits never win; broken rows and bad parameters are refused") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    SamplingParams p;
    p.seed = 5;
    Sampler s(p);
    for (int i = 0; i < 200; ++i)
        CHECK(s.next(std::vector<float>{nan, 0.0f, nan, 1.0f}).token % 2 == 1);
    CHECK_THROWS_AS(s.next(std::vector<float>{nan, nan}), ModelError);
    CHECK_THROWS_AS(s.next(std::vector<float>{}), ModelError);
    CHECK_THROWS_AS(s.next(std::vector<float>{0.0f, std::numeric_limits<float>::infinity()}),
                    ModelError);
    for (auto bad : {SamplingParams{-1.0f}, SamplingParams{nan}, SamplingParams{1.0f, 0.0f},
                     SamplingParams{1.0f, 1.5f}, SamplingParams{1.0f, 1.0f, -2},
                     SamplingParams{1.0f, 1.0f, 0, 0, 21}})
        CHECK_THROWS_AS(Sampler{bad}, ModelError);
}
