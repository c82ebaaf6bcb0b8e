#include "tools/python/kernel_session.h"

#include <boost/asio/post.hpp>

namespace gossamer::tools::python {
namespace {

ToolOutput cancelled() {
    return {"[ERROR] The call was cancelled before it ran.", true};
}

}  // namespace

KernelSession::KernelSession(PythonOptions options, std::filesystem::path workspace)
    : workspace_(workspace),
      idle_timeout_(options.idle_timeout),
      kernel_(std::move(options), std::move(workspace)) {
    thread_ = std::thread([this] { loop(); });
}

KernelSession::~KernelSession() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cancel_all();
    wake_.notify_all();
    thread_.join();
}

void KernelSession::finish(Job& job, ToolOutput output) {
    boost::asio::post(job.executor,
                      [done = std::move(job.done), output = std::move(output)] { done(output); });
}

void KernelSession::submit(std::string code, std::chrono::milliseconds timeout,
                           boost::asio::any_io_executor executor, ToolDone done) {
    Job job{std::move(code), timeout, std::move(executor), std::move(done)};
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            queue_.push_back(std::move(job));
            wake_.notify_all();
            return;
        }
    }
    finish(job, cancelled());
}

void KernelSession::cancel_all() {
    std::deque<Job> dropped;
    {
        std::lock_guard lock(mutex_);
        dropped.swap(queue_);
        if (busy_) kernel_.interrupt();
    }
    for (auto& job : dropped) finish(job, cancelled());
}

void KernelSession::loop() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            const auto ready = [&] { return stopping_ || !queue_.empty(); };
            if (idle_timeout_.count() > 0 && kernel_.running()) {
                if (!wake_.wait_for(lock, idle_timeout_, ready)) {
                    kernel_.stop_idle(idle_timeout_);  // idle: free its sandbox
                    continue;
                }
            } else {
                wake_.wait(lock, ready);
            }
            if (stopping_ && queue_.empty()) return;
            job = std::move(queue_.front());
            queue_.pop_front();
            busy_ = true;
            kernel_.clear_interrupt();
        }
        ToolOutput output = kernel_.execute(job.code, job.timeout);
        {
            std::lock_guard lock(mutex_);
            busy_ = false;
        }
        finish(job, std::move(output));
        std::lock_guard lock(mutex_);
        if (queue_.empty() && !stopping_ && !kernel_.running()) {
            try {
                kernel_.start();  // warm for the next call; a failure shows on that call
            } catch (const std::exception&) {
            }
        }
    }
}

}  // namespace gossamer::tools::python
