// SHA-256 (FIPS 180-4), used to verify the vendored rank file at load. Not a general crypto
// library: no HMAC, no streaming API beyond what verification needs.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gossamer::harmony {

std::array<std::uint8_t, 32> sha256(std::string_view data);
// Lowercase hex of sha256(data), e.g. "446a9538...1a2d".
std::string sha256_hex(std::string_view data);

}  // namespace gossamer::harmony
