// Runs the spec's policy hooks (`hooks:`) for one moment of a run: every hook of that kind
// whose `match` glob fits the tool, in spec order, each a process that reads the moment as
// JSON on stdin and answers as hook_answer.h says. The first deny ends the chain; a pre_tool
// rewrite is what the next hook sees. Hooks run in gossamer's sandbox (system read-only, the
// workspace read-only at /mnt/data, no network) unless `sandboxed: false` (then on the host,
// in the workspace, with the allowlisted environment); a hook past its timeout is killed
// and denies. Runs on the caller's io_context (no thread of its own). It decides nothing
// itself: the agent loop applies the result and records every decision as an event.
#pragma once

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/agent_spec.h"
#include "runtime/hook_answer.h"
#include "sandbox/policy.h"

namespace gossamer::runtime {

// One hook's run, for the `hook` event.
struct HookRecord {
    HookKind kind = HookKind::pre_tool;
    std::string command;  // the program's file name
    HookDecision decision;
    double ms = 0;
};

struct HookChain {
    bool allow = true;
    std::string reason;                    // of the deny
    std::optional<std::string> arguments;  // pre_tool: rewritten
    std::optional<std::string> output;     // post_tool: replaced
    std::vector<HookRecord> records;
};

class HookRunner : public std::enable_shared_from_this<HookRunner> {
  public:
    // Relative hook programs are resolved against `spec_dir`. Hold it in a shared_ptr: a run
    // in flight keeps it alive.
    HookRunner(HooksSpec hooks, const std::filesystem::path& spec_dir);

    bool any(HookKind kind, const std::string& recipient) const;
    // `input`: the moment as JSON (hook, session, tool, arguments, ...; `workspace` is added).
    // `done` runs on `io`, once.
    void run(boost::asio::io_context& io, HookKind kind, const std::string& recipient,
             nlohmann::json input, const std::filesystem::path& workspace,
             std::function<void(HookChain)> done);
    // Kills every hook process still running (their chains end denied).
    void cancel();

    // The policy one hook runs under and its argv there (a program under the host's /tmp is
    // bound at /opt/gossamer-hook, since the sandbox's /tmp is its own). Exposed for tests.
    static sandbox::Policy policy_for(const HookSpec& hook, const std::filesystem::path& workspace,
                                      std::vector<std::string>& argv);

  private:
    struct Chain;
    void step(boost::asio::io_context& io, std::shared_ptr<Chain> chain);
    const std::vector<HookSpec>& list(HookKind kind) const;

    HooksSpec hooks_;
    std::vector<std::shared_ptr<Chain>> running_;
};

}  // namespace gossamer::runtime
