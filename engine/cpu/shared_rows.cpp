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
    // Candidates: a few rows spread over the table (an unused tail or bulk shows up in them).
    // One pass per candidate; the first that enough rows share wins.
    for (const int candidate : {rows - 1, rows / 2, rows / 4, (3 * rows) / 4}) {
        const std::uint16_t* value = row(candidate);
        // A sample of 64 rows first: a checkpoint without shared rows is never scanned whole.
        int sampled = 0;
        for (int i = 0; i < 64; ++i)
            sampled += std::memcmp(row(static_cast<int>(static_cast<long long>(rows) * i / 64)),
                                   value, bytes) == 0;
        if (sampled < static_cast<int>(min_fraction * 64 / 2)) continue;
        SharedRows out;
        const auto most_distinct = static_cast<std::size_t>((1.0 - min_fraction) * rows);
        for (int r = 0; r < rows && out.ids.size() <= most_distinct; ++r)
            if (std::memcmp(row(r), value, bytes) != 0) out.ids.push_back(r);
        out.shared_count = rows - static_cast<int>(out.ids.size());
        if (out.ids.size() > most_distinct || out.shared_count < 2) continue;
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
