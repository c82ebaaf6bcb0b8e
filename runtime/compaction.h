// Compaction of a long session's context (spec `context.compact_at`): when the rendered
// conversation passes the threshold, the model writes a summary of the work so far (asked by
// prompts/compaction.txt), and from then on the model sees: the system and developer
// messages, the original task verbatim, the summary, and the most recent messages. The
// stored conversation is never edited: a compaction is an event (`context.compacted`) that
// says where the kept recent messages start and holds the summary, and the view is rebuilt
// from it on resume. This file is the pure part (which messages, the view, the summary text);
// runtime/agent_loop.cpp runs the compaction turn. It must not render or generate.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harmony/message.h"

namespace gossamer::runtime {

struct Compaction {
    std::size_t messages = 0;   // stored messages when it was made (the summary covers them)
    std::size_t keep_from = 0;  // the first stored message the view keeps verbatim
    std::string summary;
};

// Messages every view keeps: the leading system and developer messages and the first user
// message (the original task). Returns how many leading messages that is.
std::size_t compaction_head(const std::vector<harmony::Message>& messages);

// Where the kept recent messages start: the newest messages whose tokens (tokens_of(i)) add
// up to at most `budget`, moved forward past tool results and assistant messages so the
// kept part starts at a whole turn (a user message or the first assistant message after a
// tool result or user message). At least compaction_head(); messages.size() keeps none.
std::size_t compaction_keep_from(const std::vector<harmony::Message>& messages,
                                 const std::function<int(std::size_t)>& tokens_of, int budget);

// What the model sees: the head, the summary (as a user message saying what it is), then
// messages[keep_from..]; messages after the compaction follow as they are stored.
std::vector<harmony::Message> compacted_view(const std::vector<harmony::Message>& messages,
                                             const Compaction& compaction);

// The message that asks for the summary (prompts/compaction.txt).
harmony::Message compaction_request();

// The summary in a compaction turn's messages: its final-channel text, else all of its
// assistant text (a model that ignored the channel); empty when there is none.
std::string compaction_summary(const std::vector<harmony::Message>& produced);

}  // namespace gossamer::runtime
