#include "tools/shell/shell_tool.h"

#include <boost/asio/post.hpp>
#include <cstdio>

#include "sandbox/sanitize.h"
#include "tools/protected_paths.h"
#include "tools/shell/shell_policy.h"

namespace gossamer::tools::shell {
namespace {

std::string seconds(double ms) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", ms / 1000.0);
    return text;
}

// Why a run did not end with an exit code, in words the model can act on.
std::string stop_text(const sandbox::SandboxResult& r, std::chrono::milliseconds timeout) {
    using sandbox::StopReason;
    switch (r.stop) {
        case StopReason::exited:
            return {};
        case StopReason::timed_out:
            return "timed out after " + seconds(static_cast<double>(timeout.count())) +
                   " seconds; the command and everything it started were killed";
        case StopReason::signaled:
            if (r.cancelled) return "cancelled";
            if (r.oom_killed) return "out of memory: killed (" + r.report + ")";
            return "killed by signal " + std::to_string(r.term_signal) + " (" + r.report + ")";
        case StopReason::exec_failed:
            return "could not start the command: " + r.report;
        default:
            return "the sandbox could not run the command: " + r.report;
    }
}

}  // namespace

ToolOutput shell_output(const sandbox::SandboxResult& result, std::chrono::milliseconds timeout) {
    const std::string stopped = stop_text(result, timeout);
    std::string text = "Exit code: ";
    text += stopped.empty() ? std::to_string(result.exit_code) : "none (" + stopped + ")";
    text += "\nWall time: " + seconds(result.wall_ms) + " seconds\nOutput:\n";
    text += sandbox::sanitize_for_model(result.stdout_text);
    return {std::move(text), !stopped.empty(), result.network};
}

harmony::ToolNamespace ShellTool::describe() const {
    harmony::ToolNamespace ns;
    ns.name = "functions";
    const std::string limit = seconds(static_cast<double>(options_.timeout.count()));
    ns.tools.push_back(
        {"shell",
         "Runs a shell command in the workspace (" + std::string(kWorkspaceInside) + ", a sandbox" +
             (options_.network ? "" : " without network") +
             ") and returns its exit code and output (stdout and stderr together).",
         nlohmann::ordered_json{
             {"type", "object"},
             {"properties",
              {{"command",
                {{"description", "A command line for bash -c, or a program and its arguments"},
                 {"oneOf", nlohmann::ordered_json::array(
                               {{{"type", "string"}},
                                {{"type", "array"}, {"items", {{"type", "string"}}}}})}}},
               {"workdir",
                {{"type", "string"},
                 {"description", "Folder to run in, relative to the workspace"}}},
               {"timeout_ms",
                {{"type", "number"},
                 {"description", "Time limit in milliseconds (default " + limit + " s)"}}}}},
             {"required", {"command"}}}});
    return ns;
}

void ShellTool::invoke(const ToolCall& tool_call, const ToolContext& context, ToolDone done) {
    ShellCall call;
    sandbox::Policy policy;
    try {
        call = parse_shell_call(tool_call.arguments, options_);
        if (context.workspace.empty()) throw ShellCallError("this session has no workspace");
        if (!call.workdir.empty()) {
            std::error_code ec;
            const auto dir = context.workspace / call.workdir;
            const auto status = std::filesystem::symlink_status(dir, ec);
            if (!std::filesystem::is_directory(status))
                throw ShellCallError("workdir '" + call.workdir +
                                     "' is not a folder in the workspace");
        }
        policy = shell_policy(options_, context.workspace, call,
                              find_protected_paths(context.workspace, options_.protected_names));
    } catch (const std::exception& e) {
        boost::asio::post(context.executor, [done = std::move(done), why = std::string(e.what())] {
            done({"Error: " + why, true});
        });
        return;
    }
    sandbox::LaunchRequest request;
    request.argv = std::move(call.argv);
    request.merge_stderr = true;
    calls_.start(std::move(policy), std::move(request), context.executor, std::move(done),
                 [timeout = call.timeout](const sandbox::SandboxResult& result) {
                     return shell_output(result, timeout);
                 });
}

void ShellTool::cancel() {
    calls_.cancel_all({"Exit code: none (cancelled)", true});
}

std::optional<std::string> ShellTool::preflight(const std::filesystem::path& workspace) {
    ShellCall call;
    call.argv = {"bash", "-c", "true"};
    call.timeout = std::chrono::seconds(30);
    return sandbox_preflight(
        "shell",
        shell_policy(options_, workspace, call,
                     find_protected_paths(workspace, options_.protected_names)),
        {call.argv, {}, true});
}

}  // namespace gossamer::tools::shell
