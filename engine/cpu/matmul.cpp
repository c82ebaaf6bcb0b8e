// Dispatch, threading and activation packing for the CPU matmuls, plus the portable kernels
// (decode one weight row to fp32, then dot it with every token). The SIMD kernels live in
// matmul_avx2.cpp and matmul_avx512.cpp; matmul_kernels.h says how they are called.
#include "engine/cpu/matmul.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/cpu/cpu_features.h"
#include "engine/cpu/matmul_kernels.h"
#include "engine/mxfp4_tiles.h"

namespace gossamer::engine::cpu {

using detail::MatmulArgs;
using detail::MatmulKernels;

namespace {

constexpr float kE2M1[16] = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
                             -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

// Rows are handed to the kernels in units of kRowUnit (a product's rows [16u, 16u + 16),
// the last unit possibly short), so a kernel's row range always starts on a tile of
// engine/mxfp4_tiles.h. A task holds enough work to amortise the dispatch: waking a sleeping
// worker costs tens of microseconds (more in a VM), so a chunk also holds at least kChunkWork
// multiply-adds: small matrices (gpt-oss-nano's, a decode step's) run on the calling thread.
constexpr std::size_t kRowUnit = kMxfp4TileRows;
constexpr std::size_t kChunkWork = std::size_t{1} << 16;

std::size_t units_of(std::size_t rows) {
    return (rows + kRowUnit - 1) / kRowUnit;
}

// Units per task for rows of `row_work` multiply-adds each.
std::size_t unit_grain(std::size_t row_work) {
    return units_of(kChunkWork / std::max<std::size_t>(row_work, 1));
}
// Tokens packed and handed to the kernels at a time: bounds the packing buffer
// (kTokenSlab x cols floats) and how long a weight row stays unread between uses.
constexpr int kTokenSlab = 256;

// mxfp4_value for every (scale, nibble): one 64-byte row per scale byte, so a kernel decodes a
// block with one table row and a 16-entry permute; exact for all 256 scales, 255 included.
struct Mxfp4Lut {
    alignas(64) float v[256][16];
};

const Mxfp4Lut& mxfp4_lut() {
    static const Mxfp4Lut lut = [] {
        Mxfp4Lut t{};
        for (int s = 0; s < 256; ++s)
            for (int n = 0; n < 16; ++n)
                t.v[s][n] = mxfp4_value(static_cast<std::uint8_t>(n), static_cast<std::uint8_t>(s));
        return t;
    }();
    return lut;
}

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

template <typename DecodeRow>
void portable_rows(const MatmulArgs& a, int row_begin, int row_end, DecodeRow decode_row) {
    thread_local std::vector<float> row;
    row.resize(static_cast<std::size_t>(a.cols));
    for (int r = row_begin; r < row_end; ++r) {
        decode_row(r, row.data());
        const float b = a.bias ? a.bias[r] : 0.0f;
        for (int t = 0; t < a.tokens; ++t)
            a.y[static_cast<std::size_t>(t) * a.ldy + static_cast<std::size_t>(r)] =
                b + dot(a.x + static_cast<std::size_t>(t) * a.ldx, row.data(), a.cols);
    }
}

void portable_bf16(const MatmulArgs& a, int row_begin, int row_end) {
    const auto cols = static_cast<std::size_t>(a.cols);
    portable_rows(a, row_begin, row_end, [&](int r, float* out) {
        const std::uint16_t* in = a.w_bf16 + static_cast<std::size_t>(r) * cols;
        for (std::size_t c = 0; c < cols; ++c) out[c] = bf16_to_float(in[c]);
    });
}

void portable_mxfp4(const MatmulArgs& a, int row_begin, int row_end) {
    const auto groups = static_cast<std::size_t>(a.cols / 32);
    portable_rows(a, row_begin, row_end, [&](int r, float* out) {
        const std::uint8_t* b = a.blocks + static_cast<std::size_t>(r) * groups * 16;
        const std::uint8_t* s = a.scales + static_cast<std::size_t>(r) * groups;
        for (std::size_t g = 0; g < groups; ++g) {
            const float* lut = a.mxfp4_lut + 16 * static_cast<std::size_t>(s[g]);
            for (std::size_t i = 0; i < 16; ++i) {
                const std::uint8_t byte = b[g * 16 + i];
                out[g * 32 + 2 * i] = lut[byte & 0x0f];
                out[g * 32 + 2 * i + 1] = lut[byte >> 4];
            }
        }
    });
}

void portable_mxfp4_int8(const MatmulArgs& a, int row_begin, int row_end) {
    const int groups = a.cols / 32;
    for (int r = row_begin; r < row_end; ++r) {
        auto byte = [&](int g, int j) {
            return a.blocks[mxfp4_byte_offset(r, g, j, groups, a.tiled_rows)];
        };
        auto scale = [&](int g) {
            return a.scales[mxfp4_scale_offset(r, g, groups, a.tiled_rows)];
        };
        const float bias = a.bias ? a.bias[r] : 0.0f;
        for (int t = 0; t < a.tokens; ++t) {
            const std::int8_t* q = a.xq + static_cast<std::size_t>(t) * a.ldq;
            const float* d = a.xd + static_cast<std::size_t>(t) * a.lds;
            const std::int32_t* c = a.xs + static_cast<std::size_t>(t) * a.lds;
            float acc = 0;
            for (int g = 0; g < groups; ++g) {
                std::int32_t sum = -c[g];
                const std::int8_t* qg = q + 32 * static_cast<std::size_t>(g);
                for (int i = 0; i < 16; ++i) {
                    const std::uint8_t b = byte(g, i);
                    sum += detail::kUnsignedE2M1x2[b & 0x0f] * qg[i];
                    sum += detail::kUnsignedE2M1x2[b >> 4] * qg[16 + i];
                }
                // As every kernel: one fused multiply-add per block (matmul_kernels.h).
                acc = std::fma(static_cast<float>(sum), mxfp4_value(1, scale(g)) * d[g], acc);
            }
            a.y[static_cast<std::size_t>(t) * a.ldy + static_cast<std::size_t>(r)] = bias + acc;
        }
    }
}

// Implementations by rank: 0 portable, 1 avx2, 2 avx512, 3 avx512vnni, 4 avx512bf16.
constexpr const char* kIsaNames[] = {"portable", "avx2", "avx512", "avx512vnni", "avx512bf16"};
constexpr int kBestRank = 4;

int isa_rank(std::string_view name) {
    for (int i = 0; i <= kBestRank; ++i)
        if (name == kIsaNames[i]) return i;
    return -1;
}

// The kernels of that rank if this build has them and this CPU runs them, else null.
const MatmulKernels* kernels_of_rank(int rank) {
    const CpuFeatures& f = cpu_features();
    switch (rank) {
        case 0:
            return detail::portable_kernels();
        case 1:
            return f.avx2_fma ? detail::avx2_kernels() : nullptr;
        case 2:
            return f.avx512 ? detail::avx512_kernels() : nullptr;
        case 3:
            return f.avx512_vnni ? detail::avx512vnni_kernels() : nullptr;
        case 4:
            return f.avx512_bf16 ? detail::avx512bf16_kernels() : nullptr;
        default:
            return nullptr;
    }
}

const MatmulKernels* best_at_or_below(int rank) {
    for (int r = rank; r > 0; --r)
        if (const MatmulKernels* k = kernels_of_rank(r)) return k;
    return detail::portable_kernels();
}

// The int8 MXFP4 kernel of `k`, or of the best implementation below it that has one.
detail::RowKernel int8_kernel(const MatmulKernels& k) {
    if (k.mxfp4_int8) return k.mxfp4_int8;
    for (int r = isa_rank(k.name) - 1; r > 0; --r)
        if (const MatmulKernels* below = kernels_of_rank(r); below && below->mxfp4_int8)
            return below->mxfp4_int8;
    return portable_mxfp4_int8;
}

const MatmulKernels* choose_at_startup() {
    const char* env = std::getenv("GOSSAMER_CPU_ISA");
    if (!env || !*env) return best_at_or_below(kBestRank);
    if (isa_rank(env) < 0)
        std::fprintf(stderr,
                     "gossamer: GOSSAMER_CPU_ISA=%s is not one of portable, avx2, avx512, "
                     "avx512vnni, avx512bf16; using the best this CPU supports\n",
                     env);
    return best_at_or_below(isa_rank(env) < 0 ? kBestRank : isa_rank(env));
}

std::atomic<const MatmulKernels*>& active_kernels() {
    static std::atomic<const MatmulKernels*> active{choose_at_startup()};
    return active;
}

// Copies x into the order a kernel expects (detail::Packing).
void pack_activations(const float* x, std::size_t ldx, int tokens, int cols,
                      const detail::Packing& packing, float* out, std::size_t ldo) {
    const int group = packing.group;
    for (int t = 0; t < tokens; ++t) {
        const float* src = x + static_cast<std::size_t>(t) * ldx;
        float* dst = out + static_cast<std::size_t>(t) * ldo;
        int c = 0;
        for (; c + group <= cols; c += group)
            for (int i = 0; i < group; ++i) dst[c + i] = src[c + packing.order[i]];
        for (; c < cols; ++c) dst[c] = src[c];
    }
}

// Rounds n floats to bf16 in place (float_to_bf16, back to float: exact).
void round_to_bf16(float* x, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) x[i] = bf16_to_float(float_to_bf16(x[i]));
}

// x as bf16 in the layout of MatmulArgs::xb: each full 32-column group's pairs swapped
// (column 2i + 1, then 2i), the tail in natural order.
void pack_bf16_pairs(const float* x, std::size_t ldx, int tokens, int cols, std::uint16_t* out,
                     std::size_t ldo) {
    const int full = cols / 32 * 32;
    for (int t = 0; t < tokens; ++t) {
        const float* src = x + static_cast<std::size_t>(t) * ldx;
        std::uint16_t* dst = out + static_cast<std::size_t>(t) * ldo;
        int c = 0;
        for (; c < full; c += 2) {
            dst[c] = float_to_bf16(src[c + 1]);
            dst[c + 1] = float_to_bf16(src[c]);
        }
        for (; c < cols; ++c) dst[c] = float_to_bf16(src[c]);
    }
}

// Floats per packed activation row: padded to 64 bytes so every token's row starts aligned.
std::size_t packed_stride(int cols) {
    return (static_cast<std::size_t>(cols) + 15) / 16 * 16;
}

void check_tiles(int tiled_rows, int rows) {
    if (tiled_rows < 0 || tiled_rows > rows || tiled_rows % kMxfp4TileRows != 0)
        throw std::invalid_argument("matmul: tiled_rows " + std::to_string(tiled_rows) +
                                    " is not a multiple of 16 in [0, " + std::to_string(rows) +
                                    "]");
}

// An MXFP4 product's kernel arguments; the activations (x, ldx) are the caller's to set.
MatmulArgs mxfp4_args(const Mxfp4Product& p) {
    MatmulArgs a;
    a.tokens = p.tokens;
    a.cols = p.cols;
    a.blocks = p.blocks;
    a.scales = p.scales;
    a.mxfp4_lut = &mxfp4_lut().v[0][0];
    a.bias = p.bias;
    a.y = p.y;
    a.ldy = p.ldy;
    a.tiled_rows = p.tiled_rows;
    return a;
}

// Aligned scratch of at least `floats` floats for packed activations (64-byte aligned).
float* packing_buffer(std::vector<float>& buffer, std::size_t floats) {
    buffer.resize(floats + 16);
    const auto misalign = reinterpret_cast<std::uintptr_t>(buffer.data()) % 64 / sizeof(float);
    return buffer.data() + (misalign ? 16 - misalign : 0);
}

// No float packing: int8 activations arrive quantised in their own layout (quantize_int8).
constexpr detail::Packing kNatural{0, nullptr};

// Int8 activations in the q8 block layout (MatmulArgs: xq, xd, xs) for a slab of tokens.
struct Int8Activations {
    std::vector<std::int8_t> q;
    std::vector<float> d;
    std::vector<std::int32_t> s;
};

// x rounded to the nearest integer, ties to even (as std::nearbyint in the default rounding
// mode) for |x| < 2^22: adding and subtracting 1.5 * 2^23 rounds in the fp32 adder, without
// a libm call (IEEE arithmetic: the project never builds with -ffast-math, which could fold
// it away).
float round_even(float x) {
    constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
    return (x + kMagic) - kMagic;
}

// Quantises x [tokens, cols] (cols % 32 == 0) into `out`: per 32-column block, scale
// amax / 127 and q = round(x / scale) (ties to even), 0 for an all-zero block.
void quantize_int8(const float* x, std::size_t ldx, int tokens, int cols, Int8Activations& out,
                   ThreadPool& pool) {
    const auto groups = static_cast<std::size_t>(cols / 32);
    const auto end = static_cast<std::size_t>(tokens);
    out.q.resize(end * static_cast<std::size_t>(cols));
    out.d.resize(end * groups);
    out.s.resize(end * groups);
    pool.parallel_for_work(
        end, 4 * static_cast<std::size_t>(cols), [&](std::size_t first, std::size_t last) {
            for (std::size_t row = first; row < last; ++row) {
                const float* src = x + row * ldx;
                std::int8_t* q = out.q.data() + row * static_cast<std::size_t>(cols);
                for (std::size_t g = 0; g < groups; ++g) {
                    const float* v = src + 32 * g;
                    float amax = 0;
                    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(v[i]));
                    const float d = amax / 127.0f;
                    const float inverse = amax > 0 ? 127.0f / amax : 0.0f;
                    std::int32_t sum = 0;
                    for (int i = 0; i < 16; ++i) {
                        const auto even = static_cast<std::int8_t>(round_even(v[2 * i] * inverse));
                        const auto odd =
                            static_cast<std::int8_t>(round_even(v[2 * i + 1] * inverse));
                        q[32 * g + static_cast<std::size_t>(i)] = even;
                        q[32 * g + 16 + static_cast<std::size_t>(i)] = odd;
                        sum += even + odd;
                    }
                    out.d[row * groups + g] = d;
                    out.s[row * groups + g] = detail::kInt8WeightOffset * sum;
                }
            }
        });
}

// Points `a` at the activations of `in` (quantised with `cols` columns).
void use_int8(MatmulArgs& a, const Int8Activations& in, int cols) {
    a.ldq = static_cast<std::size_t>(cols);
    a.lds = static_cast<std::size_t>(cols / 32);
    a.xq = in.q.data();
    a.xd = in.d.data();
    a.xs = in.s.data();
}

enum class Format { Bf16, Mxfp4, Mxfp4Int8 };

// A format's kernel on `k` and how it wants its float activations packed.
struct FormatKernel {
    detail::RowKernel kernel;
    const detail::Packing& packing;
};

FormatKernel kernel_for(const MatmulKernels& k, Format format) {
    switch (format) {
        case Format::Bf16:
            return {k.bf16, k.bf16_packing};
        case Format::Mxfp4:
            return {k.mxfp4, k.mxfp4_packing};
        case Format::Mxfp4Int8:
            break;
    }
    return {int8_kernel(k), kNatural};
}

// Runs one format's kernel over all rows, a slab of tokens at a time. bf16: the bf16 format
// with activations rounded to bf16 (DenseActivations::Bf16).
void run(MatmulArgs args, const float* x, std::size_t ldx, int rows, ThreadPool& pool,
         Format format, bool bf16 = false) {
    if (args.tokens <= 0 || rows <= 0) return;
    const MatmulKernels& k = *active_kernels().load(std::memory_order_acquire);
    const bool int8 = format == Format::Mxfp4Int8;
    // Not a structured binding: lambdas below capture `kernel` (clang 14, the fuzz preset's,
    // refuses captured bindings).
    const FormatKernel chosen = kernel_for(k, format);
    const bool pairs = bf16 && k.bf16_bf16;  // the vdpbf16ps kernel takes bf16 pairs
    const detail::RowKernel kernel = pairs ? k.bf16_bf16 : chosen.kernel;
    const detail::Packing& packing = chosen.packing;
    thread_local Int8Activations quantized;
    const int tokens = args.tokens;
    const std::size_t ldp = packed_stride(args.cols);
    const std::size_t slab = static_cast<std::size_t>(std::min(tokens, kTokenSlab));
    thread_local std::vector<float> packed;
    float* base = nullptr;
    // bf16 values per row of xb: 64-byte aligned rows
    const std::size_t ldb = (static_cast<std::size_t>(args.cols) + 31) / 32 * 32;
    if (pairs)
        base = packing_buffer(packed, ldb / 2 * slab);
    else if (packing.group > 0 || bf16)
        base = packing_buffer(packed, ldp * slab);
    float* const y = args.y;
    for (int t0 = 0; t0 < tokens; t0 += kTokenSlab) {
        const int n = std::min(kTokenSlab, tokens - t0);
        const float* xs = x + static_cast<std::size_t>(t0) * ldx;
        if (int8) {
            quantize_int8(xs, ldx, n, args.cols, quantized, pool);
            use_int8(args, quantized, args.cols);
        } else if (pairs) {
            auto* xb = reinterpret_cast<std::uint16_t*>(base);
            pack_bf16_pairs(xs, ldx, n, args.cols, xb, ldb);
            args.xb = xb;
            args.ldxb = ldb;
        } else if (packing.group > 0 || bf16) {
            if (packing.group > 0)
                pack_activations(xs, ldx, n, args.cols, packing, base, ldp);
            else  // natural order, copied so that it can be rounded
                for (int t = 0; t < n; ++t)
                    std::memcpy(base + static_cast<std::size_t>(t) * ldp,
                                xs + static_cast<std::size_t>(t) * ldx,
                                static_cast<std::size_t>(args.cols) * sizeof(float));
            if (bf16) round_to_bf16(base, ldp * static_cast<std::size_t>(n));
            args.x = base;
            args.ldx = ldp;
        } else {
            args.x = xs;
            args.ldx = ldx;
        }
        args.tokens = n;
        args.y = y + static_cast<std::size_t>(t0) * args.ldy;
        const std::size_t row_work =
            static_cast<std::size_t>(args.cols) * static_cast<std::size_t>(n);
        const auto all = static_cast<std::size_t>(rows);
        pool.parallel_for(units_of(all), unit_grain(row_work),
                          [&](std::size_t begin, std::size_t end) {
                              kernel(args, static_cast<int>(begin * kRowUnit),
                                     static_cast<int>(std::min(end * kRowUnit, all)));
                          });
    }
}

}  // namespace

namespace detail {

std::uint8_t* kernel_scratch(std::size_t bytes) {
    struct Buffer {
        std::uint8_t* data = nullptr;
        std::size_t capacity = 0;
        ~Buffer() { std::free(data); }
    };
    thread_local Buffer buffer;
    if (buffer.capacity < bytes) {
        std::free(buffer.data);
        buffer.capacity = 0;
        buffer.data = static_cast<std::uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64));
        if (!buffer.data) throw std::bad_alloc();
        buffer.capacity = bytes;
    }
    return buffer.data;
}

Mxfp4RowAt mxfp4_row_at(const MatmulArgs& a, int r) {
    const int groups = a.cols / 32;
    const bool tiled = r < a.tiled_rows;
    return {a.blocks + mxfp4_byte_offset(r, 0, 0, groups, a.tiled_rows),
            mxfp4_byte_offset(r, 1, 0, groups, a.tiled_rows) -
                mxfp4_byte_offset(r, 0, 0, groups, a.tiled_rows),
            mxfp4_byte_offset(r, 0, 4, groups, a.tiled_rows) -
                mxfp4_byte_offset(r, 0, 0, groups, a.tiled_rows),
            a.scales + mxfp4_scale_offset(r, 0, groups, a.tiled_rows),
            tiled ? std::size_t{kMxfp4TileRows} : std::size_t{1}};
}

bool mxfp4_whole_tiles(const MatmulArgs& a, int r0, int r1) {
    return r0 % kMxfp4TileRows == 0 && r1 % kMxfp4TileRows == 0 && r1 <= a.tiled_rows;
}

const MatmulKernels* portable_kernels() {
    static const MatmulKernels kernels{"portable",   {0, nullptr},   portable_bf16,
                                       {0, nullptr}, portable_mxfp4, portable_mxfp4_int8,
                                       nullptr};
    return &kernels;
}

}  // namespace detail

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

void matmul_mxfp4_batch(std::span<const Mxfp4Product> products, ThreadPool& pool,
                        Mxfp4Activations activations) {
    const bool int8 = activations == Mxfp4Activations::Int8;
    for (const Mxfp4Product& p : products) {
        check_tiles(p.tiled_rows, p.rows);
        if (p.tiled_rows > 0 && !int8)
            throw std::invalid_argument(
                "matmul: MXFP4 experts in 16-row tiles need int8 activations (no fp32 kernel reads "
                "tiles)");
    }
    // Products whose activations together fit one slab run as one loop; the rest singly.
    std::vector<const Mxfp4Product*> batch;
    int batch_tokens = 0;
    for (const Mxfp4Product& p : products) {
        if (p.tokens <= 0 || p.rows <= 0) continue;
        if (batch_tokens + p.tokens > kTokenSlab) {
            if (int8)
                matmul_mxfp4_int8(p.x, p.ldx, p.tokens, p.blocks, p.scales, p.rows, p.cols, p.bias,
                                  p.y, p.ldy, pool, p.tiled_rows);
            else
                matmul_mxfp4(p.x, p.ldx, p.tokens, p.blocks, p.scales, p.rows, p.cols, p.bias, p.y,
                             p.ldy, pool);
            continue;
        }
        batch.push_back(&p);
        batch_tokens += p.tokens;
    }
    if (batch.empty()) return;
    const MatmulKernels& k = *active_kernels().load(std::memory_order_acquire);
    const FormatKernel chosen = kernel_for(k, int8 ? Format::Mxfp4Int8 : Format::Mxfp4);
    const detail::RowKernel kernel = chosen.kernel;  // captured below: not a binding
    const detail::Packing& packing = chosen.packing;
    // Each product's arguments, its activations packed in turn into one buffer; its row
    // units are [first_unit[i], first_unit[i + 1]) of the concatenation the loop runs over.
    std::vector<MatmulArgs> args(batch.size());
    std::vector<std::size_t> first_unit(batch.size() + 1, 0);
    std::size_t packed_floats = 0;
    for (const Mxfp4Product* p : batch)
        packed_floats += packed_stride(p->cols) * static_cast<std::size_t>(p->tokens);
    thread_local std::vector<float> packed;
    float* next = packing.group > 0 ? packing_buffer(packed, packed_floats) : nullptr;
    // Int8: each product's tokens quantised into its own buffer.
    thread_local std::vector<Int8Activations> quantized;
    if (int8) quantized.resize(std::max(quantized.size(), batch.size()));
    std::size_t work = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const Mxfp4Product& p = *batch[i];
        MatmulArgs& a = args[i] = mxfp4_args(p);
        if (int8) {
            quantize_int8(p.x, p.ldx, p.tokens, p.cols, quantized[i], pool);
            use_int8(a, quantized[i], p.cols);
        } else if (packing.group > 0) {
            a.ldx = packed_stride(p.cols);
            pack_activations(p.x, p.ldx, p.tokens, p.cols, packing, next, a.ldx);
            a.x = next;
            next += a.ldx * static_cast<std::size_t>(p.tokens);
        } else {
            a.x = p.x;
            a.ldx = p.ldx;
        }
        first_unit[i + 1] = first_unit[i] + units_of(static_cast<std::size_t>(p.rows));
        work += static_cast<std::size_t>(p.rows) * static_cast<std::size_t>(p.cols) *
                static_cast<std::size_t>(p.tokens);
    }
    const std::size_t units = first_unit.back();
    const std::size_t row_work = std::max<std::size_t>(work / (units * kRowUnit), 1);
    pool.parallel_for(units, unit_grain(row_work), [&](std::size_t begin, std::size_t end) {
        auto i = static_cast<std::size_t>(
            std::upper_bound(first_unit.begin(), first_unit.end(), begin) - first_unit.begin() - 1);
        for (; begin < end; ++i) {
            const std::size_t stop = std::min(end, first_unit[i + 1]);
            const auto rows = static_cast<std::size_t>(batch[i]->rows);
            kernel(args[i], static_cast<int>((begin - first_unit[i]) * kRowUnit),
                   static_cast<int>(std::min((stop - first_unit[i]) * kRowUnit, rows)));
            begin = stop;
        }
    });
}

const char* matmul_isa() {
    return active_kernels().load(std::memory_order_acquire)->name;
}

const char* resolve_matmul_isa(std::string_view requested) {
    const int rank = isa_rank(requested);
    return best_at_or_below(rank < 0 ? kBestRank : rank)->name;
}

std::vector<std::string> supported_matmul_isas() {
    std::vector<std::string> names;
    for (int r = kBestRank; r >= 0; --r)
        if (kernels_of_rank(r)) names.emplace_back(kIsaNames[r]);
    return names;
}

bool select_matmul_isa(std::string_view isa) {
    const MatmulKernels* k = kernels_of_rank(isa_rank(isa));
    if (!k) return false;
    active_kernels().store(k, std::memory_order_release);
    return true;
}

void matmul_bf16(const float* x, std::size_t ldx, int tokens, const std::uint16_t* w, int rows,
                 int cols, const float* bias, float* y, std::size_t ldy, ThreadPool& pool,
                 DenseActivations activations) {
    MatmulArgs args;
    args.tokens = tokens;
    args.cols = cols;
    args.w_bf16 = w;
    args.bias = bias;
    args.y = y;
    args.ldy = ldy;
    run(args, x, ldx, rows, pool, Format::Bf16, activations == DenseActivations::Bf16);
}

void matmul_mxfp4(const float* x, std::size_t ldx, int tokens, const std::uint8_t* blocks,
                  const std::uint8_t* scales, int rows, int cols, const float* bias, float* y,
                  std::size_t ldy, ThreadPool& pool) {
    run(mxfp4_args({x, ldx, tokens, blocks, scales, rows, cols, bias, y, ldy}), x, ldx, rows, pool,
        Format::Mxfp4);
}

void matmul_mxfp4_int8(const float* x, std::size_t ldx, int tokens, const std::uint8_t* blocks,
                       const std::uint8_t* scales, int rows, int cols, const float* bias, float* y,
                       std::size_t ldy, ThreadPool& pool, int tiled_rows) {
    check_tiles(tiled_rows, rows);
    run(mxfp4_args({x, ldx, tokens, blocks, scales, rows, cols, bias, y, ldy, tiled_rows}), x, ldx,
        rows, pool, Format::Mxfp4Int8);
}

}  // namespace gossamer::engine::cpu
