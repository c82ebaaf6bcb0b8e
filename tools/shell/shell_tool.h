// functions.shell: runs a command (a string for bash -c, or an argv) in gossamer's sandbox
// with the session's workspace read-write at /mnt/data (its protected paths read-only), the
// network off unless the options say so, the options' limits, and the call's workdir and
// timeout_ms; the model reads the exit code, the wall time and the output (stdout and stderr
// interleaved as a terminal shows them, capped head + tail). Every call is a fresh sandbox:
// nothing it started survives it. Isolation is sandbox/'s; this file must not weaken it.
#pragma once

#include "sandbox/result.h"
#include "tools/sandbox_calls.h"
#include "tools/shell/shell_call.h"
#include "tools/shell/shell_options.h"
#include "tools/tool.h"

namespace gossamer::tools::shell {

class ShellTool final : public Tool {
  public:
    explicit ShellTool(ShellOptions options = {}) : options_(std::move(options)) {}

    harmony::ToolNamespace describe() const override;
    void invoke(const ToolCall& call, const ToolContext& context, ToolDone done) override;
    void cancel() override;
    // Starts `bash -c true` once in the sandbox with `workspace`.
    std::optional<std::string> preflight(const std::filesystem::path& workspace) override;

  private:
    ShellOptions options_;
    SandboxCalls calls_;  // declared last: destroyed (its sandboxes killed) first
};

// What the model reads for a finished run: "Exit code: N", "Wall time: S seconds",
// "Output:" and the output (sanitized), or why the run was stopped.
ToolOutput shell_output(const sandbox::SandboxResult& result, std::chrono::milliseconds timeout);

}  // namespace gossamer::tools::shell
