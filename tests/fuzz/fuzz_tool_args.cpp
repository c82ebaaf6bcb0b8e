// libFuzzer target for the arguments the model writes to tools that run things
// (tools/shell/shell_call.h): the bytes are one call's arguments; and for what a policy hook
// answers (runtime/hook_answer.h): the same bytes as its stdout, the first byte choosing the
// hook kind and exit code. A hook's answer: allow or deny, a deny always has a reason, a
// rewrite only from pre_tool, a replaced output only from post_tool.
// Properties: no crash, no sanitizer report, failures only as ShellCallError; a parsed call has
// a non-empty argv with a named program, a workdir with no "..", "." or empty part that does
// not start with '/', and a timeout in [1 ms, max_timeout]. The same bytes as a sandbox policy
// file: PolicyError or a policy that reads back from its own JSON unchanged. And as an SSE
// stream: the same events however it is split. And as a sandbox's proxy request head.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>

#include "runtime/hook_answer.h"
#include "sandbox/egress_rules.h"
#include "sandbox/policy.h"
#include "tools/mcp/sse_parser.h"
#include "tools/shell/shell_call.h"

namespace {

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "fuzz_tool_args: %s\n", what);
    std::abort();
}

// A sandbox policy file (`sandbox exec --policy`, sandbox/policy.h): refused with PolicyError,
// or read into a policy that its own JSON reads back to unchanged.
void check_policy(const std::string& text) {
    namespace sbx = gossamer::sandbox;
    sbx::Policy policy;
    try {
        policy = sbx::policy_from_json(text);
    } catch (const sbx::PolicyError&) {
        return;
    }
    if (!(sbx::policy_from_json(sbx::policy_to_json(policy)) == policy))
        broken("a policy that does not read back");
}

// The same bytes as an SSE stream (tools/mcp/sse_parser.h), split in two at a point the first
// byte picks: the events must not depend on where the stream was split.
void check_sse(const std::string& text) {
    using gossamer::tools::SseParser;
    SseParser whole, halves;
    const auto all = whole.feed(text);
    const std::size_t cut =
        text.empty() ? 0 : static_cast<unsigned char>(text[0]) % (text.size() + 1);
    auto split = halves.feed(std::string_view(text).substr(0, cut));
    const auto rest = halves.feed(std::string_view(text).substr(cut));
    split.insert(split.end(), rest.begin(), rest.end());
    if (all.size() != split.size()) broken("SSE events depend on the split");
    for (std::size_t i = 0; i < all.size(); ++i)
        if (all[i].data != split[i].data || all[i].id != split[i].id) broken("SSE event differs");
    if (whole.last_event_id() != halves.last_event_id()) broken("SSE last id differs");
}

// The same bytes as a proxy request head from a sandbox (sandbox/egress_rules.h): refused with
// a reason, or read into a host that the rules can judge, a port, and for plain HTTP a
// forwarded head that is one request with no proxy headers and no line breaks smuggled in.
void check_proxy_request(const std::string& text) {
    namespace sbx = gossamer::sandbox;
    const auto parsed = sbx::parse_proxy_request(text);
    if (const auto* why = std::get_if<std::string>(&parsed)) {
        if (why->empty()) broken("a refused proxy request without a reason");
        return;
    }
    const auto& r = std::get<sbx::ProxyRequest>(parsed);
    if (r.host.empty() || (r.tunnel && r.port == 0)) broken("a proxy request without a target");
    const sbx::EgressRules rules{{"example.com", "*.example.org", "10.0.0.1"}, {"bad.example.org"}};
    (void)sbx::refuse_host(rules, r.host);
    if (!r.tunnel) {
        if (!r.forward.ends_with("Connection: close\r\n\r\n"))
            broken("a forwarded head that does not end the request");
        if (r.forward.find("\r\n\r\n") + 4 != r.forward.size())
            broken("a forwarded head with a second request inside");
        std::string lower = r.forward;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower.find("\r\nproxy-") != std::string::npos) broken("a proxy header forwarded");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace gossamer::tools::shell;
    const std::string input(reinterpret_cast<const char*>(data), size);
    if (!input.empty()) {
        using gossamer::runtime::HookKind;
        const auto selector = static_cast<unsigned char>(input[0]);
        const HookKind kind = static_cast<HookKind>(selector % 3);
        const int exit_code = (selector / 3) % 4;
        const auto d = gossamer::runtime::parse_hook_answer(kind, selector < 240, exit_code,
                                                            input.substr(1), input, "why");
        if (!d.allow && d.reason.empty()) broken("a deny without a reason");
        if (d.arguments && kind != HookKind::pre_tool) broken("a rewrite outside pre_tool");
        if (d.output && kind != HookKind::post_tool) broken("an output outside post_tool");
        if ((d.arguments || d.output) && !d.allow) broken("a deny that changes the call");
    }
    check_policy(input);
    check_sse(input);
    check_proxy_request(input);
    ShellOptions options;
    ShellCall call;
    try {
        call = parse_shell_call(input, options);
    } catch (const ShellCallError&) {
        return 0;
    }
    if (call.argv.empty() || call.argv.front().empty()) broken("a call with no program");
    if (!call.workdir.empty()) {
        if (call.workdir.front() == '/') broken("an absolute workdir");
        std::size_t at = 0;
        while (at <= call.workdir.size()) {
            const std::size_t end = std::min(call.workdir.find('/', at), call.workdir.size());
            const std::string part = call.workdir.substr(at, end - at);
            if (part.empty() || part == "." || part == "..") broken("a workdir part escapes");
            at = end + 1;
        }
    }
    if (call.timeout.count() < 1 || call.timeout > options.max_timeout)
        broken("a timeout out of range");
    return 0;
}
