// One persistent Python interpreter in one sandbox (the stateful tool's "kernel"): launched
// with its stdin kept open, driven by kernel_driver's framed protocol, one cell at a time.
// A cell that times out, is cancelled, or kills the interpreter (a crash, os._exit, OOM)
// kills the whole sandbox; the next start() launches a fresh one and the cell's output says
// the state was lost. Blocking; one thread calls execute()/start(); interrupt() from any.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "sandbox/launcher.h"
#include "tools/python/python_options.h"
#include "tools/tool.h"

namespace gossamer::tools::python {

class Kernel {
  public:
    Kernel(PythonOptions options, std::filesystem::path workspace);
    ~Kernel();
    Kernel(const Kernel&) = delete;
    Kernel& operator=(const Kernel&) = delete;

    // Launches the interpreter if none runs; throws sandbox::LaunchError when it cannot.
    void start();
    bool running() const { return process_ != nullptr; }
    // Runs one cell and returns what the model reads. Never throws.
    ToolOutput execute(const std::string& code, std::chrono::milliseconds timeout);
    // Makes the execute() in progress (or the next one) stop: the kernel is killed.
    void interrupt();
    // Forgets an interrupt() that arrived after the cell it was meant for had finished.
    void clear_interrupt();
    // Stops a kernel that was idle for `idle` (its whole sandbox is killed); the output of
    // the next execute() begins with a line saying so.
    void stop_idle(std::chrono::milliseconds idle);

  private:
    enum class Wait { ready, timed_out, interrupted, closed };
    Wait wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline);
    Wait send(const std::string& frame, std::chrono::steady_clock::time_point deadline);
    Wait receive(std::string& reply, std::chrono::steady_clock::time_point deadline);
    std::string how_it_died();
    std::string stop(Wait why, std::chrono::milliseconds timeout);

    PythonOptions options_;
    std::filesystem::path workspace_;
    std::unique_ptr<sandbox::Launched> process_;
    std::string pending_;    // bytes read after the last complete reply
    std::string idle_note_;  // set by stop_idle, prepended to the next call's output
    int wake_fd_ = -1;       // eventfd: interrupt() writes, execute() polls
};

}  // namespace gossamer::tools::python
