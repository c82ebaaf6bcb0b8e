#include "runtime/hook_answer.h"

#include <fnmatch.h>

#include <nlohmann/json.hpp>

namespace gossamer::runtime {
namespace {

constexpr std::size_t kMaxReason = 2000;

std::string trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    std::string out(text.substr(first, last - first + 1));
    if (out.size() > kMaxReason) out = out.substr(0, kMaxReason) + " [...]";
    return out;
}

HookDecision deny(std::string reason, std::string detail) {
    HookDecision d;
    d.reason = std::move(reason);
    d.detail = std::move(detail);
    return d;
}

}  // namespace

std::string_view hook_kind_name(HookKind kind) {
    switch (kind) {
        case HookKind::pre_tool:
            return "pre_tool";
        case HookKind::post_tool:
            return "post_tool";
        case HookKind::on_finish:
            return "on_finish";
    }
    return "?";
}

bool hook_matches(std::string_view pattern, std::string_view recipient) {
    return ::fnmatch(std::string(pattern).c_str(), std::string(recipient).c_str(), 0) == 0;
}

HookDecision parse_hook_answer(HookKind kind, bool ran, int exit_code, std::string_view stdout_text,
                               std::string_view stderr_text, std::string_view failure) {
    if (!ran) return deny("the policy hook failed (" + trimmed(failure) + ")", "failed");
    if (exit_code == 2) {
        std::string reason = trimmed(stderr_text);
        if (reason.empty()) reason = trimmed(stdout_text);
        if (reason.empty()) reason = "denied by a policy hook";
        return deny(std::move(reason), "exit 2");
    }
    if (exit_code != 0) {
        std::string why = "the policy hook exited " + std::to_string(exit_code);
        if (auto err = trimmed(stderr_text); !err.empty()) why += ": " + err;
        return deny(std::move(why), "exit " + std::to_string(exit_code));
    }
    const std::string out = trimmed(stdout_text);
    HookDecision d;
    d.allow = true;
    if (out.empty() || out.front() != '{') {
        d.detail = "exit 0";
        return d;
    }
    const auto json = nlohmann::json::parse(out, nullptr, false);
    if (json.is_discarded() || !json.is_object())
        return deny("the policy hook answered malformed JSON", "malformed");
    const auto decision = json.value("decision", std::string("allow"));
    if (decision != "allow" && decision != "deny")
        return deny("the policy hook answered decision '" + decision + "' (expected allow or deny)",
                    "malformed");
    if (json.contains("reason") && !json["reason"].is_string())
        return deny("the policy hook's reason is not a string", "malformed");
    d.reason = trimmed(json.value("reason", std::string()));
    d.detail = "json";
    if (decision == "deny") {
        d.allow = false;
        if (d.reason.empty()) d.reason = "denied by a policy hook";
        return d;
    }
    if (json.contains("arguments")) {
        if (kind != HookKind::pre_tool)
            return deny("the policy hook rewrote arguments outside pre_tool", "malformed");
        const auto& args = json["arguments"];
        d.arguments = args.is_string() ? args.get<std::string>() : args.dump();
    }
    if (json.contains("output")) {
        if (kind != HookKind::post_tool || !json["output"].is_string())
            return deny("the policy hook's output must be a string, from post_tool", "malformed");
        d.output = json["output"].get<std::string>();
    }
    return d;
}

}  // namespace gossamer::runtime
