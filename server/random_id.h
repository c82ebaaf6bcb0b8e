// The ids the server hands out ("resp_...", "call_...", "chatcmpl-..."): a prefix and random
// hex digits (runtime/random_hex.h). Not secrets: they name things, they guard nothing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "runtime/random_hex.h"

namespace gossamer::server {

inline std::string random_id(std::string_view prefix, std::size_t hex_digits) {
    return std::string(prefix) + runtime::random_hex(hex_digits);
}

}  // namespace gossamer::server
