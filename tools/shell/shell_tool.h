// functions.shell: runs a command (a string for bash -c, or an argv) in gossamer's sandbox
// with the session's workspace read-write at /mnt/data (its protected paths read-only), the
// network off unless the options say so, the options' limits, and the call's workdir and
// timeout_ms; the model reads the exit code, the wall time and the output (stdout and stderr
// interleaved as a terminal shows them, capped head + tail). Every call is a fresh sandbox:
// nothing it started survives it. Isolation is sandbox/'s; this file must not weaken it.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "sandbox/result.h"
#include "sandbox/sandbox.h"
#include "tools/shell/shell_call.h"
#include "tools/shell/shell_options.h"
#include "tools/tool.h"

namespace gossamer::tools::shell {

class ShellTool final : public Tool {
  public:
    explicit ShellTool(ShellOptions options = {});
    ~ShellTool() override;

    harmony::ToolNamespace describe() const override;
    void invoke(const ToolCall& call, const ToolContext& context, ToolDone done) override;
    void cancel() override;
    // Starts `bash -c true` once in the sandbox with `workspace`.
    std::optional<std::string> preflight(const std::filesystem::path& workspace) override;

  private:
    struct Running {
        boost::asio::any_io_executor executor;
        ToolDone done;
        sandbox::RunHandle run;  // set and used on io_thread_ only
    };
    void complete(std::uint64_t id, ToolOutput output);

    ShellOptions options_;
    std::mutex mutex_;
    std::map<std::uint64_t, std::shared_ptr<Running>> running_;
    std::uint64_t next_id_ = 1;
    boost::asio::io_context io_;  // runs are launched and watched here
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread io_thread_;
};

// What the model reads for a finished run: "Exit code: N", "Wall time: S seconds",
// "Output:" and the output (sanitized), or why the run was stopped.
ToolOutput shell_output(const sandbox::SandboxResult& result, std::chrono::milliseconds timeout);

}  // namespace gossamer::tools::shell
