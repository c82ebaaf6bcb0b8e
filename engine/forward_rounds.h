// Runs one Backend::forward call as consecutive rounds when an input is longer than its cache
// can take at once (a sliding-window ring holds window + slack positions), and concatenates
// each item's logits in item order. Shared by the backends; it knows caches only through
// max_append() and must not touch their storage.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "engine/backend.h"

namespace gossamer::engine {

// round(items, caches, logits) computes one round whose inputs all fit their caches.
template <class Cache, class Round>
void forward_in_rounds(std::span<const ForwardItem> items, std::span<Cache* const> caches,
                       std::size_t vocab, Round&& round, std::vector<float>& logits) {
    logits.clear();
    auto room = [&](std::size_t i) { return static_cast<std::size_t>(caches[i]->max_append()); };
    bool fits = true;
    for (std::size_t i = 0; i < items.size(); ++i) fits = fits && items[i].tokens.size() <= room(i);
    if (fits) return round(items, caches, logits);

    std::vector<std::vector<float>> per_item(items.size());
    std::vector<std::size_t> done(items.size(), 0);
    for (bool more = true; more;) {
        more = false;
        std::vector<ForwardItem> part;
        std::vector<Cache*> part_caches;
        std::vector<std::size_t> owner;
        for (std::size_t i = 0; i < items.size(); ++i) {
            const std::size_t left = items[i].tokens.size() - done[i];
            if (left == 0) continue;
            const std::size_t take = std::min(left, room(i));
            const bool last_part = take == left;
            LogitsWanted want = items[i].logits;
            if (want == LogitsWanted::Last && !last_part) want = LogitsWanted::None;
            part.push_back({items[i].cache, items[i].tokens.subspan(done[i], take), want});
            part_caches.push_back(caches[i]);
            owner.push_back(i);
            done[i] += take;
            more = more || !last_part;
        }
        std::vector<float> part_logits;
        round(std::span<const ForwardItem>(part), std::span<Cache* const>(part_caches),
              part_logits);
        std::size_t offset = 0;
        for (std::size_t p = 0; p < part.size(); ++p) {
            const std::size_t rows = part[p].logits == LogitsWanted::All    ? part[p].tokens.size()
                                     : part[p].logits == LogitsWanted::Last ? 1
                                                                            : 0;
            const std::size_t n = std::min(rows * vocab, part_logits.size() - offset);
            auto& out = per_item[owner[p]];
            out.insert(out.end(), part_logits.begin() + static_cast<std::ptrdiff_t>(offset),
                       part_logits.begin() + static_cast<std::ptrdiff_t>(offset + n));
            offset += n;
        }
    }
    for (auto& out : per_item) logits.insert(logits.end(), out.begin(), out.end());
}

}  // namespace gossamer::engine
