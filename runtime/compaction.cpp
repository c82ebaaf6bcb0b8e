#include "runtime/compaction.h"

#include <algorithm>

#include "harmony/prompts.h"

namespace gossamer::runtime {

using harmony::Message;
using harmony::Role;

std::size_t compaction_head(const std::vector<Message>& messages) {
    std::size_t i = 0;
    while (i < messages.size() &&
           (messages[i].role == Role::system || messages[i].role == Role::developer))
        ++i;
    // The first user message (the task), wherever it is among the opening messages.
    for (std::size_t j = i; j < messages.size(); ++j)
        if (messages[j].role == Role::user) return j + 1;
    return i;
}

std::size_t compaction_keep_from(const std::vector<Message>& messages,
                                 const std::function<int(std::size_t)>& tokens_of, int budget) {
    const std::size_t head = compaction_head(messages);
    std::size_t from = messages.size();
    long long used = 0;
    while (from > head) {
        used += tokens_of(from - 1);
        if (used > budget) break;
        --from;
    }
    // Start at a whole turn: not on a tool result, nor inside a run of assistant messages.
    auto starts_turn = [&](std::size_t i) {
        const Role role = messages[i].role;
        if (role == Role::user) return true;
        if (role != Role::assistant) return false;
        return i == 0 || messages[i - 1].role == Role::tool || messages[i - 1].role == Role::user;
    };
    while (from < messages.size() && !starts_turn(from)) ++from;
    return std::max(from, head);
}

std::vector<Message> compacted_view(const std::vector<Message>& messages,
                                    const Compaction& compaction) {
    const std::size_t head = std::min(compaction_head(messages), messages.size());
    std::vector<Message> view(messages.begin(),
                              messages.begin() + static_cast<std::ptrdiff_t>(head));
    view.push_back(Message::text(
        Role::user,
        "Summary of the work so far (the conversation before this point was compacted "
        "to fit the context window; the original task is above):\n\n" +
            compaction.summary));
    const std::size_t from = std::clamp(compaction.keep_from, head, messages.size());
    view.insert(view.end(), messages.begin() + static_cast<std::ptrdiff_t>(from), messages.end());
    return view;
}

Message compaction_request() {
    return Message::text(Role::user, std::string(harmony::prompts::text("compaction")));
}

std::string compaction_summary(const std::vector<Message>& produced) {
    for (auto it = produced.rbegin(); it != produced.rend(); ++it)
        if (it->role == Role::assistant && it->channel == "final") {
            auto text = it->text_content();
            if (!text.empty()) return text;
        }
    std::string all;
    for (const auto& m : produced)
        if (m.role == Role::assistant && !m.recipient) {
            if (!all.empty()) all += "\n\n";
            all += m.text_content();
        }
    return all;
}

}  // namespace gossamer::runtime
