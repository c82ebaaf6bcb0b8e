// Running a command in the sandbox: the asynchronous operation on a Boost.Asio io_context
// (pipes and the init's pidfd as stream descriptors, a steady timer for the wall-clock
// limit) and a synchronous wrapper. Output is captured with the policy's cap (head and tail
// kept, a marker between); the wall-clock limit kills the whole pid namespace, and the
// operation completes only when the init is reaped and every pipe is closed (or after a
// short grace, so a leaked pipe cannot hang it). No Python, no agents here.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>
#include <vector>

#include "sandbox/launcher.h"
#include "sandbox/policy.h"
#include "sandbox/result.h"

namespace gossamer::sandbox {

using RunHandler = std::function<void(SandboxResult)>;

// Cancels an asynchronous run: the whole sandbox is killed at once (SIGKILL to its init, so
// the kernel kills every process in its pid namespace) and the run completes with
// `cancelled` set (stop == signaled, SIGKILL). Callable from any thread, any number of
// times, while the run's io_context exists; nothing happens once the run has completed.
class RunHandle {
  public:
    RunHandle() = default;
    void cancel() const;

  private:
    friend RunHandle async_run(boost::asio::io_context&, const Policy&, LaunchRequest, RunHandler);
    std::function<void()> cancel_;
};

// Starts the run and returns its handle; `done` is called on `io` (exactly once) with the
// result. A refusal (missing required layer, bad request) is delivered as a result with
// stop == refused, never thrown.
RunHandle async_run(boost::asio::io_context& io, const Policy& policy, LaunchRequest request,
                    RunHandler done);

// Runs to completion on a private io_context on the calling thread.
SandboxResult run(const Policy& policy, const LaunchRequest& request);

}  // namespace gossamer::sandbox
