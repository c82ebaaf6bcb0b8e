// The CPU matmuls (engine/cpu/matmul.h) for every implementation this CPU supports, against a
// plain double-precision reference: odd shapes, strides, bias, 1 and 3 threads, token counts
// across the kernels' tile and slab edges; exact MXFP4 decoding for every nibble and scale
// byte; MXFP4 with int8 activations against the same reference on its quantised activations
// and within the quantisation error of fp32; the bf16 conversions; and the dispatcher's
// choices.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/cpu/cpu_features.h"
#include "engine/cpu/matmul.h"
#include "engine/cpu/thread_pool.h"
#include "engine/mxfp4_tiles.h"

using namespace gossamer::engine::cpu;
using gossamer::engine::mxfp4_byte_offset;
using gossamer::engine::mxfp4_scale_offset;
using gossamer::engine::tile_mxfp4_expert;
using gossamer::engine::untile_mxfp4_expert;

namespace {

constexpr double kE2M1[16] = {0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6};

std::uint32_t bits_of(float f) {
    std::uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    return b;
}

float float_of(std::uint32_t b) {
    float f;
    std::memcpy(&f, &b, sizeof f);
    return f;
}

// Selects an implementation for one scope and restores the previous one afterwards.
class IsaScope {
  public:
    explicit IsaScope(const std::string& isa) : previous_(matmul_isa()) {
        REQUIRE(select_matmul_isa(isa));
    }
    ~IsaScope() { select_matmul_isa(previous_); }
    IsaScope(const IsaScope&) = delete;
    IsaScope& operator=(const IsaScope&) = delete;

  private:
    std::string previous_;
};

struct Problem {
    int tokens = 0, rows = 0, cols = 0;
    std::size_t ldx = 0, ldy = 0;
    std::vector<float> x, bias;
    bool with_bias = false;
};

Problem make_problem(std::mt19937& rng, int tokens, int rows, int cols, bool with_bias) {
    Problem p;
    p.tokens = tokens;
    p.rows = rows;
    p.cols = cols;
    p.ldx = static_cast<std::size_t>(cols) + 5;  // strides larger than the data
    p.ldy = static_cast<std::size_t>(rows) + 3;
    p.with_bias = with_bias;
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    p.x.assign(p.ldx * static_cast<std::size_t>(tokens), std::numeric_limits<float>::quiet_NaN());
    for (int t = 0; t < tokens; ++t)
        for (int c = 0; c < cols; ++c) p.x[static_cast<std::size_t>(t) * p.ldx + c] = u(rng);
    p.bias.resize(static_cast<std::size_t>(rows));
    for (float& b : p.bias) b = 4.0f * u(rng);
    return p;
}

// Runs `matmul(y)` and compares y with the double-precision reference `weight(r, c)`: each
// value within 1e-5 of sum |x * w| (plus the bias' own rounding), and the padding of y (the
// stride beyond `rows`) untouched.
template <typename Weight, typename Matmul>
void check_against_reference(const Problem& p, Weight weight, Matmul matmul) {
    const float sentinel = -12345.0f;
    std::vector<float> y(p.ldy * static_cast<std::size_t>(p.tokens), sentinel);
    matmul(y.data());
    int bad = 0;
    for (int t = 0; t < p.tokens && bad < 5; ++t) {
        const float* xt = p.x.data() + static_cast<std::size_t>(t) * p.ldx;
        for (int r = 0; r < p.rows; ++r) {
            double sum = p.with_bias ? p.bias[r] : 0.0, magnitude = std::fabs(sum);
            for (int c = 0; c < p.cols; ++c) {
                const double term = static_cast<double>(xt[c]) * weight(r, c);
                sum += term;
                magnitude += std::fabs(term);
            }
            const double got = y[static_cast<std::size_t>(t) * p.ldy + r];
            const double tolerance = 1e-5 * magnitude + 1e-30;
            if (!(std::fabs(got - sum) <= tolerance)) {
                ++bad;
                FAIL_CHECK("y[" << t << ", " << r << "] = " << got << ", reference " << sum
                                << ", tolerance " << tolerance);
            }
        }
        for (std::size_t r = static_cast<std::size_t>(p.rows); r < p.ldy; ++r)
            if (y[static_cast<std::size_t>(t) * p.ldy + r] != sentinel) {
                ++bad;
                FAIL_CHECK("wrote past the rows: y[" << t << ", " << r << "]");
            }
    }
}

// How many of a problem's outputs (tokens x rows, not the stride's padding) differ in any bit.
int differing_outputs(const Problem& p, const std::vector<float>& a, const std::vector<float>& b) {
    int differ = 0;
    for (int t = 0; t < p.tokens; ++t)
        for (int r = 0; r < p.rows; ++r) {
            const std::size_t at =
                static_cast<std::size_t>(t) * p.ldy + static_cast<std::size_t>(r);
            differ += std::memcmp(&a[at], &b[at], sizeof(float)) != 0;
        }
    return differ;
}

std::vector<std::uint16_t> random_bf16(std::mt19937& rng, std::size_t n) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<std::uint16_t> w(n);
    for (auto& v : w) v = float_to_bf16(normal(rng));
    return w;
}

void run_bf16_case(std::mt19937& rng, ThreadPool& pool, int tokens, int rows, int cols,
                   bool with_bias) {
    CAPTURE(tokens);
    CAPTURE(rows);
    CAPTURE(cols);
    CAPTURE(with_bias);
    const Problem p = make_problem(rng, tokens, rows, cols, with_bias);
    const auto w = random_bf16(rng, static_cast<std::size_t>(rows) * cols);
    check_against_reference(
        p,
        [&](int r, int c) {
            return static_cast<double>(bf16_to_float(w[static_cast<std::size_t>(r) * cols + c]));
        },
        [&](float* y) {
            matmul_bf16(p.x.data(), p.ldx, tokens, w.data(), rows, cols,
                        with_bias ? p.bias.data() : nullptr, y, p.ldy, pool);
        });
}

struct Mxfp4Weights {
    int rows = 0, cols = 0;
    std::vector<std::uint8_t> blocks, scales;
    double operator()(int r, int c) const {
        const std::size_t g = static_cast<std::size_t>(r) * (cols / 32) + c / 32;
        const std::uint8_t byte = blocks[g * 16 + (c % 32) / 2];
        const int nibble = c % 2 ? byte >> 4 : byte & 0x0f;
        return std::ldexp(kE2M1[nibble], scales[g] - 127);
    }
};

// Random blocks; scales cycling through first_scale .. first_scale + span - 1.
Mxfp4Weights random_mxfp4(std::mt19937& rng, int rows, int cols, int first_scale, int span) {
    Mxfp4Weights w{rows, cols, {}, {}};
    const auto groups = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols / 32);
    w.blocks.resize(groups * 16);
    w.scales.resize(groups);
    for (auto& b : w.blocks) b = static_cast<std::uint8_t>(rng());
    const auto first = static_cast<std::size_t>(rng() % static_cast<unsigned>(span));
    for (std::size_t i = 0; i < groups; ++i)
        w.scales[i] = static_cast<std::uint8_t>(first_scale + (first + i) % span);
    return w;
}

// matmul_mxfp4_int8 over p's tokens, `chunk` at a time (as decode, chunked prefill and a full
// forward feed them), on w with its rows [0, tiled_rows) in tiles.
std::vector<float> int8_in_chunks(const Problem& p, const Mxfp4Weights& w, int chunk,
                                  ThreadPool& pool, int tiled_rows = 0) {
    std::vector<float> y(p.ldy * static_cast<std::size_t>(p.tokens), -1.0f);
    for (int t0 = 0; t0 < p.tokens; t0 += chunk)
        matmul_mxfp4_int8(p.x.data() + static_cast<std::size_t>(t0) * p.ldx, p.ldx,
                          std::min(chunk, p.tokens - t0), w.blocks.data(), w.scales.data(), p.rows,
                          p.cols, p.with_bias ? p.bias.data() : nullptr,
                          y.data() + static_cast<std::size_t>(t0) * p.ldy, p.ldy, pool, tiled_rows);
    return y;
}

// The activations int8 mode computes with: per 32-column block, q = round(x * 127 / amax)
// and x ~= q * amax / 127 (matmul.h, Mxfp4Activations::Int8), as floats.
Problem quantised(const Problem& p) {
    Problem q = p;
    for (int t = 0; t < p.tokens; ++t) {
        float* x = q.x.data() + static_cast<std::size_t>(t) * p.ldx;
        for (int g = 0; g < p.cols / 32; ++g) {
            float amax = 0;
            for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[32 * g + i]));
            const float d = amax / 127.0f, inverse = amax > 0 ? 127.0f / amax : 0.0f;
            for (int i = 0; i < 32; ++i)
                x[32 * g + i] = static_cast<float>(
                    static_cast<double>(std::nearbyint(x[32 * g + i] * inverse)) * d);
        }
    }
    return q;
}

// An MXFP4 product against the double-precision reference: with fp32 activations on x itself,
// with int8 ones on x as quantised (the integer block sums are exact, so what is left is fp32
// accumulation).
void run_mxfp4_case(std::mt19937& rng, ThreadPool& pool, int tokens, int rows, int cols,
                    bool with_bias, Mxfp4Activations activations = Mxfp4Activations::Fp32) {
    CAPTURE(tokens);
    CAPTURE(rows);
    CAPTURE(cols);
    CAPTURE(with_bias);
    const Problem p = make_problem(rng, tokens, rows, cols, with_bias);
    // Every scale from 2^-27 to 2^27 appears (the range where no sum overflows).
    const Mxfp4Weights w = random_mxfp4(rng, rows, cols, 100, 55);
    const bool int8 = activations == Mxfp4Activations::Int8;
    check_against_reference(int8 ? quantised(p) : p, w, [&](float* y) {
        if (int8)
            matmul_mxfp4_int8(p.x.data(), p.ldx, tokens, w.blocks.data(), w.scales.data(), rows,
                              cols, with_bias ? p.bias.data() : nullptr, y, p.ldy, pool);
        else
            matmul_mxfp4(p.x.data(), p.ldx, tokens, w.blocks.data(), w.scales.data(), rows, cols,
                         with_bias ? p.bias.data() : nullptr, y, p.ldy, pool);
    });
}

}  // namespace

TEST_CASE("matmul: bf16_to_float is exact for every bit pattern") {
    for (std::uint32_t b = 0; b < 0x10000; ++b) {
        const float f = bf16_to_float(static_cast<std::uint16_t>(b));
        if (bits_of(f) != b << 16) {
            FAIL("bf16 " << b << " -> fp32 bits " << bits_of(f));
        }
    }
    CHECK(bf16_to_float(0x3f80) == 1.0f);
    CHECK(bf16_to_float(0xc040) == -3.0f);
    CHECK(bf16_to_float(0x7f80) == std::numeric_limits<float>::infinity());
    CHECK(bf16_to_float(0x0001) == std::ldexp(1.0f, -133));  // smallest denormal
}

TEST_CASE("matmul: float_to_bf16 rounds to nearest, ties to even") {
    // Hand-picked cases: ties go to the even neighbour, everything else to the nearer one.
    CHECK(float_to_bf16(1.0f) == 0x3f80);
    CHECK(float_to_bf16(float_of(0x3f808000)) == 0x3f80);  // tie, 0x3f80 is even
    CHECK(float_to_bf16(float_of(0x3f818000)) == 0x3f82);  // tie, rounds up to even
    CHECK(float_to_bf16(float_of(0x3f808001)) == 0x3f81);
    CHECK(float_to_bf16(float_of(0x3f807fff)) == 0x3f80);
    CHECK(float_to_bf16(float_of(0xbf818000)) == 0xbf82);  // negative tie
    CHECK(float_to_bf16(float_of(0x00008000)) == 0x0000);  // denormal tie to even (zero)
    CHECK(float_to_bf16(float_of(0x00018000)) == 0x0002);
    CHECK(float_to_bf16(float_of(0x00000001)) == 0x0000);
    CHECK(float_to_bf16(-0.0f) == 0x8000);
    CHECK(float_to_bf16(std::numeric_limits<float>::infinity()) == 0x7f80);
    CHECK(float_to_bf16(-std::numeric_limits<float>::infinity()) == 0xff80);
    CHECK(float_to_bf16(std::numeric_limits<float>::max()) == 0x7f80);  // rounds up to inf
    CHECK(float_to_bf16(float_of(0x7f7f7fff)) == 0x7f7f);               // largest finite
    for (std::uint32_t nan : {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7fff0000u, 0xff80ffffu}) {
        CAPTURE(nan);
        CHECK(std::isnan(bf16_to_float(float_to_bf16(float_of(nan)))));
        CHECK((float_to_bf16(float_of(nan)) & 0x8000) == ((nan >> 16) & 0x8000));  // sign kept
    }

    // Against a double-precision definition: every high half with the low halves that matter
    // (exact, just below, at and above the tie, just below the next), and random patterns.
    auto expected = [](std::uint32_t b) -> std::uint16_t {
        const float f = float_of(b);
        const auto lo = static_cast<std::uint16_t>(b >> 16);
        if ((b & 0xffff) == 0) return lo;
        const auto hi = static_cast<std::uint16_t>(lo + 1);  // one step away from zero
        auto value = [](std::uint16_t h) {
            if ((h & 0x7fff) == 0x7f80)
                return std::copysign(std::ldexp(1.0, 128), h & 0x8000 ? -1.0 : 1.0);
            return static_cast<double>(bf16_to_float(h));
        };
        const double down = std::fabs(f - value(lo)), up = std::fabs(value(hi) - f);
        if (down < up) return lo;
        if (up < down) return hi;
        return lo & 1 ? hi : lo;
    };
    std::mt19937 rng(7);
    int bad = 0;
    for (std::uint32_t high = 0; high < 0x10000 && bad < 5; ++high) {
        if ((high & 0x7f80) == 0x7f80) continue;  // inf and NaN: checked above
        for (std::uint32_t low : {0x0000u, 0x0001u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu,
                                  static_cast<std::uint32_t>(rng() & 0xffff)}) {
            const std::uint32_t b = high << 16 | low;
            if (float_to_bf16(float_of(b)) != expected(b)) {
                ++bad;
                FAIL_CHECK("fp32 bits " << b << " -> " << float_to_bf16(float_of(b))
                                        << ", expected " << expected(b));
            }
        }
    }
}

TEST_CASE("matmul: mxfp4_value decodes every nibble at every scale byte") {
    for (int s = 0; s < 256; ++s)
        for (int n = 0; n < 16; ++n) {
            const auto want = static_cast<float>(std::ldexp(kE2M1[n], s - 127));
            const float got =
                mxfp4_value(static_cast<std::uint8_t>(n), static_cast<std::uint8_t>(s));
            if (bits_of(got) != bits_of(want))
                FAIL_CHECK("nibble " << n << " scale " << s << ": " << got << ", expected "
                                     << want);
        }
    CHECK(mxfp4_value(7, 127) == 6.0f);
    CHECK(mxfp4_value(9, 128) == -1.0f);
    CHECK(mxfp4_value(1, 0) == std::ldexp(1.0f, -128));  // denormal, exact
    CHECK(mxfp4_value(7, 255) == std::numeric_limits<float>::infinity());
    CHECK(mxfp4_value(1, 255) == std::ldexp(1.0f, 127));
    CHECK(mxfp4_value(0, 255) == 0.0f);
}

TEST_CASE("matmul: the dispatcher picks the best supported implementation") {
    const auto isas = supported_matmul_isas();
    REQUIRE(!isas.empty());
    CHECK(isas.back() == "portable");
    const CpuFeatures& f = cpu_features();
    CHECK((std::find(isas.begin(), isas.end(), "avx512") != isas.end()) == f.avx512);
    CHECK((std::find(isas.begin(), isas.end(), "avx2") != isas.end()) == f.avx2_fma);
    MESSAGE("supported: " << isas.front() << " (of " << isas.size()
                          << "), active: " << matmul_isa());

    CHECK(std::string(resolve_matmul_isa("")) == isas.front());
    CHECK((std::find(isas.begin(), isas.end(), "avx512vnni") != isas.end()) == f.avx512_vnni);
    CHECK((std::find(isas.begin(), isas.end(), "avx512bf16") != isas.end()) == f.avx512_bf16);
    CHECK(std::string(resolve_matmul_isa("avx512bf16")) == isas.front());
    CHECK(std::string(resolve_matmul_isa("avx512vnni")) == (f.avx512_vnni ? "avx512vnni"
                                                            : f.avx512    ? "avx512"
                                                            : f.avx2_fma  ? "avx2"
                                                                          : "portable"));
    CHECK(std::string(resolve_matmul_isa("avx512")) == (f.avx512     ? "avx512"
                                                        : f.avx2_fma ? "avx2"
                                                                     : "portable"));
    CHECK(std::string(resolve_matmul_isa("no-such-isa")) == isas.front());
    CHECK(std::string(resolve_matmul_isa("portable")) == "portable");
    CHECK(std::string(resolve_matmul_isa("avx2")) == (f.avx2_fma ? "avx2" : "portable"));

    const std::string before = matmul_isa();
    CHECK(!select_matmul_isa("no-such-isa"));
    CHECK(!select_matmul_isa(""));
    CHECK(matmul_isa() == before);
    for (const auto& isa : isas) {
        IsaScope scope(isa);
        CHECK(matmul_isa() == isa);
    }
    CHECK(matmul_isa() == before);
    if (!f.avx512) CHECK(!select_matmul_isa("avx512"));
}

TEST_CASE("matmul: bf16 equals the double-precision reference on every implementation") {
    for (const auto& isa : supported_matmul_isas()) {
        IsaScope scope(isa);
        for (int threads : {1, 3}) {
            CAPTURE(isa);
            CAPTURE(threads);
            ThreadPool pool(threads);
            std::mt19937 rng(1234);
            for (int rows : {1, 3, 17, 100})
                for (int cols : {1, 7, 33, 2880})
                    for (int tokens = 1; tokens <= 9; ++tokens)
                        run_bf16_case(rng, pool, tokens, rows, cols, tokens % 2 == 1);
            // The many-token path (AVX2: a packed GEMM from 16 tokens on, 16-row panels, 6-token
            // tiles): partial panels and tiles, column tails, one and several panels.
            for (int rows : {1, 16, 17, 40})
                for (int cols : {1, 15, 33, 2880})
                    for (int tokens : {16, 17, 23})
                        run_bf16_case(rng, pool, tokens, rows, cols, tokens % 2 == 1);
            // Past the kernels' token blocks (64) and the packing slab (256).
            run_bf16_case(rng, pool, 300, 7, 96, true);
            run_bf16_case(rng, pool, 300, 33, 40, false);
        }
    }
}

TEST_CASE(
    "matmul: mxfp4 equals the double-precision reference on every implementation, with fp32 "
    "activations and with int8 ones (on the activations as quantised)") {
    for (auto activations : {Mxfp4Activations::Fp32, Mxfp4Activations::Int8})
        for (const auto& isa : supported_matmul_isas()) {
            IsaScope scope(isa);
            for (int threads : {1, 3}) {
                CAPTURE(std::string(to_string(activations)));
                CAPTURE(isa);
                CAPTURE(threads);
                ThreadPool pool(threads);
                std::mt19937 rng(99);
                for (int rows : {1, 3, 17, 100})
                    for (int cols : {32, 64, 96, 288, 2880})
                        for (int tokens = 1; tokens <= 9; ++tokens)
                            run_mxfp4_case(rng, pool, tokens, rows, cols, tokens % 2 == 0,
                                           activations);
                run_mxfp4_case(rng, pool, 300, 7, 96, false, activations);
            }
        }
}

TEST_CASE("matmul: mxfp4 with int8 activations scales by every scale byte up to 238") {
    // Activations on the int8 grid (a 127 in every block: scale 1) and half-way between its
    // points (ties, which round to even), against weights whose blocks each take one scale
    // byte: 0 (denormal 2^-128) to 238 (the largest whose block sums cannot overflow fp32),
    // and zero blocks give exactly zero.
    constexpr int kCols = 32 * 239, kRows = 3, kTokens = 2;
    std::mt19937 rng(17);
    Mxfp4Weights w{kRows, kCols, {}, {}};
    w.blocks.resize(static_cast<std::size_t>(kRows) * kCols / 2);
    w.scales.resize(static_cast<std::size_t>(kRows) * kCols / 32);
    for (auto& b : w.blocks) b = static_cast<std::uint8_t>(rng());
    for (std::size_t i = 0; i < w.scales.size(); ++i)
        w.scales[i] = static_cast<std::uint8_t>(i % 239);
    Problem p = make_problem(rng, kTokens, kRows, kCols, false);
    for (int t = 0; t < kTokens; ++t)
        for (int c = 0; c < kCols; ++c)
            p.x[static_cast<std::size_t>(t) * p.ldx + c] =
                c % 32 == 5 ? 127.0f
                            : static_cast<float>(static_cast<int>(rng() % 254) - 127) +
                                  (c % 3 == 0 ? 0.5f : 0.0f);
    // Token 1's block 0 is all zeros.
    std::fill_n(p.x.begin() + static_cast<std::ptrdiff_t>(p.ldx), 32, 0.0f);
    for (const auto& isa : supported_matmul_isas()) {
        IsaScope scope(isa);
        CAPTURE(isa);
        ThreadPool pool(2);
        check_against_reference(quantised(p), w, [&](float* y) {
            matmul_mxfp4_int8(p.x.data(), p.ldx, kTokens, w.blocks.data(), w.scales.data(), kRows,
                              kCols, nullptr, y, p.ldy, pool);
        });
    }
}

TEST_CASE("matmul: int8 activations stay within half a quantisation step of fp32") {
    // |int8 - fp32| <= sum over columns of |w| * (amax of the column's block / 254), plus fp32
    // rounding: the bound the quantisation itself allows, at gpt-oss-20b's widths.
    constexpr int kRows = 64, kCols = 2880, kTokens = 5;
    std::mt19937 rng(23);
    const Problem p = make_problem(rng, kTokens, kRows, kCols, true);
    const Mxfp4Weights w = random_mxfp4(rng, kRows, kCols, 118, 12);
    ThreadPool pool(2);
    std::vector<float> exact(p.ldy * kTokens), int8(p.ldy * kTokens);
    matmul_mxfp4(p.x.data(), p.ldx, kTokens, w.blocks.data(), w.scales.data(), kRows, kCols,
                 p.bias.data(), exact.data(), p.ldy, pool);
    matmul_mxfp4_int8(p.x.data(), p.ldx, kTokens, w.blocks.data(), w.scales.data(), kRows, kCols,
                      p.bias.data(), int8.data(), p.ldy, pool);
    double worst_ratio = 0;
    for (int t = 0; t < kTokens; ++t) {
        const float* x = p.x.data() + static_cast<std::size_t>(t) * p.ldx;
        for (int r = 0; r < kRows; ++r) {
            double bound = 0, magnitude = 0;
            for (int g = 0; g < kCols / 32; ++g) {
                float amax = 0;
                for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[32 * g + i]));
                for (int i = 0; i < 32; ++i) {
                    bound += std::fabs(w(r, 32 * g + i)) * amax / 254.0;
                    magnitude += std::fabs(w(r, 32 * g + i) * x[32 * g + i]);
                }
            }
            const std::size_t at = static_cast<std::size_t>(t) * p.ldy + r;
            const double diff = std::fabs(static_cast<double>(int8[at]) - exact[at]);
            CHECK(diff <= bound + 1e-5 * magnitude);
            worst_ratio = std::max(worst_ratio, diff / bound);
        }
    }
    // Rounding errors partly cancel: far inside the worst case, but not zero.
    CHECK(worst_ratio > 0.0);
    CHECK(worst_ratio < 0.2);
}

TEST_CASE("matmul: mxfp4 applies every scale byte to every nibble exactly") {
    // Row i holds one nonzero nibble (i % 16) in its first block, scaled by i / 16, at a
    // column that moves around the block; its second block is all zeros under a random scale
    // (255 included, which must still give zeros). So y = x[c] * mxfp4_value exactly, inf where
    // that overflows, denormal at the bottom.
    constexpr int kRows = 256 * 16, kCols = 64, kTokens = 5;
    std::vector<std::uint8_t> blocks(static_cast<std::size_t>(kRows) * 2 * 16, 0);
    std::vector<std::uint8_t> scales(static_cast<std::size_t>(kRows) * 2);
    std::vector<int> column(kRows);
    std::mt19937 rng(5);
    for (int i = 0; i < kRows; ++i) {
        const int nibble = i % 16, c = (i * 7) % 32;
        column[i] = c;
        const auto byte = static_cast<std::uint8_t>(c % 2 ? nibble << 4 : nibble);
        blocks[static_cast<std::size_t>(i) * 32 + c / 2] = byte;
        scales[static_cast<std::size_t>(i) * 2] = static_cast<std::uint8_t>(i / 16);
        scales[static_cast<std::size_t>(i) * 2 + 1] =
            i % 5 == 0 ? 255 : static_cast<std::uint8_t>(rng());
    }
    const float xs[kTokens] = {1.0f, -1.25f, 0.75f, 3.0f, -0.5f};
    std::vector<float> x(static_cast<std::size_t>(kTokens) * kCols);
    for (int t = 0; t < kTokens; ++t)
        for (int c = 0; c < kCols; ++c)
            x[static_cast<std::size_t>(t) * kCols + c] =
                xs[t] * (1.0f + static_cast<float>(c % 4) / 4);
    for (const auto& isa : supported_matmul_isas()) {
        IsaScope scope(isa);
        CAPTURE(isa);
        ThreadPool pool(3);
        std::vector<float> y(static_cast<std::size_t>(kTokens) * kRows);
        matmul_mxfp4(x.data(), kCols, kTokens, blocks.data(), scales.data(), kRows, kCols, nullptr,
                     y.data(), kRows, pool);
        int bad = 0;
        for (int t = 0; t < kTokens && bad < 5; ++t)
            for (int i = 0; i < kRows; ++i) {
                const float w = mxfp4_value(static_cast<std::uint8_t>(i % 16),
                                            static_cast<std::uint8_t>(i / 16));
                const float want = x[static_cast<std::size_t>(t) * kCols + column[i]] * w;
                const float got = y[static_cast<std::size_t>(t) * kRows + i];
                if (!(got == want)) {
                    ++bad;
                    FAIL_CHECK("token " << t << " nibble " << i % 16 << " scale " << i / 16 << ": "
                                        << got << ", expected " << want);
                }
            }
    }
}

TEST_CASE("matmul: results do not depend on the token count or the thread count") {
    // The forward pass relies on this: a token's logits must not change with the batch.
    std::mt19937 rng(3);
    const int rows = 37, cols = 2880;
    const Problem p = make_problem(rng, 70, rows, cols, true);
    const auto w = random_bf16(rng, static_cast<std::size_t>(rows) * cols);
    for (const auto& isa : supported_matmul_isas()) {
        IsaScope scope(isa);
        CAPTURE(isa);
        ThreadPool one(1), three(3);
        std::vector<float> all(p.ldy * 70), single(p.ldy);
        matmul_bf16(p.x.data(), p.ldx, 70, w.data(), rows, cols, p.bias.data(), all.data(), p.ldy,
                    three);
        for (int t : {0, 3, 4, 63, 64, 69}) {
            matmul_bf16(p.x.data() + static_cast<std::size_t>(t) * p.ldx, p.ldx, 1, w.data(), rows,
                        cols, p.bias.data(), single.data(), p.ldy, one);
            for (int r = 0; r < rows; ++r)
                CHECK(single[r] == all[static_cast<std::size_t>(t) * p.ldy + r]);
        }
    }
}

TEST_CASE(
    "matmul: int8 mxfp4 results are equal bit for bit on every implementation, token count, "
    "thread count and row tail") {
    // Speculative decoding's exactness relies on this: a token's result must not change with
    // the batch it is verified in (one token streams its rows, several go through the packed
    // rows; both do the portable kernel's float operations in the same order).
    std::mt19937 rng(31);
    for (int rows : {1, 7, 8, 9, 17, 40}) {
        for (int cols : {32, 96, 288, 2880}) {
            CAPTURE(rows);
            CAPTURE(cols);
            const int tokens = 70;
            const Problem p = make_problem(rng, tokens, rows, cols, rows % 2 == 1);
            const Mxfp4Weights w = random_mxfp4(rng, rows, cols, 110, 30);
            std::vector<float> reference(p.ldy * tokens);
            {
                IsaScope scope("portable");
                ThreadPool one(1);
                for (int t = 0; t < tokens; ++t)
                    matmul_mxfp4_int8(
                        p.x.data() + static_cast<std::size_t>(t) * p.ldx, p.ldx, 1, w.blocks.data(),
                        w.scales.data(), rows, cols, p.with_bias ? p.bias.data() : nullptr,
                        reference.data() + static_cast<std::size_t>(t) * p.ldy, p.ldy, one);
            }
            for (const auto& isa : supported_matmul_isas()) {
                IsaScope scope(isa);
                CAPTURE(isa);
                for (int threads : {1, 3}) {
                    CAPTURE(threads);
                    ThreadPool pool(threads);
                    for (int chunk : {1, 3, 4, 5, 8, 13, 70}) {
                        CAPTURE(chunk);
                        CHECK(differing_outputs(p, int8_in_chunks(p, w, chunk, pool), reference) ==
                              0);
                    }
                }
            }
        }
    }
}

TEST_CASE("matmul: bf16 results are equal bit for bit on every token count and thread count") {
    // Within one implementation: decode (one token), chunked prefill and a full forward must
    // give a token the same result (the KV cache on disk, prefix reuse and speculative
    // decoding compare them), although many tokens take another path (AVX2: a packed GEMM).
    std::mt19937 rng(37);
    for (int rows : {1, 16, 17, 40}) {
        for (int cols : {7, 33, 272, 2880}) {
            CAPTURE(rows);
            CAPTURE(cols);
            const int tokens = 70;
            const Problem p = make_problem(rng, tokens, rows, cols, rows % 2 == 1);
            const auto w = random_bf16(rng, static_cast<std::size_t>(rows) * cols);
            for (const auto& isa : supported_matmul_isas()) {
                IsaScope scope(isa);
                CAPTURE(isa);
                auto run = [&](int chunk, ThreadPool& pool) {
                    std::vector<float> y(p.ldy * tokens, -1.0f);
                    for (int t0 = 0; t0 < tokens; t0 += chunk)
                        matmul_bf16(p.x.data() + static_cast<std::size_t>(t0) * p.ldx, p.ldx,
                                    std::min(chunk, tokens - t0), w.data(), rows, cols,
                                    p.with_bias ? p.bias.data() : nullptr,
                                    y.data() + static_cast<std::size_t>(t0) * p.ldy, p.ldy, pool);
                    return y;
                };
                ThreadPool one(1);
                const std::vector<float> reference = run(1, one);
                for (int threads : {1, 3}) {
                    CAPTURE(threads);
                    ThreadPool pool(threads);
                    for (int chunk : {1, 4, 9, 16, 23, 70}) {
                        CAPTURE(chunk);
                        const std::vector<float> y = run(chunk, pool);
                        CHECK(differing_outputs(p, y, reference) == 0);
                    }
                }
            }
        }
    }
}

TEST_CASE(
    "matmul: bf16 activations equal the fp32 path on the activations rounded to bf16, bit for "
    "bit, on every implementation, token count and thread count") {
    // DenseActivations::Bf16 rounds x to bf16; AVX-512 BF16 then runs vdpbf16ps, the others
    // their fp32 kernel. Column tails (7, 33, 272), one and several 4-row tiles and 16-row
    // units, token counts past the 64-token block and the 256-token slab.
    std::mt19937 rng(53);
    for (int rows : {1, 5, 17, 40}) {
        for (int cols : {7, 33, 64, 272, 2880}) {
            CAPTURE(rows);
            CAPTURE(cols);
            const int tokens = rows == 5 ? 300 : 70;
            const Problem p = make_problem(rng, tokens, rows, cols, rows % 2 == 1);
            Problem rounded = p;
            for (float& v : rounded.x)
                if (!std::isnan(v)) v = bf16_to_float(float_to_bf16(v));
            const auto w = random_bf16(rng, static_cast<std::size_t>(rows) * cols);
            auto run = [&](const Problem& in, DenseActivations activations, int chunk,
                           ThreadPool& pool) {
                std::vector<float> y(in.ldy * tokens, -1.0f);
                for (int t0 = 0; t0 < tokens; t0 += chunk)
                    matmul_bf16(in.x.data() + static_cast<std::size_t>(t0) * in.ldx, in.ldx,
                                std::min(chunk, tokens - t0), w.data(), rows, cols,
                                in.with_bias ? in.bias.data() : nullptr,
                                y.data() + static_cast<std::size_t>(t0) * in.ldy, in.ldy, pool,
                                activations);
                return y;
            };
            for (const auto& isa : supported_matmul_isas()) {
                IsaScope scope(isa);
                CAPTURE(isa);
                ThreadPool one(1);
                const std::vector<float> reference = run(rounded, DenseActivations::Fp32, 1, one);
                CHECK(run(p, DenseActivations::Fp32, tokens, one) != reference);  // it rounds
                for (int threads : {1, 3}) {
                    CAPTURE(threads);
                    ThreadPool pool(threads);
                    for (int chunk : {1, 4, 9, tokens}) {
                        CAPTURE(chunk);
                        CHECK(differing_outputs(p, run(p, DenseActivations::Bf16, chunk, pool),
                                                reference) == 0);
                    }
                }
            }
        }
    }
}

TEST_CASE("matmul: mxfp4 tiles put every row's block and scale where the layout says") {
    std::mt19937 rng(41);
    for (int rows : {1, 8, 13, 16, 40}) {
        for (int cols : {32, 96}) {
            CAPTURE(rows);
            CAPTURE(cols);
            Mxfp4Weights w = random_mxfp4(rng, rows, cols, 100, 50);
            const Mxfp4Weights stored = w;
            const int groups = cols / 32;
            const int tiled = tile_mxfp4_expert(w.blocks.data(), w.scales.data(), rows, cols);
            CHECK(tiled == rows / 16 * 16);
            int bad = 0;
            for (int r = 0; r < rows; ++r)
                for (int g = 0; g < groups; ++g) {
                    for (int j = 0; j < 16; ++j)
                        bad += w.blocks[mxfp4_byte_offset(r, g, j, groups, tiled)] !=
                               stored.blocks[mxfp4_byte_offset(r, g, j, groups, 0)];
                    bad += w.scales[mxfp4_scale_offset(r, g, groups, tiled)] !=
                           stored.scales[mxfp4_scale_offset(r, g, groups, 0)];
                }
            CHECK(bad == 0);
            // The layout itself: in a tile, block g's piece k holds bytes 4k..4k+3 of row i at
            // 4i, and its scales are side by side.
            if (tiled > 0) {
                CHECK(mxfp4_byte_offset(5, 1, 6, groups, tiled) == 256 + 64 + 4 * 5 + 2);
                CHECK(mxfp4_scale_offset(5, 1, groups, tiled) == 16 + 5);
                CHECK(
                    mxfp4_byte_offset(21, 0, 15, groups, tiled) ==
                    (tiled > 16 ? 16u * groups * 16 + 3 * 64 + 4 * 5 + 3 : 21u * groups * 16 + 15));
            }
            if (tiled > 0 && groups > 1) CHECK(w.blocks != stored.blocks);
            untile_mxfp4_expert(w.blocks.data(), w.scales.data(), rows, cols);
            CHECK(w.blocks == stored.blocks);
            CHECK(w.scales == stored.scales);
        }
    }
}

TEST_CASE("matmul: int8 mxfp4 on tiled experts equals the stored layout, bit for bit") {
    // The loader tiles the experts for the CPU's int8 kernels (LoadOptions::tile_experts); a
    // token's result must not depend on it, whatever the rows a thread is given.
    std::mt19937 rng(43);
    for (int rows : {8, 9, 16, 17, 40, 64}) {
        for (int cols : {32, 288, 2880}) {
            CAPTURE(rows);
            CAPTURE(cols);
            const int tokens = 37;
            const Problem p = make_problem(rng, tokens, rows, cols, rows % 2 == 1);
            const Mxfp4Weights w = random_mxfp4(rng, rows, cols, 110, 30);
            Mxfp4Weights t = w;
            const int tiled = tile_mxfp4_expert(t.blocks.data(), t.scales.data(), rows, cols);
            for (const auto& isa : supported_matmul_isas()) {
                IsaScope scope(isa);
                CAPTURE(isa);
                for (int threads : {1, 3}) {
                    CAPTURE(threads);
                    ThreadPool pool(threads);
                    for (int chunk : {1, 3, 4, 6, 8, 37}) {
                        CAPTURE(chunk);
                        CHECK(differing_outputs(p, int8_in_chunks(p, w, chunk, pool),
                                                int8_in_chunks(p, t, chunk, pool, tiled)) == 0);
                    }
                }
                // In a batch with other products (as the MoE runs them), rows split unevenly.
                ThreadPool pool(3);
                std::vector<float> alone(p.ldy * tokens, -3.0f), batched(p.ldy * tokens, -3.0f),
                    other(p.ldy * tokens);
                matmul_mxfp4_int8(p.x.data(), p.ldx, tokens, w.blocks.data(), w.scales.data(), rows,
                                  cols, nullptr, alone.data(), p.ldy, pool);
                const std::vector<Mxfp4Product> products = {
                    {p.x.data(), p.ldx, 3, w.blocks.data(), w.scales.data(), rows - 3, cols,
                     nullptr, other.data(), p.ldy, 0},
                    {p.x.data(), p.ldx, tokens, t.blocks.data(), t.scales.data(), rows, cols,
                     nullptr, batched.data(), p.ldy, tiled}};
                matmul_mxfp4_batch(products, pool, Mxfp4Activations::Int8);
                CHECK(differing_outputs(p, alone, batched) == 0);
                if (tiled > 0)
                    CHECK_THROWS_AS(matmul_mxfp4_batch(products, pool, Mxfp4Activations::Fp32),
                                    std::invalid_argument);
            }
            ThreadPool pool(1);
            std::vector<float> y(p.ldy * tokens);
            CHECK_THROWS_AS(
                matmul_mxfp4_int8(p.x.data(), p.ldx, tokens, t.blocks.data(), t.scales.data(), rows,
                                  cols, nullptr, y.data(), p.ldy, pool, 4),
                std::invalid_argument);
        }
    }
}

TEST_CASE("matmul: a batch of mxfp4 products equals each product run alone, bit for bit") {
    // Products of different shapes and token counts (a MoE layer's experts), one of them too
    // large for the shared slab (it runs alone inside the batch call), one with no tokens.
    struct Shape {
        int tokens, rows, cols;
    };
    const Shape shapes[] = {{1, 37, 64}, {3, 64, 96},  {0, 8, 32},
                            {2, 5, 32},  {300, 9, 64}, {1, 130, 64}};
    std::mt19937 rng(7);
    std::vector<Problem> problems;
    std::vector<std::vector<std::uint8_t>> blocks, scales;
    for (const Shape& s : shapes) {
        problems.push_back(make_problem(rng, s.tokens, s.rows, s.cols, true));
        const auto groups =
            static_cast<std::size_t>(s.rows) * static_cast<std::size_t>(s.cols / 32);
        blocks.emplace_back(groups * 16);
        scales.emplace_back(groups);
        for (auto& b : blocks.back()) b = static_cast<std::uint8_t>(rng());
        for (auto& v : scales.back()) v = static_cast<std::uint8_t>(115 + rng() % 25);
    }
    for (const auto& isa : supported_matmul_isas())
        for (auto activations : {Mxfp4Activations::Fp32, Mxfp4Activations::Int8}) {
            IsaScope scope(isa);
            CAPTURE(isa);
            CAPTURE(std::string(to_string(activations)));
            auto alone_product = [&](auto&&... args) {
                if (activations == Mxfp4Activations::Int8)
                    matmul_mxfp4_int8(args...);
                else
                    matmul_mxfp4(args...);
            };
            for (int threads : {1, 3}) {
                CAPTURE(threads);
                ThreadPool pool(threads);
                std::vector<std::vector<float>> alone, batched;
                std::vector<Mxfp4Product> products;
                for (std::size_t i = 0; i < problems.size(); ++i) {
                    const Problem& p = problems[i];
                    const std::size_t size = p.ldy * static_cast<std::size_t>(p.tokens);
                    alone.emplace_back(size, -1.0f);
                    batched.emplace_back(size, -2.0f);
                    alone_product(p.x.data(), p.ldx, p.tokens, blocks[i].data(), scales[i].data(),
                                  p.rows, p.cols, p.bias.data(), alone.back().data(), p.ldy, pool);
                }
                for (std::size_t i = 0; i < problems.size(); ++i) {
                    const Problem& p = problems[i];
                    products.push_back({p.x.data(), p.ldx, p.tokens, blocks[i].data(),
                                        scales[i].data(), p.rows, p.cols, p.bias.data(),
                                        batched[i].data(), p.ldy});
                }
                matmul_mxfp4_batch(products, pool, activations);
                for (std::size_t i = 0; i < problems.size(); ++i) {
                    CAPTURE(i);
                    const Problem& p = problems[i];
                    // The padding beyond `rows` is left alone by both (so it keeps its fill).
                    for (int t = 0; t < p.tokens; ++t)
                        for (int r = 0; r < p.rows; ++r) {
                            const std::size_t at = static_cast<std::size_t>(t) * p.ldy + r;
                            if (std::memcmp(&alone[i][at], &batched[i][at], sizeof(float)) != 0)
                                FAIL_CHECK("y[" << t << ", " << r << "]: " << batched[i][at]
                                                << " batched, " << alone[i][at] << " alone");
                        }
                }
            }
        }
}
