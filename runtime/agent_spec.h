// An agent described in YAML (docs/AGENT_SPEC.md): the model and how to sample it, the
// developer instructions, system-message overrides, tools, limits, the task and where to
// put the outputs. Parsing is strict: unknown keys, wrong types and out-of-range values are
// errors naming the file, line and field. Data only: it must not start models or tools.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "engine/sampler.h"
#include "harmony/message.h"
#include "runtime/remote_options.h"
#include "tools/browser/browser_options.h"
#include "tools/patch/patch_apply.h"
#include "tools/python/python_options.h"
#include "tools/shell/shell_options.h"

namespace gossamer::runtime {

// "FILE:LINE:COLUMN: FIELD: what is wrong".
struct SpecError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct ModelSpec {
    std::string path;  // checkpoint directory (relative to the spec file)
    std::string backend =
        "cpu";  // cpu | cuda | auto (cuda when usable); cpu until CUDA is GPU-verified
    harmony::ReasoningEffort reasoning_effort = harmony::ReasoningEffort::medium;
    engine::SamplingParams sampling;  // temperature 1, top_p 1 by default (the model card's)
    int threads = 0;                  // CPU threads; 0 = all cores
    // Remote engines instead of a local checkpoint (docs/SCALE.md): `endpoints`, `api`,
    // `name` and `remote:` limits; the key is read from the variable `api_key_env` names.
    RemoteOptions remote;
    std::string api_key_env;
};

struct SystemSpec {
    std::optional<std::string> date;  // default: today (UTC), YYYY-MM-DD
    std::string knowledge_cutoff = "2024-06";
    std::optional<std::string> identity;  // default: harmony's
};

struct PluginToolSpec {
    std::string path;   // a native plugin (.so)
    std::string where;  // "FILE:LINE:COLUMN" of its entry, for start-up errors
};

struct McpToolSpec {
    std::string name;
    // A remote server over Streamable HTTP instead of `command`: its URL, headers sent with
    // every request (part of the spec, so stored with each session: no secrets), and the
    // variable holding a bearer token (read when the tools start; never stored or logged).
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string bearer_token_env;
    sandbox::Mode sandbox_mode = sandbox::Mode::automatic;  // sandboxed: the spec's sandbox.mode
    std::vector<std::string> command;                       // argv
    std::vector<std::pair<std::string, std::string>> env;   // added to the allowlisted environment
    bool sandboxed = false;                                 // run it inside gossamer's sandbox
    std::vector<std::string> read_only;      // sandboxed: host paths it may read (its install)
    bool network = false;                    // sandboxed: a network namespace with no network
    std::vector<std::string> network_allow;  // sandboxed: or only these domains (the proxy)
    std::vector<std::string> network_deny;
    int memory_mb = 8192;  // sandboxed: address-space and memory cap
    double timeout_seconds = 60;
    std::string where;  // "FILE:LINE:COLUMN" of its entry, for start-up errors
};

// Each tool kind's entry, parsed by its own parser (tool_kinds.h) into the tool's own options
// type, whose defaults are the only ones. Relative paths stay as written (resolved against the
// spec's folder when the tool is built).
struct ToolsSpec {
    std::optional<tools::python::PythonOptions> python;
    std::optional<tools::browser::BrowserOptions> browser;
    bool workspace_files = false;
    std::optional<tools::patch::ApplyOptions> apply_patch;
    std::optional<tools::shell::ShellOptions> shell;
    std::vector<PluginToolSpec> plugins;
    std::vector<McpToolSpec> mcp;
};

// One policy gate (`hooks:` in the spec, runtime/hook_runner.h): a command run before a
// tool call, after it, or when the run ends, for the tools whose name matches `match`.
struct HookSpec {
    sandbox::Mode sandbox_mode = sandbox::Mode::automatic;  // the spec's sandbox.mode
    std::string match = "*";           // glob over the recipient ("functions.shell", "python")
    std::vector<std::string> command;  // argv; a relative program path is the spec's
    double timeout_seconds = 30;       // past it the hook is killed and the call denied
    bool sandboxed = true;             // false: runs on the host with the allowlisted env
    std::string where;                 // "FILE:LINE:COLUMN" of its entry
};

struct HooksSpec {
    std::vector<HookSpec> pre_tool;
    std::vector<HookSpec> post_tool;
    std::vector<HookSpec> on_finish;
    bool empty() const { return pre_tool.empty() && post_tool.empty() && on_finish.empty(); }
};

// How a long session's context is kept in the window (runtime/compaction.h).
struct ContextSpec {
    double compact_at = 0.8;  // fraction of the window that starts a compaction; 0: never
};

struct LimitsSpec {
    int max_turns = 50;  // model generations in one run
    int max_output_tokens = 65536;
    double wall_time_seconds = 1800;
    double tool_timeout_seconds = 120;  // default per call; a tool's own setting wins
    int context_tokens = 0;             // 0: the model's window (131072)
};

struct OutputsSpec {
    std::optional<std::string> final_answer;  // file for the final answer
    std::optional<std::string> report;        // file for a JSON report of the run
    std::optional<std::string> schema;        // JSON Schema file the final answer must match
    std::optional<nlohmann::ordered_json> schema_json;  // its contents, read and checked
};

// Reads and checks an output schema file (outputs.schema, --output-schema): a JSON object
// that parses; SpecError naming the file otherwise.
nlohmann::ordered_json load_output_schema(const std::filesystem::path& file);

// The spec's YAML with `outputs.schema` set to `schema_path` (`--output-schema`: the stored
// copy of the spec keeps it, so a resumed session or fleet task still honours it).
std::string spec_with_output_schema(const std::string& yaml, const std::string& schema_path);

struct WorkspaceSpec {
    // A folder copied into each new session's workspace (a repository to work on); relative
    // to the spec's folder. Copied once, when the session first starts.
    std::optional<std::string> from;
};

// OpenTelemetry GenAI traces of each run (runtime/gen_ai_tracer.h, docs/TELEMETRY.md).
// GOSSAMER_OTLP_ENDPOINT applies when the spec names none; headers (credentials) come only
// from the environment (GOSSAMER_OTLP_HEADERS / OTEL_EXPORTER_OTLP_HEADERS), never a spec.
struct TelemetrySpec {
    std::optional<std::string> otlp_endpoint;  // http(s) URL; no path: /v1/traces is added
    bool content = false;                      // message text, tool arguments and results
};

// How every sandboxed tool, MCP server and hook of the spec is sandboxed (`sandbox: {mode}`,
// sandbox/policy.h Mode; docs/SECURITY.md). Copied into each one's options when parsed.
struct SandboxSpec {
    sandbox::Mode mode = sandbox::Mode::automatic;
};

struct AgentSpec {
    std::string name;
    ModelSpec model;
    std::optional<std::string> instructions;
    SystemSpec system;
    ToolsSpec tools;
    HooksSpec hooks;
    WorkspaceSpec workspace;
    LimitsSpec limits;
    ContextSpec context;
    std::string task;  // inline `task:` or the contents of `task_file:`
    OutputsSpec outputs;
    TelemetrySpec telemetry;
    SandboxSpec sandbox;
    std::filesystem::path base_dir;  // the spec file's folder: relative paths resolve here
    std::string source;              // the YAML text as given
};

// `origin` names the text in errors; relative paths resolve against `base_dir`.
AgentSpec parse_agent_spec(const std::string& yaml, const std::string& origin,
                           const std::filesystem::path& base_dir);
AgentSpec load_agent_spec(const std::filesystem::path& file);

// Sets the sandbox mode of the spec and of each sandboxed tool, MCP server and hook in it
// (the parser calls it with `sandbox.mode`; `--sandbox MODE` on the command line after).
void set_sandbox_mode(AgentSpec& spec, sandbox::Mode mode);

// The spec's YAML with `sandbox.mode` set (`--sandbox`: kept in the stored copy, so a
// resumed session or fleet task is sandboxed the same way).
std::string spec_with_sandbox_mode(const std::string& yaml, sandbox::Mode mode);

// A spec path made absolute against the spec's folder.
std::filesystem::path resolve(const AgentSpec& spec, const std::string& path);

}  // namespace gossamer::runtime
