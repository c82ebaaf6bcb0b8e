// The `python` built-in tool (issue 5): stateless (a fresh sandboxed python3 per call, the
// gpt-oss docker tool's semantics and description) or stateful (one persistent kernel per
// agent session, harmony's Jupyter description, 120 s per call, restart after a crash or
// timeout reported to the model). The code is the message content; the session's workspace
// (from the ToolContext) is /mnt/data inside. Isolation is sandbox/'s; this file only wires
// calls to it and must not weaken its policy.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "sandbox/sandbox.h"
#include "tools/python/kernel_session.h"
#include "tools/python/python_options.h"
#include "tools/tool.h"

namespace gossamer::tools::python {

class PythonTool final : public Tool {
  public:
    explicit PythonTool(PythonOptions options);
    ~PythonTool() override;

    harmony::ToolNamespace describe() const override;
    void invoke(const ToolCall& call, const ToolContext& context, ToolDone done) override;
    void cancel() override;
    // Starts the interpreter once in the sandbox with `workspace` (`python3 -c pass`).
    std::optional<std::string> preflight(const std::filesystem::path& workspace) override;

  private:
    struct StatelessCall {
        boost::asio::any_io_executor executor;
        ToolDone done;
        bool finished = false;
        sandbox::RunHandle run;  // set and used on io_thread_ only
    };
    std::chrono::milliseconds timeout_for(const ToolContext& context) const;
    void run_stateless(const std::string& code, const ToolContext& context, ToolDone done);
    void complete(std::uint64_t id, ToolOutput output);
    KernelSession& session_for(const ToolContext& context);

    PythonOptions options_;
    std::mutex mutex_;
    std::map<std::string, std::unique_ptr<KernelSession>> sessions_;  // by session id
    std::map<std::uint64_t, std::shared_ptr<StatelessCall>> stateless_;
    std::uint64_t next_id_ = 1;
    // Stateless runs are launched and watched on this thread (it outlives every sandbox).
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread io_thread_;
};

}  // namespace gossamer::tools::python
