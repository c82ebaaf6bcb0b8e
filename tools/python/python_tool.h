// The `python` built-in tool (issue 5): stateless (a fresh sandboxed python3 per call, the
// gpt-oss docker tool's semantics and description) or stateful (one persistent kernel per
// agent session, harmony's Jupyter description, 120 s per call, restart after a crash or
// timeout reported to the model). The code is the message content; the session's workspace
// (from the ToolContext) is /mnt/data inside. Isolation is sandbox/'s; this file only wires
// calls to it and must not weaken its policy.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "sandbox/sandbox.h"
#include "tools/python/kernel_session.h"
#include "tools/python/python_options.h"
#include "tools/sandbox_calls.h"
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
    std::chrono::milliseconds timeout_for(const ToolContext& context) const;
    void run_stateless(const std::string& code, const ToolContext& context, ToolDone done);
    KernelSession& session_for(const ToolContext& context);

    PythonOptions options_;
    std::mutex mutex_;
    std::map<std::string, std::unique_ptr<KernelSession>> sessions_;  // by session id
    SandboxCalls stateless_;  // one sandbox per stateless call, on its own io thread
};

}  // namespace gossamer::tools::python
