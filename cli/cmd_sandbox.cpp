// `gossamer sandbox exec` (run a command in the sandbox, for debugging and tests) and
// `gossamer doctor` (which isolation layers work on this machine). Thin: parsing and
// printing only; everything else is sandbox/.
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "cli/cli_io.h"
#include "cli/commands.h"
#include "sandbox/doctor.h"
#include "sandbox/egress_rules.h"
#include "sandbox/launcher.h"
#include "sandbox/policy.h"
#include "sandbox/sandbox.h"
#include "sandbox/sanitize.h"

namespace gossamer::cli {
namespace {

namespace sbx = gossamer::sandbox;

std::string read_policy_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError("cannot read policy file '" + path + "'");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

sbx::Policy policy_from_options(const Parsed& p) {
    sbx::Policy policy;
    try {
        policy = p.get("--policy") ? sbx::policy_from_json(read_policy_file(*p.get("--policy")))
                                   : sbx::default_policy();
    } catch (const sbx::PolicyError& e) {
        throw InputError(e.what());
    }
    if (auto mode = p.get("--mode")) {
        const auto parsed = sbx::mode_from_name(*mode);
        if (!parsed)
            throw InputError("--mode '" + *mode + "': expected auto, userns, root or container");
        policy.mode = *parsed;
    }
    if (p.has("--net")) policy.network = true;
    const auto patterns = [&](const char* option, std::vector<std::string>& out) {
        const auto list = p.get(option);
        if (!list) return;
        out.clear();
        for (std::size_t start = 0; start <= list->size();) {
            const auto comma = std::min(list->find(',', start), list->size());
            const std::string item = list->substr(start, comma - start);
            start = comma + 1;
            if (item.empty()) continue;
            if (auto bad = sbx::bad_pattern(item))
                throw InputError(std::string(option) + ": " + *bad);
            out.push_back(item);
        }
    };
    patterns("--net-allow", policy.network_allow);
    patterns("--net-deny", policy.network_deny);
    if (p.has("--net") && p.get("--net-allow"))
        throw InputError(
            "--net gives the whole network; --net-allow only some domains: one of them");
    if (p.has("--unsandboxed")) policy.isolation = false;
    if (auto dir = p.get("--workspace")) {
        std::error_code ec;
        const auto absolute = std::filesystem::canonical(*dir, ec);
        if (ec || !std::filesystem::is_directory(absolute))
            throw InputError("--workspace '" + *dir + "' is not an existing directory");
        policy.workspace_host = absolute.string();
    }
    if (auto seconds = p.get("--timeout"))
        policy.limits.wall_ms = static_cast<std::uint64_t>(
            parse_number(*seconds, "--timeout", 0.001, 86400.0) * 1000.0);
    return policy;
}

// --read-only A,B: more host paths visible read-only at the same place (e.g. an MCP
// server's installation); HOST=SANDBOX puts one elsewhere (paths under /tmp, /proc and /dev
// are the sandbox's own).
void add_read_only(sbx::Policy& policy, const std::string& list) {
    for (std::size_t start = 0; start <= list.size();) {
        const auto comma = std::min(list.find(',', start), list.size());
        const std::string item = list.substr(start, comma - start);
        start = comma + 1;
        if (item.empty()) continue;
        const auto eq = item.find('=');
        const std::string host = item.substr(0, eq);
        std::error_code ec;
        const auto absolute = std::filesystem::canonical(host, ec);
        if (ec) throw InputError("--read-only '" + host + "' does not exist");
        const std::string inside =
            eq == std::string::npos ? absolute.string() : item.substr(eq + 1);
        policy.read_only_binds.push_back({absolute.string(), inside, false});
    }
}

bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// --interactive: stream our stdin to the command and its output back as it comes (an MCP
// server or a REPL in the sandbox), until it exits; returns its shell status.
int relay(const sbx::Policy& policy, sbx::LaunchRequest request) {
    request.keep_stdin_open = true;
    std::unique_ptr<sbx::Launched> run;
    try {
        run = sbx::launch(policy, request);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gossamer sandbox: %s\n", e.what());
        return 125;
    }
    for (const auto& note : run->notes)
        std::fprintf(stderr, "gossamer sandbox: note: %s\n", note.c_str());
    const int in_flags = ::fcntl(run->stdin_fd, F_GETFL);
    ::fcntl(run->stdin_fd, F_SETFL, in_flags & ~O_NONBLOCK);  // simple blocking writes
    int ours = STDIN_FILENO, to_child = run->stdin_fd;
    int out = run->stdout_fd, err = run->stderr_fd;
    char buffer[65536];
    // A domain allowlist's decisions, as they come (a sandboxed MCP server's stderr is the
    // session log).
    const auto decisions = [&] {
        std::vector<std::string> lines;
        {
            std::lock_guard lock(run->network_log->mutex);
            lines.swap(run->network_log->lines);
        }
        for (const auto& line : lines)
            std::fprintf(stderr, "gossamer sandbox: network: %s\n", line.c_str());
    };
    const int wait_ms = sbx::proxied_network(policy) ? 250 : -1;
    while (out >= 0 || err >= 0) {
        pollfd fds[3] = {{ours, POLLIN, 0}, {out, POLLIN, 0}, {err, POLLIN, 0}};
        if (::poll(fds, 3, wait_ms) < 0 && errno != EINTR) break;
        decisions();
        auto pump = [&](pollfd& f, int& from, int to) {
            if (from < 0 || !(f.revents & (POLLIN | POLLHUP | POLLERR))) return;
            const ssize_t n = ::read(from, buffer, sizeof buffer);
            if (n > 0 && (to < 0 || write_all(to, buffer, static_cast<std::size_t>(n)))) return;
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
            if (from == ours && to_child >= 0) {  // EOF on our stdin: pass it on
                ::close(to_child);
                to_child = run->stdin_fd = -1;
            }
            from = -1;
        };
        pump(fds[0], ours, to_child);
        pump(fds[1], out, STDOUT_FILENO);
        pump(fds[2], err, STDERR_FILENO);
    }
    if (to_child >= 0) ::close(to_child), run->stdin_fd = -1;
    decisions();
    int status = 0;
    while (::waitpid(run->pid, &status, __WALL) < 0 && errno == EINTR) {
    }
    run->pid = -1;  // reaped here; the destructor must not wait for it again
    return WIFEXITED(status) ? WEXITSTATUS(status)
                             : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

void write_stream(std::FILE* out, const std::string& bytes) {
    std::fwrite(bytes.data(), 1, bytes.size(), out);
    std::fflush(out);
}

}  // namespace

int cmd_sandbox_exec(Args args) {
    const auto dashes = std::find(args.begin(), args.end(), std::string_view("--"));
    const Parsed p =
        parse_args(Args(args.begin(), dashes),
                   {"--policy", "--workspace", "--timeout", "--read-only", "--memory-mb", "--pids",
                    "--mode", "--net-allow", "--net-deny"},
                   {"--net", "--unsandboxed", "--sanitize", "--print-policy", "--interactive"}, 0);
    sbx::Policy policy = policy_from_options(p);
    if (auto list = p.get("--read-only")) add_read_only(policy, *list);
    if (auto mb = p.get("--memory-mb"))
        policy.limits.memory_bytes = parse_uint(*mb, "--memory-mb", 16, 1 << 20) << 20;
    if (auto pids = p.get("--pids")) policy.limits.pids = parse_uint(*pids, "--pids", 1, 65536);
    if (p.has("--interactive") && !p.get("--timeout"))
        policy.limits.wall_ms = 0;  // a server lives long
    if (p.has("--print-policy")) {
        write_stdout(sbx::policy_to_json(policy) + "\n");
        return 0;
    }
    if (dashes == args.end() || dashes + 1 == args.end())
        throw InputError("usage: gossamer sandbox exec [options] -- CMD ARGS...");
    sbx::LaunchRequest request;
    for (auto it = dashes + 1; it != args.end(); ++it) request.argv.emplace_back(*it);
    if (!policy.isolation)
        std::fprintf(stderr,
                     "gossamer sandbox: WARNING: --unsandboxed: no namespaces, no "
                     "seccomp, no Landlock; the command sees this whole machine with "
                     "your privileges (only limits and the environment apply)\n");
    if (policy.isolation && policy.mode == sbx::Mode::container)
        std::fprintf(stderr, "gossamer sandbox: note: container mode: %s\n",
                     std::string(sbx::mode_caveats(policy.mode)).c_str());
    if (p.has("--interactive")) return relay(policy, std::move(request));
    if (!::isatty(0)) request.stdin_bytes = read_stdin();
    const sbx::SandboxResult result = sbx::run(policy, request);
    const bool clean = p.has("--sanitize");
    write_stream(stdout, clean ? sbx::sanitize_for_model(result.stdout_text) : result.stdout_text);
    write_stream(stderr, clean ? sbx::sanitize_for_model(result.stderr_text) : result.stderr_text);
    if (result.stop != sbx::StopReason::exited || result.exit_code != 0 || result.output_truncated)
        std::fprintf(stderr, "gossamer sandbox: %s\n", result.report.c_str());
    for (const auto& note : result.notes)
        std::fprintf(stderr, "gossamer sandbox: note: %s\n", note.c_str());
    for (const auto& decision : result.network)
        std::fprintf(stderr, "gossamer sandbox: network: %s\n", decision.c_str());
    return result.shell_status();
}

int cmd_doctor(Args args) {
    const Parsed p = parse_args(args, {}, {"--json"}, 0);
    const sbx::DoctorReport report = sbx::run_doctor();
    write_stdout(p.has("--json") ? sbx::doctor_json(report) + "\n" : sbx::doctor_text(report));
    return report.end_to_end ? 0 : 1;
}

}  // namespace gossamer::cli
