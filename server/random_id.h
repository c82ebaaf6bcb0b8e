// The ids the server hands out ("resp_...", "call_...", "chatcmpl-..."): a prefix and random
// hex digits from a per-thread generator. Not secrets: they name things, they guard nothing.
#pragma once

#include <cstddef>
#include <random>
#include <string>
#include <string_view>

namespace gossamer::server {

inline std::string random_id(std::string_view prefix, std::size_t hex_digits) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(prefix);
    for (std::size_t i = 0; i < hex_digits; ++i) out += kHex[rng() & 15];
    return out;
}

}  // namespace gossamer::server
