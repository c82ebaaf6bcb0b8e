#include "engine/cpu/shared_rows.h"

#include <algorithm>
#include <cstring>

namespace gossamer::engine::cpu {

std::optional<SharedRows> find_shared_rows(const std::uint16_t* w, int rows, int cols,
                                           double min_fraction) {
    if (rows < 8 || cols <= 0) return std::nullopt;
    const std::size_t bytes = static_cast<std::size_t>(cols) * sizeof(std::uint16_t);
    auto row = [&](int r) {
        return w + static_cast<std::size_t>(r) * static_cast<std::size_t>(cols);
    };
    // Candidates: a few rows spread over the table (an unused tail or bulk shows up in them).
    for (const int candidate : {rows - 1, rows / 2, rows / 4, (3 * rows) / 4}) {
        const std::uint16_t* value = row(candidate);
        int same = 0;
        for (int r = 0; r < rows; ++r) same += std::memcmp(row(r), value, bytes) == 0;
        if (same < 2 || static_cast<double>(same) < min_fraction * rows) continue;
        SharedRows out;
        out.shared_count = same;
        out.ids.reserve(static_cast<std::size_t>(rows - same));
        for (int r = 0; r < rows; ++r)
            if (std::memcmp(row(r), value, bytes) != 0) out.ids.push_back(r);
        out.weights.resize((out.ids.size() + 1) * static_cast<std::size_t>(cols));
        for (std::size_t i = 0; i < out.ids.size(); ++i)
            std::memcpy(out.weights.data() + i * static_cast<std::size_t>(cols), row(out.ids[i]),
                        bytes);
        std::memcpy(out.weights.data() + out.ids.size() * static_cast<std::size_t>(cols), value,
                    bytes);
        return out;
    }
    return std::nullopt;
}

void expand_shared_rows(const SharedRows& shared, const float* compact, float* out, int vocab) {
    std::fill(out, out + vocab, compact[shared.ids.size()]);
    for (std::size_t i = 0; i < shared.ids.size(); ++i) out[shared.ids[i]] = compact[i];
}

}  // namespace gossamer::engine::cpu
