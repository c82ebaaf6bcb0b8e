#include "tools/mcp/json_rpc_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <istream>
#include <stdexcept>

extern char** environ;

namespace gossamer::tools {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct JsonRpcProcess::Pipes {
    explicit Pipes(asio::io_context& io) : in(io), out(io), err(io) {}
    asio::posix::stream_descriptor in, out, err;
    asio::streambuf out_buffer, err_buffer;
    std::deque<std::string> queue;  // lines waiting to be written
};

namespace {

void close_pair(int fds[2]) {
    for (int i = 0; i < 2; ++i)
        if (fds[i] >= 0) ::close(fds[i]);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> allowlisted_environment(
    const std::vector<std::pair<std::string, std::string>>& extra) {
    std::vector<std::pair<std::string, std::string>> env;
    for (const char* name : {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "NODE_PATH"})
        if (const char* v = std::getenv(name)) env.emplace_back(name, v);
    for (const auto& entry : extra) {  // (clang 14 cannot capture structured bindings)
        std::erase_if(env, [&](const auto& e) { return e.first == entry.first; });
        env.push_back(entry);
    }
    return env;
}

JsonRpcProcess::JsonRpcProcess(const ProcessSpec& spec, NotificationHandler on_notification,
                               RequestHandler on_request, LogHandler on_stderr)
    : JsonRpcPeer(std::move(on_notification), std::move(on_request), std::move(on_stderr)),
      pipes_(std::make_unique<Pipes>(io_)) {
    if (spec.argv.empty()) throw std::runtime_error("no command to start");
    // A server that exits while we write to it must give EPIPE, not kill the agent.
    static const bool sigpipe_ignored = [] { return ::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
    (void)sigpipe_ignored;
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) {
        close_pair(in), close_pair(out), close_pair(err);
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);  // its own group: we stop it and its children together
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);

    std::vector<std::string> env_text;
    for (const auto& [k, v] : spec.env) env_text.push_back(k + "=" + v);
    std::vector<char*> envp, argv;
    for (auto& e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = spec.argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // posix_spawnp searches our PATH, which the allowlisted environment passes on unchanged.
    const int rc = ::posix_spawnp(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(in[0]), ::close(out[1]), ::close(err[1]);
    if (rc != 0) {
        ::close(in[1]), ::close(out[0]), ::close(err[0]);
        throw std::runtime_error("cannot start '" + spec.argv[0] + "': " + std::strerror(rc));
    }
    pipes_->in.assign(in[1]);
    pipes_->out.assign(out[0]);
    pipes_->err.assign(err[0]);
    start_reading();
    start_reading_stderr();
    start_thread();
}

JsonRpcProcess::~JsonRpcProcess() {
    asio::post(io_, [this] {
        boost::system::error_code ec;
        pipes_->in.close(ec);  // EOF on its stdin: a well-behaved server exits now
    });
    auto reaped = [&](std::chrono::milliseconds within) {
        for (auto end = Clock::now() + within; Clock::now() < end;) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_ || (r < 0 && errno == ECHILD)) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return false;
    };
    if (!reaped(std::chrono::milliseconds(1000))) {
        ::kill(-pid_, SIGTERM);
        if (!reaped(std::chrono::milliseconds(1000))) {
            ::kill(-pid_, SIGKILL);
            reaped(std::chrono::milliseconds(5000));
        }
    }
    ::kill(-pid_, SIGKILL);  // anything its children left behind in the group
    asio::post(io_, [this] {
        boost::system::error_code ec;
        pipes_->out.close(ec);
        pipes_->err.close(ec);
    });
    shut_down();
}

std::string JsonRpcProcess::exit_description() const {
    std::lock_guard lock(status_mutex_);
    if (!exited_) return "running";
    if (WIFEXITED(wait_status_))
        return "exited with status " + std::to_string(WEXITSTATUS(wait_status_));
    if (WIFSIGNALED(wait_status_))
        return std::string("killed by signal ") + std::to_string(WTERMSIG(wait_status_)) + " (" +
               ::strsignal(WTERMSIG(wait_status_)) + ")";
    return "closed its output";
}

void JsonRpcProcess::start_reading() {
    asio::async_read_until(pipes_->out, pipes_->out_buffer, '\n',
                           [this](boost::system::error_code ec, std::size_t) {
                               if (ec) return on_exit();
                               std::istream stream(&pipes_->out_buffer);
                               std::string line;
                               std::getline(stream, line);
                               on_line(line);
                               start_reading();
                           });
}

void JsonRpcProcess::start_reading_stderr() {
    asio::async_read_until(pipes_->err, pipes_->err_buffer, '\n',
                           [this](boost::system::error_code ec, std::size_t) {
                               if (ec) return;
                               std::istream stream(&pipes_->err_buffer);
                               std::string line;
                               std::getline(stream, line);
                               log(line);
                               start_reading_stderr();
                           });
}

void JsonRpcProcess::on_exit() {
    {
        std::lock_guard lock(status_mutex_);
        if (exited_) return;
        exited_ = true;
        int status = 0;
        for (int i = 0; i < 100; ++i) {  // it closed stdout; give it a moment to be reapable
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                wait_status_ = status;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
    gone("the server " + exit_description());
}

void JsonRpcProcess::on_line(const std::string& line) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) return;
    Json message;
    try {
        message = Json::parse(line);
    } catch (const Json::exception&) {  // also numbers out of range (1e309)
        log("[not JSON on stdout] " + line.substr(0, 200));
        return;
    }
    receive(message);
}

void JsonRpcProcess::send(const Json& message) {
    const bool idle = pipes_->queue.empty();
    pipes_->queue.push_back(message.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
    if (idle) write_next();
}

// Writes the queue's front line, then the next, one async_write at a time.
void JsonRpcProcess::write_next() {
    if (pipes_->queue.empty()) return;
    asio::async_write(pipes_->in, asio::buffer(pipes_->queue.front()),
                      [this](boost::system::error_code ec, std::size_t) {
                          pipes_->queue.pop_front();
                          if (ec) return pipes_->queue.clear();
                          write_next();
                      });
}

}  // namespace gossamer::tools
