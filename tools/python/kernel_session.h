// One agent session's kernel and the thread it lives on: cells queue up and run one at a
// time in call order; each completion is posted to the caller's executor. The thread also
// launches the kernel (the sandbox dies with the thread that launched it) and restarts it
// right after a crash or timeout so the next call finds it warm, and stops it after
// PythonOptions::idle_timeout without a call. No policy decisions here.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "tools/python/kernel.h"
#include "tools/tool.h"

namespace gossamer::tools::python {

class KernelSession {
  public:
    KernelSession(PythonOptions options, std::filesystem::path workspace);
    ~KernelSession();  // kills the kernel; queued calls are reported cancelled
    KernelSession(const KernelSession&) = delete;
    KernelSession& operator=(const KernelSession&) = delete;

    void submit(std::string code, std::chrono::milliseconds timeout,
                boost::asio::any_io_executor executor, ToolDone done);
    // Stops the cell in progress and every queued one; each reports the cancellation.
    void cancel_all();
    const std::filesystem::path& workspace() const { return workspace_; }

  private:
    struct Job {
        std::string code;
        std::chrono::milliseconds timeout;
        boost::asio::any_io_executor executor;
        ToolDone done;
    };
    void loop();
    static void finish(Job& job, ToolOutput output);

    std::filesystem::path workspace_;
    std::chrono::milliseconds idle_timeout_;
    Kernel kernel_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> queue_;
    bool busy_ = false;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace gossamer::tools::python
