// libFuzzer target for the remote engines' answers (runtime/engine_wire.h): the first byte
// picks the shape (generate, completions, SGLang) and streamed or whole, the second how many
// bytes each feed() gets; the rest is the answer body.
// Properties: no crash, no sanitizer report, failures only as WireError; once a decoder says
// the generation ended it stays ended; token ids are never negative; the same bytes fed in
// one piece decode to the same tokens.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "runtime/engine_wire.h"

namespace {

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "fuzz_engine_wire: %s\n", what);
    std::abort();
}

// The tokens, or nullopt when the answer is malformed.
std::optional<std::vector<std::int32_t>> decode(gossamer::runtime::WireShape shape, bool stream,
                                                const std::string& body, std::size_t piece) {
    gossamer::runtime::WireDecoder d(shape, stream);
    std::vector<std::int32_t> tokens;
    bool ended = false;
    auto take = [&](const std::vector<gossamer::runtime::WireChunk>& chunks) {
        for (const auto& c : chunks) {
            if (ended) broken("a frame after the end");
            for (auto t : c.tokens)
                if (t < 0) broken("a negative token id");
            tokens.insert(tokens.end(), c.tokens.begin(), c.tokens.end());
            ended = ended || c.finish.has_value();
        }
        if (ended && !d.finished()) broken("an end the decoder forgot");
    };
    try {
        for (std::size_t i = 0; i < body.size(); i += piece)
            take(d.feed(std::string_view(body).substr(i, piece)));
        take(d.end());
    } catch (const gossamer::runtime::WireError&) {
        return std::nullopt;
    }
    if (!ended) broken("end() returned without an end");
    return tokens;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    using gossamer::runtime::WireShape;
    const WireShape shapes[] = {WireShape::generate, WireShape::completions, WireShape::sglang};
    const WireShape shape = shapes[data[0] % 3];
    const bool stream = (data[0] / 3) % 2 == 1;
    const std::size_t piece = 1 + data[1] % 64;
    const std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);
    const auto pieces = decode(shape, stream, body, piece);
    const auto whole = decode(shape, stream, body, body.size() + 1);
    if (pieces.has_value() != whole.has_value()) {
        // A stream may fail early in pieces on bytes that one feed never reaches (after the
        // end); a whole answer is parsed once. Only the same verdict for whole answers counts.
        if (!stream) broken("whole and piecewise disagree on an answer");
    } else if (pieces && *pieces != *whole) {
        broken("the same bytes in other pieces gave other tokens");
    }
    return 0;
}
