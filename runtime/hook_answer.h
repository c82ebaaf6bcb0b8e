// What a policy hook's run means (spec `hooks:`, hook_runner.h): its exit status and output
// turned into a decision. Exit 0 with no output or plain text: allow. Exit 0 with a JSON object:
// {"decision": "allow"|"deny", "reason"?, "arguments"? (pre_tool: rewritten arguments, a string
// or any JSON value), "output"? (post_tool: the text the model reads instead)}. Exit 2: deny,
// stderr (else stdout) is the reason. Anything else (another exit code, a signal, a timeout,
// a sandbox that could not start, malformed JSON): deny, fail closed. Pure: bytes in, a
// decision out; it runs nothing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gossamer::runtime {

enum class HookKind { pre_tool, post_tool, on_finish };

std::string_view hook_kind_name(HookKind kind);

struct HookDecision {
    bool allow = false;
    std::string reason;                    // for a deny: what the model (or the log) reads
    std::optional<std::string> arguments;  // pre_tool: the call's new arguments
    std::optional<std::string> output;     // post_tool: the result's new text
    std::string detail;                    // for the event: how the answer was read
};

// `ran`: the hook exited on its own (exit_code valid); else `failure` says why it did not.
HookDecision parse_hook_answer(HookKind kind, bool ran, int exit_code, std::string_view stdout_text,
                               std::string_view stderr_text, std::string_view failure);

// Whether a tool's recipient ("functions.shell") matches a hook's glob ("functions.*").
bool hook_matches(std::string_view pattern, std::string_view recipient);

}  // namespace gossamer::runtime
