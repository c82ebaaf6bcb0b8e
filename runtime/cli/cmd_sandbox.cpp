// `gossamer sandbox exec` (run a command in the sandbox, for debugging and tests) and
// `gossamer doctor` (which isolation layers work on this machine). Thin: parsing and
// printing only; everything else is sandbox/.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "runtime/cli/cli_args.h"
#include "runtime/cli/cli_io.h"
#include "runtime/cli/commands.h"
#include "sandbox/doctor.h"
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
    if (p.has("--net")) policy.network = true;
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

void write_stream(std::FILE* out, const std::string& bytes) {
    std::fwrite(bytes.data(), 1, bytes.size(), out);
    std::fflush(out);
}

}  // namespace

int cmd_sandbox_exec(Args args) {
    const auto dashes = std::find(args.begin(), args.end(), std::string_view("--"));
    const Parsed p =
        parse_args(Args(args.begin(), dashes), {"--policy", "--workspace", "--timeout"},
                   {"--net", "--unsandboxed", "--sanitize", "--print-policy"}, 0);
    const sbx::Policy policy = policy_from_options(p);
    if (p.has("--print-policy")) {
        write_stdout(sbx::policy_to_json(policy) + "\n");
        return 0;
    }
    if (dashes == args.end() || dashes + 1 == args.end())
        throw InputError("usage: gossamer sandbox exec [options] -- CMD ARGS...");
    sbx::LaunchRequest request;
    for (auto it = dashes + 1; it != args.end(); ++it) request.argv.emplace_back(*it);
    if (!::isatty(0)) request.stdin_bytes = read_stdin();
    if (!policy.isolation)
        std::fprintf(stderr,
                     "gossamer sandbox: WARNING: --unsandboxed: no namespaces, no "
                     "seccomp, no Landlock; the command sees this whole machine with "
                     "your privileges (only limits and the environment apply)\n");
    const sbx::SandboxResult result = sbx::run(policy, request);
    const bool clean = p.has("--sanitize");
    write_stream(stdout, clean ? sbx::sanitize_for_model(result.stdout_text) : result.stdout_text);
    write_stream(stderr, clean ? sbx::sanitize_for_model(result.stderr_text) : result.stderr_text);
    if (result.stop != sbx::StopReason::exited || result.exit_code != 0 || result.output_truncated)
        std::fprintf(stderr, "gossamer sandbox: %s\n", result.report.c_str());
    for (const auto& note : result.notes)
        std::fprintf(stderr, "gossamer sandbox: note: %s\n", note.c_str());
    return result.shell_status();
}

int cmd_doctor(Args args) {
    const Parsed p = parse_args(args, {}, {"--json"}, 0);
    const sbx::DoctorReport report = sbx::run_doctor();
    write_stdout(p.has("--json") ? sbx::doctor_json(report) + "\n" : sbx::doctor_text(report));
    return report.end_to_end ? 0 : 1;
}

}  // namespace gossamer::cli
