#include "engine/cpu/matmul.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace gossamer::engine::cpu {
namespace {

constexpr float kE2M1[16] = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
                             -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

// Rows per task: enough work per chunk to amortise the dispatch.
constexpr std::size_t kRowGrain = 16;

float dot(const float* a, const float* b, int n) {
    float acc[8] = {};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; ++l) acc[l] += a[i + l] * b[i + l];
    float sum = 0;
    for (; i < n; ++i) sum += a[i] * b[i];
    for (float v : acc) sum += v;
    return sum;
}

// Decodes one weight row to fp32, then dots it with every token's activations.
template <typename DecodeRow>
void rows_times_tokens(const float* x, std::size_t ldx, int tokens, int rows, int cols,
                       const float* bias, float* y, std::size_t ldy, ThreadPool& pool,
                       DecodeRow decode_row) {
    pool.parallel_for(static_cast<std::size_t>(rows), kRowGrain,
                      [&](std::size_t begin, std::size_t end) {
                          thread_local std::vector<float> row;
                          row.resize(static_cast<std::size_t>(cols));
                          for (std::size_t r = begin; r < end; ++r) {
                              decode_row(static_cast<int>(r), row.data());
                              const float b = bias ? bias[r] : 0.0f;
                              for (int t = 0; t < tokens; ++t)
                                  y[static_cast<std::size_t>(t) * ldy + r] =
                                      b + dot(x + static_cast<std::size_t>(t) * ldx, row.data(), cols);
                          }
                      });
}

}  // namespace

float bf16_to_float(std::uint16_t bits) {
    const std::uint32_t wide = static_cast<std::uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &wide, sizeof value);
    return value;
}

std::uint16_t float_to_bf16(float value) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    if (std::isnan(value)) return static_cast<std::uint16_t>((bits >> 16) | 0x40);  // stay NaN
    const std::uint32_t rounding = 0x7fff + ((bits >> 16) & 1);  // nearest, ties to even
    return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

float mxfp4_value(std::uint8_t nibble, std::uint8_t scale) {
    return std::ldexp(kE2M1[nibble & 0x0f], static_cast<int>(scale) - 127);
}

const char* matmul_isa() { return "portable"; }

void matmul_bf16(const float* x, std::size_t ldx, int tokens, const std::uint16_t* w, int rows,
                 int cols, const float* bias, float* y, std::size_t ldy, ThreadPool& pool) {
    rows_times_tokens(x, ldx, tokens, rows, cols, bias, y, ldy, pool, [&](int r, float* out) {
        const std::uint16_t* in = w + static_cast<std::size_t>(r) * static_cast<std::size_t>(cols);
        for (int c = 0; c < cols; ++c) out[c] = bf16_to_float(in[c]);
    });
}

void matmul_mxfp4(const float* x, std::size_t ldx, int tokens, const std::uint8_t* blocks,
                  const std::uint8_t* scales, int rows, int cols, const float* bias, float* y,
                  std::size_t ldy, ThreadPool& pool) {
    const int groups = cols / 32;
    rows_times_tokens(x, ldx, tokens, rows, cols, bias, y, ldy, pool, [&](int r, float* out) {
        const std::uint8_t* b = blocks + static_cast<std::size_t>(r) * static_cast<std::size_t>(groups) * 16;
        const std::uint8_t* s = scales + static_cast<std::size_t>(r) * static_cast<std::size_t>(groups);
        for (int g = 0; g < groups; ++g) {
            const float scale = std::ldexp(1.0f, static_cast<int>(s[g]) - 127);
            for (int i = 0; i < 16; ++i) {
                const std::uint8_t byte = b[g * 16 + i];
                out[g * 32 + 2 * i] = kE2M1[byte & 0x0f] * scale;
                out[g * 32 + 2 * i + 1] = kE2M1[byte >> 4] * scale;
            }
        }
    });
}

}  // namespace gossamer::engine::cpu
