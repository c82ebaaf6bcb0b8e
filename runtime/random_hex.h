// Random lowercase hex digits from a per-thread generator, never all zero (W3C trace context
// forbids all-zero ids): the one source of the ids gossamer hands out (sessions, fleets,
// server responses and calls, trace and span ids). Not secrets: they name things, they guard
// nothing; no I/O.
#pragma once

#include <cstddef>
#include <random>
#include <string>

namespace gossamer::runtime {

inline std::string random_hex(std::size_t digits) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    do {
        out.clear();
        for (std::size_t i = 0; i < digits; ++i) out += kHex[rng() & 15];
    } while (digits > 0 && out.find_first_not_of('0') == std::string::npos);
    return out;
}

}  // namespace gossamer::runtime
