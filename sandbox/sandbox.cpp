// The asynchronous run (sandbox.h): one RunOperation per run, alive while any of its
// asynchronous steps is pending (each handler holds shared_from_this()).
#include "sandbox/sandbox.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "sandbox/output_cap.h"
#include "sandbox/report.h"

namespace gossamer::sandbox {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

// After the init is reaped every process in the sandbox is dead, so the pipes close at
// once; this only bounds the wait for a descriptor that leaked out of the sandbox.
constexpr auto kPipeGrace = std::chrono::milliseconds(500);

struct Stream {
    asio::posix::stream_descriptor descriptor;
    OutputCap cap;
    std::array<char, 65536> buffer{};
    bool open = false;

    Stream(asio::io_context& io, std::uint64_t max_bytes) : descriptor(io), cap(max_bytes) {}
};

// The threads that finish runs off the caller's path (reap the init, remove the cgroups).
// At exit the process waits for them (briefly: the init is already ending), so its last
// runs leave no cgroup behind.
class Reapers {
  public:
    static Reapers& get() {
        static Reapers* reapers = [] {  // never destroyed: a late thread may still report
            auto* made = new Reapers;
            std::atexit([] { get().wait_idle(std::chrono::seconds(2)); });
            return made;
        }();
        return *reapers;
    }
    void started() {
        std::lock_guard lock(mutex_);
        ++running_;
    }
    void finished() {
        std::lock_guard lock(mutex_);
        --running_;
        idle_.notify_all();
    }
    void wait_idle(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        idle_.wait_for(lock, timeout, [this] { return running_ == 0; });
    }

  private:
    std::mutex mutex_;
    std::condition_variable idle_;
    int running_ = 0;
};

class RunOperation : public std::enable_shared_from_this<RunOperation> {
  public:
    RunOperation(asio::io_context& io, const Policy& policy, LaunchRequest request, RunHandler done)
        : io_(io),
          policy_(policy),
          request_(std::move(request)),  // keep_stdin_open is cleared below
          done_(std::move(done)),
          out_(io, policy.limits.output_bytes),
          err_(io, policy.limits.output_bytes),
          report_(io),
          pidfd_(io),
          wall_timer_(io),
          grace_timer_(io) {
        request_.keep_stdin_open = false;  // nobody would write it: the run would hang
    }

    void start() {
        started_at_ = Clock::now();
        try {
            launched_ = launch(policy_, request_);
        } catch (const std::exception& e) {
            SandboxResult result;
            result.stop = StopReason::refused;
            result.report = e.what();
            return deliver(std::move(result));
        }
        adopt(out_, launched_->stdout_fd);
        adopt(err_, launched_->stderr_fd);
        report_.assign(std::exchange(launched_->report_fd, -1));
        report_open_ = true;
        pidfd_.assign(::dup(launched_->pidfd));
        read_stream(out_);
        read_stream(err_);
        read_report();
        wait_exit();
        if (policy_.limits.wall_ms) {
            wall_timer_.expires_after(std::chrono::milliseconds(policy_.limits.wall_ms));
            wall_timer_.async_wait([self = shared_from_this()](error_code ec) {
                if (!ec) self->on_timeout();
            });
        }
    }

    // Called once the result is out (run() only): a run that finished before its init was
    // reaped leaves the reaping and the cgroup removal to a thread of their own.
    void hand_off_reaping() {
        if (!launched_) return;
        Reapers& reapers = Reapers::get();
        reapers.started();
        std::thread([launched = std::move(launched_), &reapers]() mutable {
            launched.reset();
            reapers.finished();
        }).detach();
    }

  private:
    void adopt(Stream& stream, int& fd) {
        if (fd < 0) return;
        stream.descriptor.assign(std::exchange(fd, -1));
        stream.open = true;
    }

    void read_stream(Stream& stream) {
        if (!stream.open) return;
        stream.descriptor.async_read_some(
            asio::buffer(stream.buffer),
            [self = shared_from_this(), &stream](error_code ec, std::size_t n) {
                self->on_read(stream, ec, n);
            });
    }

    void on_read(Stream& stream, error_code ec, std::size_t n) {
        if (n > 0) stream.cap.append(std::string_view(stream.buffer.data(), n));
        if (ec) {
            close(stream);
            return maybe_finish();
        }
        read_stream(stream);
    }

    void close(Stream& stream) {
        error_code ignored;
        stream.descriptor.close(ignored);
        stream.open = false;
    }

    void read_report() {
        asio::async_read(
            report_, asio::buffer(&record_, sizeof record_),
            [self = shared_from_this()](error_code ec, std::size_t n) { self->on_report(ec, n); });
    }

    void on_report(error_code ec, std::size_t n) {
        if (!ec && n == sizeof record_) {
            reports_.push_back(record_);
            return read_report();
        }
        error_code ignored;
        report_.close(ignored);
        report_open_ = false;
        maybe_finish();
    }

    void wait_exit() {
        pidfd_.async_wait(asio::posix::stream_descriptor::wait_read,
                          [self = shared_from_this()](error_code ec) {
                              if (!ec) self->on_exit();
                          });
    }

    void on_exit() {
        rusage usage{};
        int status = 0;
        pid_t pid;
        while ((pid = ::wait4(launched_->pid, &status, __WALL, &usage)) < 0 && errno == EINTR) {
        }
        if (pid == launched_->pid) launched_->pid = -1;  // reaped: nothing left to kill
        if (finished_) return launched_.reset();         // the result went out already; cleanup
        exited_ = true;
        wall_ms_ = std::chrono::duration<double, std::milli>(Clock::now() - started_at_).count();
        init_status_ = status;
        cpu_ms_ = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
                  static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
        wall_timer_.cancel();
        grace_timer_.expires_after(kPipeGrace);
        grace_timer_.async_wait([self = shared_from_this()](error_code ec) {
            if (!ec) self->on_grace_expired();
        });
        maybe_finish();
    }

    void on_timeout() {
        if (exited_) return;
        timed_out_ = true;
        launched_->kill_all();
    }

  public:
    void cancel() {
        if (finished_ || exited_ || !launched_ || timed_out_) return;
        cancelled_ = true;
        launched_->kill_all();
    }

  private:
    void on_grace_expired() {
        if (out_.open) close(out_);
        if (err_.open) close(err_);
        error_code ignored;
        if (report_open_) report_.close(ignored), report_open_ = false;
        maybe_finish();
    }

    // Done when the pipes are closed and either the init is reaped or it reported that the
    // command ended and everything else was reaped (its own exit, which tears down the
    // namespaces and can take milliseconds, then happens off the critical path).
    void maybe_finish() {
        if (finished_ || out_.open || err_.open || report_open_) return;
        if (!exited_ && !init_reported_end()) return;
        finished_ = true;
        if (!exited_)
            wall_ms_ =
                std::chrono::duration<double, std::milli>(Clock::now() - started_at_).count();
        wall_timer_.cancel();
        grace_timer_.cancel();
        deliver(collect());
        if (exited_) {
            error_code ignored;
            pidfd_.close(ignored);
        }
    }

    bool init_reported_end() const {
        for (const ChildReport& r : reports_)
            if (r.kind == ReportKind::exited || r.kind == ReportKind::setup_failed) return true;
        return false;
    }

    double reported_cpu_ms() const {
        for (const ChildReport& r : reports_)
            if (r.kind == ReportKind::exited) return static_cast<double>(r.cpu_us) / 1e3;
        return cpu_ms_;
    }

    SandboxResult collect() {
        RunFacts facts;
        facts.isolated = launched_->isolated;
        facts.init_status = init_status_;
        facts.timed_out = timed_out_;
        facts.cancelled = cancelled_;
        cpu_ms_ = reported_cpu_ms();
        facts.cpu_ms = cpu_ms_;
        facts.reports = reports_;
        facts.oom_kills = launched_->cgroups ? launched_->cgroups->oom_kills() : 0;
        facts.pids_refused = launched_->cgroups ? launched_->cgroups->pids_refused() : 0;
        SandboxResult result = describe_run(facts, policy_, request_);
        result.wall_ms = wall_ms_;
        result.cpu_ms = cpu_ms_;
        result.stdout_text = out_.cap.text();
        result.stderr_text = err_.cap.text();
        result.stdout_bytes = out_.cap.total_bytes();
        result.stderr_bytes = err_.cap.total_bytes();
        result.output_truncated = out_.cap.truncated() || err_.cap.truncated();
        add_output_notes(result, policy_);
        result.notes.insert(result.notes.begin(), launched_->notes.begin(), launched_->notes.end());
        {
            std::lock_guard lock(launched_->network_log->mutex);
            result.network = launched_->network_log->lines;
        }
        if (exited_) launched_.reset();  // removes the cgroups; else once the init is reaped
        return result;
    }

    void deliver(SandboxResult result) {
        asio::post(io_, [done = std::move(done_), result = std::move(result)]() mutable {
            done(std::move(result));
        });
    }

    asio::io_context& io_;
    Policy policy_;
    LaunchRequest request_;
    RunHandler done_;
    std::unique_ptr<Launched> launched_;
    Stream out_, err_;
    asio::posix::stream_descriptor report_;
    bool report_open_ = false;
    ChildReport record_{};
    std::vector<ChildReport> reports_;
    asio::posix::stream_descriptor pidfd_;
    asio::steady_timer wall_timer_, grace_timer_;
    Clock::time_point started_at_;
    bool exited_ = false, timed_out_ = false, cancelled_ = false, finished_ = false;
    int init_status_ = 0;
    double wall_ms_ = 0, cpu_ms_ = 0;
};

}  // namespace

void RunHandle::cancel() const {
    if (cancel_) cancel_();
}

RunHandle async_run(asio::io_context& io, const Policy& policy, LaunchRequest request,
                    RunHandler done) {
    auto op = std::make_shared<RunOperation>(io, policy, std::move(request), std::move(done));
    op->start();
    RunHandle handle;
    handle.cancel_ = [&io, weak = std::weak_ptr<RunOperation>(op)] {
        asio::post(io, [weak] {
            if (auto alive = weak.lock()) alive->cancel();
        });
    };
    return handle;
}

SandboxResult run(const Policy& policy, const LaunchRequest& request) {
    asio::io_context io;
    SandboxResult result;
    bool done = false;
    auto op = std::make_shared<RunOperation>(io, policy, request, [&](SandboxResult r) {
        result = std::move(r);
        done = true;
    });
    op->start();
    while (!done && io.run_one() > 0) {
    }
    op->hand_off_reaping();
    return result;
}

}  // namespace gossamer::sandbox
