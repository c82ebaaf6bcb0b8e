#include "runtime/hook_runner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "sandbox/sandbox.h"
#include "tools/mcp/json_rpc_process.h"

namespace gossamer::runtime {

namespace fs = std::filesystem;

// Where the workspace appears inside a sandboxed hook (as for python and shell).
constexpr const char* kWorkspaceInside = "/mnt/data";
constexpr std::size_t kMaxInput = 60000;  // bytes of JSON on a hook's stdin

struct HookRunner::Chain {
    HookKind kind;
    std::string recipient;
    nlohmann::json input;
    fs::path workspace;
    std::function<void(HookChain)> done;
    std::vector<const HookSpec*> hooks;  // the matching ones, in order
    std::size_t next = 0;
    HookChain result;
    sandbox::RunHandle run;
    bool finished = false;
};

HookRunner::HookRunner(HooksSpec hooks, const fs::path& spec_dir) : hooks_(std::move(hooks)) {
    for (auto* list : {&hooks_.pre_tool, &hooks_.post_tool, &hooks_.on_finish})
        for (auto& hook : *list) {
            auto& program = hook.command.front();
            if (program.find('/') != std::string::npos && fs::path(program).is_relative())
                program = fs::weakly_canonical(spec_dir / program).string();
        }
}

const std::vector<HookSpec>& HookRunner::list(HookKind kind) const {
    switch (kind) {
        case HookKind::pre_tool:
            return hooks_.pre_tool;
        case HookKind::post_tool:
            return hooks_.post_tool;
        case HookKind::on_finish:
            break;
    }
    return hooks_.on_finish;
}

bool HookRunner::any(HookKind kind, const std::string& recipient) const {
    const auto& hooks = list(kind);
    return std::any_of(hooks.begin(), hooks.end(),
                       [&](const HookSpec& h) { return hook_matches(h.match, recipient); });
}

sandbox::Policy HookRunner::policy_for(const HookSpec& hook, const fs::path& workspace,
                                       std::vector<std::string>& argv) {
    argv = hook.command;
    sandbox::Policy policy = sandbox::default_policy();
    policy.mode = hook.sandbox_mode;
    const auto wall = static_cast<std::uint64_t>(hook.timeout_seconds * 1000);
    policy.limits.wall_ms = std::max<std::uint64_t>(wall, 1);
    policy.limits.cpu_seconds = 0;
    policy.limits.memory_bytes = 1ull << 30;
    policy.limits.output_bytes = 64 * 1024;
    if (!hook.sandboxed) {
        policy.isolation = false;
        policy.workspace_host = fs::absolute(workspace).lexically_normal().string();
        policy.env = tools::allowlisted_environment();
        return policy;
    }
    const fs::path program = hook.command.front();
    if (program.is_absolute()) {
        const std::string dir = program.parent_path().string();
        if (dir == "/tmp" || dir.rfind("/tmp/", 0) == 0) {
            policy.read_only_binds.push_back({dir, "/opt/gossamer-hook"});
            argv.front() = "/opt/gossamer-hook/" + program.filename().string();
        } else if (!sandbox::covered_by_binds(policy, dir)) {
            policy.read_only_binds.push_back({dir, dir});
        }
    }
    policy.read_only_binds.push_back({"/etc/alternatives", "/etc/alternatives", true});
    if (!workspace.empty()) {
        const auto host = fs::absolute(workspace).lexically_normal().string();
        policy.read_only_binds.push_back({host, kWorkspaceInside});
        policy.cwd = kWorkspaceInside;
    } else {
        policy.cwd = "/tmp";
    }
    sandbox::set_env(policy, "HOME", "/tmp");
    return policy;
}

void HookRunner::run(boost::asio::io_context& io, HookKind kind, const std::string& recipient,
                     nlohmann::json input, const fs::path& workspace,
                     std::function<void(HookChain)> done) {
    auto chain = std::make_shared<Chain>();
    chain->kind = kind;
    chain->recipient = recipient;
    chain->input = std::move(input);
    chain->input["hook"] = std::string(hook_kind_name(kind));
    chain->workspace = workspace;
    chain->done = std::move(done);
    for (const auto& hook : list(kind))
        if (hook_matches(hook.match, recipient)) chain->hooks.push_back(&hook);
    running_.push_back(chain);
    step(io, chain);
}

void HookRunner::step(boost::asio::io_context& io, std::shared_ptr<Chain> chain) {
    const auto finish = [this, chain] {
        if (chain->finished) return;
        chain->finished = true;
        running_.erase(std::remove(running_.begin(), running_.end(), chain), running_.end());
        auto done = std::move(chain->done);
        done(std::move(chain->result));
    };
    if (chain->finished) return;
    if (chain->next >= chain->hooks.size() || !chain->result.allow) return finish();
    const HookSpec& hook = *chain->hooks[chain->next++];
    nlohmann::json input = chain->input;
    input["workspace"] =
        hook.sandboxed ? std::string(kWorkspaceInside) : fs::absolute(chain->workspace).string();
    if (chain->result.arguments) input["arguments"] = *chain->result.arguments;
    if (chain->result.output) input["output"] = *chain->result.output;
    // stdin is written whole before the hook runs (one pipe's capacity): long fields are cut.
    if (input.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size() > kMaxInput) {
        for (const char* key : {"arguments", "output", "final_answer"})
            if (input.contains(key) && input[key].is_string()) {
                auto text = input[key].get<std::string>();
                if (text.size() > kMaxInput / 3)
                    input[key] = text.substr(0, kMaxInput / 6) + "\n[... cut for the hook ...]\n" +
                                 text.substr(text.size() - kMaxInput / 6);
            }
        input["truncated"] = true;
    }
    sandbox::LaunchRequest request;
    request.stdin_bytes =
        input.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    sandbox::Policy policy;
    try {
        policy = policy_for(hook, chain->workspace, request.argv);
    } catch (const std::exception& e) {
        HookRecord record{chain->kind, fs::path(hook.command.front()).filename().string(),
                          parse_hook_answer(chain->kind, false, -1, {}, {}, e.what()), 0};
        chain->result.allow = false;
        chain->result.reason = record.decision.reason;
        chain->result.records.push_back(std::move(record));
        return finish();
    }
    const auto started = std::chrono::steady_clock::now();
    chain->run = sandbox::async_run(
        io, policy, std::move(request),
        [self = shared_from_this(), &io, chain, &hook, started](sandbox::SandboxResult r) {
            const bool ran = r.stop == sandbox::StopReason::exited;
            std::string failure;
            if (r.stop == sandbox::StopReason::timed_out) {
                char seconds[32];
                std::snprintf(seconds, sizeof seconds, "%g", hook.timeout_seconds);
                failure = std::string("timed out after ") + seconds + " s";
            } else if (!ran)
                failure = r.report.empty() ? "it did not run" : r.report;
            HookRecord record{chain->kind, fs::path(hook.command.front()).filename().string(),
                              parse_hook_answer(chain->kind, ran, r.exit_code, r.stdout_text,
                                                r.stderr_text, failure),
                              std::chrono::duration<double, std::milli>(
                                  std::chrono::steady_clock::now() - started)
                                  .count()};
            if (!record.decision.allow) {
                chain->result.allow = false;
                chain->result.reason = record.decision.reason;
            }
            if (record.decision.arguments) chain->result.arguments = record.decision.arguments;
            if (record.decision.output) chain->result.output = record.decision.output;
            chain->result.records.push_back(std::move(record));
            self->step(io, chain);
        });
}

void HookRunner::cancel() {
    for (const auto& chain : std::vector<std::shared_ptr<Chain>>(running_)) {
        chain->result.allow = false;
        chain->result.reason = "cancelled";
        chain->next = chain->hooks.size();
        chain->run.cancel();
    }
}

}  // namespace gossamer::runtime
