#include "tools/python/kernel.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <ctime>

#include "sandbox/child_report.h"
#include "sandbox/output_cap.h"
#include "sandbox/report.h"
#include "tools/python/kernel_driver.h"
#include "tools/python/python_output.h"
#include "tools/python/python_policy.h"

namespace gossamer::tools::python {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() < 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

// A write to a dead kernel raises SIGPIPE on this thread: blocked here, consumed after EPIPE.
void block_sigpipe() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void consume_sigpipe() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    const timespec zero{0, 0};
    ::sigtimedwait(&set, nullptr, &zero);
}

// The driver's reply "\0GOSSAMER:<kept>:<total>\n<kept bytes>" as model text with the
// sandbox's truncation marker between head and tail; false while incomplete. Bytes before
// the magic (interpreter start-up noise) are dropped.
bool parse_reply(std::string& buffer, std::string& output) {
    const auto at = buffer.find(kReplyMagic);
    if (at == std::string::npos) return false;
    const auto eol = buffer.find('\n', at);
    if (eol == std::string::npos) return false;
    unsigned long long kept = 0, total = 0;
    if (std::sscanf(buffer.c_str() + at + kReplyMagic.size(), "%llu:%llu", &kept, &total) != 2)
        return false;
    if (buffer.size() - eol - 1 < kept) return false;
    std::string data = buffer.substr(eol + 1, kept);
    buffer.erase(0, eol + 1 + kept);
    if (total > kept) {
        const auto half = data.size() / 2;
        output =
            data.substr(0, half) + sandbox::truncation_marker(total - kept) + data.substr(half);
    } else {
        output = std::move(data);
    }
    return true;
}

std::string restart_sentence() {
    return std::string(
               " The Python kernel was restarted: variables, imports and definitions "
               "from earlier calls are lost (files in ") +
           kWorkspaceInside + " are kept).";
}

}  // namespace

Kernel::Kernel(PythonOptions options, std::filesystem::path workspace)
    : options_(std::move(options)), workspace_(std::move(workspace)) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

Kernel::~Kernel() {
    process_.reset();
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Kernel::start() {
    if (process_) return;
    block_sigpipe();
    sandbox::LaunchRequest request;
    request.argv = {options_.interpreter, "-c", std::string(kernel_driver_source()),
                    std::to_string(options_.max_output_bytes)};
    request.merge_stderr = true;
    request.keep_stdin_open = true;
    pending_.clear();
    process_ =
        sandbox::launch(python_policy(options_, workspace_, std::chrono::milliseconds(0)), request);
}

void Kernel::stop_idle(std::chrono::milliseconds idle) {
    if (!process_) return;
    process_.reset();  // SIGKILL to the sandbox's init, then reaped
    pending_.clear();
    idle_note_ = "[WARN] The Python kernel was stopped after " + seconds_text(idle) +
                 " without a call." + restart_sentence() + "\n";
}

void Kernel::interrupt() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void Kernel::clear_interrupt() {
    std::uint64_t value = 0;
    [[maybe_unused]] auto n = ::read(wake_fd_, &value, sizeof value);
}

Kernel::Wait Kernel::wait_for(int fd, short events, Clock::time_point deadline) {
    pollfd fds[2] = {{fd, events, 0}, {wake_fd_, POLLIN, 0}};
    for (;;) {
        const int n = ::poll(fds, 2, remaining_ms(deadline));
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) return Wait::timed_out;
        if (fds[1].revents & POLLIN) {
            std::uint64_t value = 0;
            [[maybe_unused]] auto r = ::read(wake_fd_, &value, sizeof value);
            return Wait::interrupted;
        }
        if (fds[0].revents & events) return Wait::ready;
        return Wait::closed;  // POLLHUP / POLLERR without data
    }
}

Kernel::Wait Kernel::send(const std::string& frame, Clock::time_point deadline) {
    std::size_t done = 0;
    while (done < frame.size()) {
        const ssize_t n = ::write(process_->stdin_fd, frame.data() + done, frame.size() - done);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            const Wait w = wait_for(process_->stdin_fd, POLLOUT, deadline);
            if (w != Wait::ready) return w;
            continue;
        }
        consume_sigpipe();
        return Wait::closed;
    }
    return Wait::ready;
}

Kernel::Wait Kernel::receive(std::string& reply, Clock::time_point deadline) {
    char chunk[65536];
    while (!parse_reply(pending_, reply)) {
        const Wait w = wait_for(process_->stdout_fd, POLLIN, deadline);
        if (w != Wait::ready) return w;
        const ssize_t n = ::read(process_->stdout_fd, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) return Wait::closed;
        pending_.append(chunk, static_cast<std::size_t>(n));
        if (pending_.size() > (options_.max_output_bytes + 4096) * 2 &&
            pending_.find(kReplyMagic) == std::string::npos)
            pending_.erase(0, pending_.size() / 2);  // noise before any reply: bounded
    }
    return Wait::ready;
}

// The payload's wait status from the init's report (it reports once everything is reaped).
std::string Kernel::how_it_died() {
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    sandbox::ChildReport report;
    while (wait_for(process_->report_fd, POLLIN, deadline) == Wait::ready) {
        if (::read(process_->report_fd, &report, sizeof report) != sizeof report) break;
        if (report.kind == sandbox::ReportKind::setup_failed)  // e.g. a workspace it may not enter
            return "could not start (" + sandbox::setup_failure_text(report) + ")";
        if (report.kind != sandbox::ReportKind::exited) continue;
        const int status = report.value;
        if (WIFSIGNALED(status)) {
            const int sig = WTERMSIG(status);
            return "killed by " + sandbox::signal_name(sig) +
                   (sig == SIGKILL ? " (out of memory, or a resource limit)" : "");
        }
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    }
    return "died";
}

// Kills the kernel after a call that did not complete and says why, for the model.
std::string Kernel::stop(Wait why, std::chrono::milliseconds timeout) {
    std::string line;
    if (why == Wait::timed_out)
        line = "[ERROR] Execution timed out after " + seconds_text(timeout) + ".";
    else if (why == Wait::interrupted)
        line = "[ERROR] The call was cancelled.";
    else
        line = "[ERROR] The Python process " + how_it_died() + ".";
    process_.reset();  // SIGKILL to the sandbox's init, then reaped
    pending_.clear();
    return line + restart_sentence();
}

ToolOutput Kernel::execute(const std::string& code, std::chrono::milliseconds timeout) {
    try {
        start();
    } catch (const std::exception& e) {
        return {std::string("[ERROR] The Python kernel could not start: ") + e.what(), true};
    }
    const auto deadline =
        Clock::now() + (timeout.count() > 0 ? timeout : std::chrono::hours(24 * 365));
    Wait w = send(std::to_string(code.size()) + "\n" + code, deadline);
    std::string output;
    if (w == Wait::ready) w = receive(output, deadline);
    ToolOutput result =
        w == Wait::ready ? model_output(output, "", 0) : model_output("", stop(w, timeout), 0);
    result.text.insert(0, std::exchange(idle_note_, {}));
    if (process_ && process_->network_log) {  // the proxy's decisions since the last call
        std::lock_guard lock(process_->network_log->mutex);
        result.network = std::exchange(process_->network_log->lines, {});
    }
    return result;
}

}  // namespace gossamer::tools::python
