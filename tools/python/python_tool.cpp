#include "tools/python/python_tool.h"

#include <boost/asio/post.hpp>

#include "harmony/builtin_tools.h"
#include "sandbox/sandbox.h"
#include "tools/python/python_output.h"
#include "tools/python/python_policy.h"

namespace gossamer::tools::python {
namespace {

// harmony's stateful text promises 120 s; a configured timeout replaces the number.
void state_timeout(harmony::ToolNamespace& ns, std::chrono::milliseconds timeout) {
    static constexpr std::string_view kDefault = "120.0 seconds";
    if (!ns.description || timeout == std::chrono::seconds(120)) return;
    const auto at = ns.description->find(kDefault);
    if (at == std::string::npos) return;
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f seconds",
                  static_cast<double>(timeout.count()) / 1000.0);
    ns.description->replace(at, kDefault.size(), seconds);
}

ToolOutput cancelled() {
    return {"[ERROR] The call was cancelled.", true};
}

}  // namespace

PythonTool::PythonTool(PythonOptions options) : options_(std::move(options)) {}

PythonTool::~PythonTool() {
    std::lock_guard lock(mutex_);
    sessions_.clear();  // kills every kernel (stateless sandboxes die with stateless_)
}

harmony::ToolNamespace PythonTool::describe() const {
    if (options_.mode == Mode::stateless) return harmony::builtin_tools::python_stateless();
    harmony::ToolNamespace ns = harmony::builtin_tools::python_stateful();
    if (options_.timeout.count() > 0) state_timeout(ns, options_.timeout);
    return ns;
}

std::chrono::milliseconds PythonTool::timeout_for(const ToolContext& context) const {
    return options_.timeout.count() > 0 ? options_.timeout : context.timeout;
}

void PythonTool::invoke(const ToolCall& call, const ToolContext& context, ToolDone done) {
    if (options_.mode == Mode::stateless) return run_stateless(call.arguments, context, done);
    session_for(context).submit(call.arguments, timeout_for(context), context.executor,
                                std::move(done));
}

KernelSession& PythonTool::session_for(const ToolContext& context) {
    std::lock_guard lock(mutex_);
    auto& session = sessions_[context.session_id];
    if (!session || session->workspace() != context.workspace)
        session = std::make_unique<KernelSession>(options_, context.workspace);
    return *session;
}

void PythonTool::run_stateless(const std::string& code, const ToolContext& context, ToolDone done) {
    const auto timeout = timeout_for(context);
    sandbox::LaunchRequest request;
    request.argv = {options_.interpreter, "-"};
    request.stdin_bytes = code;
    request.merge_stderr = true;
    stateless_.start(python_policy(options_, context.workspace, timeout), std::move(request),
                     context.executor, std::move(done),
                     [timeout](const sandbox::SandboxResult& result) {
                         return stateless_output(result, timeout);
                     });
}

std::optional<std::string> PythonTool::preflight(const std::filesystem::path& workspace) {
    sandbox::LaunchRequest request;
    request.argv = {options_.interpreter, "-c", "pass"};
    request.merge_stderr = true;
    return sandbox_preflight("python", python_policy(options_, workspace, std::chrono::seconds(30)),
                             request);
}

void PythonTool::cancel() {
    {
        std::lock_guard lock(mutex_);
        for (auto& [name, session] : sessions_) session->cancel_all();
    }
    stateless_.cancel_all(cancelled());
}

}  // namespace gossamer::tools::python
