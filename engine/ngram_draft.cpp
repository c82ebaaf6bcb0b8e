#include "engine/ngram_draft.h"

#include <algorithm>

namespace gossamer::engine {

std::vector<std::int32_t> ngram_draft(std::span<const std::int32_t> tokens,
                                      const DraftOptions& options) {
    const auto size = static_cast<long>(tokens.size());
    const long lowest = std::max(0L, size - options.window);
    for (long n = std::min<long>(options.max_ngram, size - 1); n >= options.min_ngram && n > 0;
         --n) {
        const auto suffix = tokens.subspan(static_cast<std::size_t>(size - n));
        // The most recent earlier occurrence: start positions from size - n - 1 down.
        for (long at = size - n - 1; at >= lowest; --at) {
            if (tokens[static_cast<std::size_t>(at)] != suffix[0]) continue;
            if (!std::equal(suffix.begin(), suffix.end(),
                            tokens.begin() + static_cast<std::ptrdiff_t>(at)))
                continue;
            const long from = at + n;
            const long to = std::min(size, from + options.max_tokens);
            if (from >= to) continue;
            return {tokens.begin() + static_cast<std::ptrdiff_t>(from),
                    tokens.begin() + static_cast<std::ptrdiff_t>(to)};
        }
    }
    return {};
}

}  // namespace gossamer::engine
