// One-shot sandboxed runs for the tools that run a command per call (python stateless, shell):
// each call is a fresh sandbox launched and watched on this object's own io thread (which
// outlives every sandbox it started), its result turned into the model's text by the caller's
// `format`, and delivered on the call's executor exactly once. cancel_all() kills every
// sandbox at once and reports each call with the caller's text. Isolation is sandbox/'s.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "sandbox/sandbox.h"
#include "tools/tool.h"

namespace gossamer::tools {

// Runs `request` once under `policy` and waits (a tool's preflight): nullopt when it exited 0,
// else "the TOOL tool cannot run here: why" with the sandbox's report and the output's head.
std::optional<std::string> sandbox_preflight(const std::string& tool, const sandbox::Policy& policy,
                                             const sandbox::LaunchRequest& request);

class SandboxCalls {
  public:
    using Format = std::function<ToolOutput(const sandbox::SandboxResult&)>;

    SandboxCalls();
    ~SandboxCalls();  // kills what still runs; those calls' `done` are not called
    SandboxCalls(const SandboxCalls&) = delete;
    SandboxCalls& operator=(const SandboxCalls&) = delete;

    void start(sandbox::Policy policy, sandbox::LaunchRequest request,
               boost::asio::any_io_executor executor, ToolDone done, Format format);
    void cancel_all(const ToolOutput& cancelled);

  private:
    struct Call {
        boost::asio::any_io_executor executor;
        ToolDone done;
        sandbox::RunHandle run;  // set and used on io_thread_ only
    };
    void complete(std::uint64_t id, ToolOutput output);

    std::mutex mutex_;
    std::map<std::uint64_t, std::shared_ptr<Call>> calls_;
    std::uint64_t next_id_ = 1;
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread io_thread_;
};

}  // namespace gossamer::tools
