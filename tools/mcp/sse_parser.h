// Server-sent events (the WHATWG event-stream format) read incrementally: bytes in, complete
// events out, with the stream's last event id and the server's `retry` kept for resumption.
// Pure: no I/O, no threads; fuzzed (tests/fuzz/fuzz_tool_args.cpp). Used by the MCP Streamable
// HTTP transport (mcp_http.h); it must not know JSON-RPC.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gossamer::tools {

struct SseEvent {
    std::string id;  // the event's id (the stream's last id when it had none)
    std::string type = "message";
    std::string data;  // data lines joined with '\n'
};

class SseParser {
  public:
    // Feeds bytes; returns the events they complete (a blank line ends an event). Lines may
    // end with \n, \r\n or \r; a leading BOM is dropped; comments (':') are skipped. A line
    // longer than `max_line` bytes, or an event's data beyond `max_event`, drops that event.
    std::vector<SseEvent> feed(std::string_view bytes);

    const std::string& last_event_id() const { return last_id_; }
    std::optional<long> retry_ms() const { return retry_; }  // the last valid `retry:` field

    static constexpr std::size_t max_line = 16u << 20;
    static constexpr std::size_t max_event = 64u << 20;

  private:
    void line(std::string_view text, std::vector<SseEvent>& out);

    std::string pending_;   // an unfinished line
    bool skip_lf_ = false;  // the last byte was '\r': a following '\n' belongs to it
    bool started_ = false;  // a BOM can only come first
    bool oversized_ = false;
    SseEvent event_;
    bool has_data_ = false;
    std::string last_id_;
    std::optional<long> retry_;
};

}  // namespace gossamer::tools
