// A bounded capture of one output stream: keeps the first and the last bytes (half the cap
// each) and counts what was dropped in between, so an output flood costs bounded memory
// and the model still sees how the output began and ended. Not thread-safe; one per stream.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gossamer::sandbox {

class OutputCap {
  public:
    // max_bytes == 0: keep everything.
    explicit OutputCap(std::uint64_t max_bytes);

    void append(std::string_view bytes);

    std::uint64_t total_bytes() const { return total_; }
    bool truncated() const { return dropped_bytes() > 0; }
    std::uint64_t dropped_bytes() const;
    // head, then "\n[... N bytes truncated ...]\n" when bytes were dropped, then tail.
    std::string text() const;

  private:
    std::size_t kept_tail() const;

    std::uint64_t max_bytes_;
    std::size_t head_max_ = 0;
    std::size_t tail_max_ = 0;
    std::string head_;
    std::string tail_;  // the last tail_max_ bytes seen after the head filled
    std::uint64_t total_ = 0;
};

// The marker line put where bytes were dropped.
std::string truncation_marker(std::uint64_t dropped_bytes);

}  // namespace gossamer::sandbox
