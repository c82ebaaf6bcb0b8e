#include "tools/sandbox_calls.h"

#include <boost/asio/post.hpp>
#include <vector>

namespace gossamer::tools {

std::optional<std::string> sandbox_preflight(const std::string& tool, const sandbox::Policy& policy,
                                             const sandbox::LaunchRequest& request) {
    const std::string prefix = "the " + tool + " tool cannot run here: ";
    sandbox::SandboxResult result;
    try {
        result = sandbox::run(policy, request);
    } catch (const std::exception& e) {
        return prefix + e.what();
    }
    if (result.stop == sandbox::StopReason::exited && result.exit_code == 0) return std::nullopt;
    std::string why = result.report.empty() ? "it did not start" : result.report;
    if (!result.stdout_text.empty()) why += ": " + result.stdout_text.substr(0, 400);
    return prefix + why;
}

SandboxCalls::SandboxCalls() : work_(io_.get_executor()) {
    io_thread_ = std::thread([this] { io_.run(); });
}

SandboxCalls::~SandboxCalls() {
    work_.reset();
    io_.stop();  // sandboxes still running are killed with their operations
    io_thread_.join();
}

void SandboxCalls::start(sandbox::Policy policy, sandbox::LaunchRequest request,
                         boost::asio::any_io_executor executor, ToolDone done, Format format) {
    auto call = std::make_shared<Call>(Call{std::move(executor), std::move(done), {}});
    std::uint64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        id = next_id_++;
        calls_[id] = call;
    }
    boost::asio::post(io_, [this, id, call, policy = std::move(policy),
                            request = std::move(request), format = std::move(format)]() mutable {
        {
            std::lock_guard lock(mutex_);
            if (!calls_.count(id)) return;  // cancelled before it started
        }
        call->run = sandbox::async_run(io_, policy, std::move(request),
                                       [this, id, format](const sandbox::SandboxResult& result) {
                                           complete(id, format(result));
                                       });
    });
}

void SandboxCalls::complete(std::uint64_t id, ToolOutput output) {
    std::shared_ptr<Call> call;
    {
        std::lock_guard lock(mutex_);
        auto it = calls_.find(id);
        if (it == calls_.end()) return;  // cancelled: already reported
        call = it->second;
        calls_.erase(it);
    }
    boost::asio::post(call->executor,
                      [done = std::move(call->done), output = std::move(output)] { done(output); });
}

void SandboxCalls::cancel_all(const ToolOutput& cancelled) {
    std::vector<std::pair<std::uint64_t, std::shared_ptr<Call>>> calls;
    {
        std::lock_guard lock(mutex_);
        calls.assign(calls_.begin(), calls_.end());
    }
    // A cancelled run's sandbox is killed whole (on the io thread, which owns the handle); the
    // call is reported now and the run's own result is dropped.
    for (auto& [id, call] : calls) {
        boost::asio::post(io_, [call = call] { call->run.cancel(); });
        complete(id, cancelled);
    }
}

}  // namespace gossamer::tools
