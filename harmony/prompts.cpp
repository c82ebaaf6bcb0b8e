// Access to the prompt files embedded by gossamer_embed (harmony/CMakeLists.txt).
#include "harmony/prompts.h"

#include <algorithm>
#include <stdexcept>
#include <string>

// Each embedded file is a pair of symbols around its bytes; C++ must name each one.
#define GOSSAMER_DECLARE_PROMPT(stem)                       \
    extern "C" const char gossamer_prompt_##stem##_begin[]; \
    extern "C" const char gossamer_prompt_##stem##_end[];

GOSSAMER_DECLARE_PROMPT(model_identity)
GOSSAMER_DECLARE_PROMPT(browser)
GOSSAMER_DECLARE_PROMPT(compaction)
GOSSAMER_DECLARE_PROMPT(browser_tools)
GOSSAMER_DECLARE_PROMPT(python_stateful)
GOSSAMER_DECLARE_PROMPT(python_stateless)

namespace gossamer::harmony::prompts {
namespace {

struct Entry {
    std::string_view name;
    const char* begin;
    const char* end;
};

#define GOSSAMER_PROMPT_ENTRY(stem)                                         \
    Entry {                                                                 \
#stem, gossamer_prompt_##stem##_begin, gossamer_prompt_##stem##_end \
    }

// Sorted by name (names() relies on it).
const Entry kEntries[] = {
    GOSSAMER_PROMPT_ENTRY(browser),         GOSSAMER_PROMPT_ENTRY(browser_tools),
    GOSSAMER_PROMPT_ENTRY(compaction),      GOSSAMER_PROMPT_ENTRY(model_identity),
    GOSSAMER_PROMPT_ENTRY(python_stateful), GOSSAMER_PROMPT_ENTRY(python_stateless),
};

const Entry& find(std::string_view name) {
    for (const auto& e : kEntries)
        if (e.name == name) return e;
    throw std::out_of_range("no prompt named '" + std::string(name) +
                            "' (prompts/<name>.txt, listed in harmony/prompts.cpp)");
}

}  // namespace

std::string_view raw(std::string_view name) {
    const Entry& e = find(name);
    return {e.begin, static_cast<std::size_t>(e.end - e.begin)};
}

std::string_view text(std::string_view name) {
    std::string_view bytes = raw(name);
    if (!bytes.empty() && bytes.back() == '\n') bytes.remove_suffix(1);
    return bytes;
}

std::vector<std::string_view> names() {
    std::vector<std::string_view> out;
    for (const auto& e : kEntries) out.push_back(e.name);
    return out;
}

}  // namespace gossamer::harmony::prompts
