// Head-and-tail capture (output_cap.h).
#include "sandbox/output_cap.h"

#include <algorithm>

namespace gossamer::sandbox {

OutputCap::OutputCap(std::uint64_t max_bytes) : max_bytes_(max_bytes) {
    if (max_bytes_ == 0) return;
    head_max_ = static_cast<std::size_t>(max_bytes_ / 2);
    tail_max_ = static_cast<std::size_t>(max_bytes_ - head_max_);
}

void OutputCap::append(std::string_view bytes) {
    total_ += bytes.size();
    if (max_bytes_ == 0) {
        head_.append(bytes);
        return;
    }
    const std::size_t to_head = std::min(bytes.size(), head_max_ - head_.size());
    head_.append(bytes.substr(0, to_head));
    bytes.remove_prefix(to_head);
    if (bytes.empty()) return;
    if (bytes.size() >= tail_max_) {
        tail_.assign(bytes.substr(bytes.size() - tail_max_));
        return;
    }
    tail_.append(bytes);
    // amortized: trim only when the tail has doubled
    if (tail_.size() >= 2 * tail_max_) tail_.erase(0, tail_.size() - tail_max_);
}

std::size_t OutputCap::kept_tail() const {
    return max_bytes_ == 0 ? tail_.size() : std::min(tail_.size(), tail_max_);
}

std::uint64_t OutputCap::dropped_bytes() const {
    return total_ - head_.size() - kept_tail();
}

std::string OutputCap::text() const {
    std::string out = head_;
    if (dropped_bytes() > 0) out += truncation_marker(dropped_bytes());
    out.append(tail_, tail_.size() - kept_tail(), std::string::npos);
    return out;
}

std::string truncation_marker(std::uint64_t dropped_bytes) {
    return "\n[... " + std::to_string(dropped_bytes) + " bytes truncated ...]\n";
}

}  // namespace gossamer::sandbox
