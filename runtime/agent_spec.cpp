#include "runtime/agent_spec.h"

#include <yaml-cpp/yaml.h>

#include "harmony/utf8.h"
#include "runtime/spec_reader.h"
#include "runtime/tool_kinds.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <set>

namespace gossamer::runtime {
namespace fs = std::filesystem;

namespace {

void read_model(const SpecReader& r, const YAML::Node& n, ModelSpec& m) {
    r.only_keys(n, "model",
                {"path", "backend", "reasoning_effort", "sampling", "threads", "endpoints", "api",
                 "api_key_env", "name", "remote"});
    each(n, "model", "endpoints", [&](auto& v, auto& f) {
        m.remote.endpoints = r.texts(v, f);
        if (m.remote.endpoints.empty()) r.fail(v, f, "expected at least one URL");
        for (const auto& url : m.remote.endpoints)
            if (auto problem = endpoint_url_problem(url); !problem.empty())
                r.fail(v, f, "'" + url + "': " + problem);
    });
    each(n, "model", "api", [&](auto& v, auto& f) {
        auto api = parse_engine_api(r.text(v, f));
        if (!api) r.fail(v, f, "must be gossamer, vllm or sglang");
        m.remote.api = *api;
    });
    each(n, "model", "api_key_env", [&](auto& v, auto& f) {
        m.api_key_env = r.text(v, f);
        const bool ok = !m.api_key_env.empty() &&
                        std::all_of(m.api_key_env.begin(), m.api_key_env.end(), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                        });
        if (!ok) r.fail(v, f, "must be the name of an environment variable (letters, digits, _)");
    });
    each(n, "model", "name", [&](auto& v, auto& f) { m.remote.model_name = r.text(v, f); });
    each(n, "model", "remote", [&](auto& s, auto& f) {
        r.only_keys(
            s, f,
            {"max_in_flight", "max_attempts", "stream", "connect_timeout_seconds",
             "first_token_timeout_seconds", "token_timeout_seconds", "generation_timeout_seconds"});
        auto& o = m.remote;
        each(s, f, "max_in_flight",
             [&](auto& v, auto& g) { o.max_in_flight = r.integer(v, g, 1, 100000); });
        each(s, f, "max_attempts",
             [&](auto& v, auto& g) { o.max_attempts = r.integer(v, g, 1, 100); });
        each(s, f, "stream", [&](auto& v, auto& g) { o.stream = r.boolean(v, g); });
        each(s, f, "connect_timeout_seconds",
             [&](auto& v, auto& g) { o.connect_timeout = r.number(v, g, 0.1, 600); });
        each(s, f, "first_token_timeout_seconds",
             [&](auto& v, auto& g) { o.first_token_timeout = r.number(v, g, 0.1, 86400); });
        each(s, f, "token_timeout_seconds",
             [&](auto& v, auto& g) { o.token_timeout = r.number(v, g, 0.1, 86400); });
        each(s, f, "generation_timeout_seconds",
             [&](auto& v, auto& g) { o.generation_timeout = r.number(v, g, 0, 86400); });
    });
    each(n, "model", "path", [&](auto& v, auto& f) { m.path = r.text(v, f); });
    each(n, "model", "backend", [&](auto& v, auto& f) {
        m.backend = r.text(v, f);
        if (m.backend != "cpu" && m.backend != "cuda" && m.backend != "auto")
            r.fail(v, f, "must be cpu, cuda or auto");
    });
    each(n, "model", "reasoning_effort", [&](auto& v, auto& f) {
        auto e = harmony::reasoning_effort_from_string(r.text(v, f));
        if (!e) r.fail(v, f, "must be low, medium or high");
        m.reasoning_effort = *e;
    });
    each(n, "model", "threads", [&](auto& v, auto& f) { m.threads = r.integer(v, f, 0, 4096); });
    each(n, "model", "sampling", [&](auto& s, auto& f) {
        r.only_keys(s, f, {"temperature", "top_p", "top_k", "seed"});
        each(s, f, "temperature", [&](auto& v, auto& g) {
            m.sampling.temperature = static_cast<float>(r.number(v, g, 0, 100));
        });
        each(s, f, "top_p", [&](auto& v, auto& g) {
            m.sampling.top_p = static_cast<float>(r.number(v, g, 0, 1));
            if (m.sampling.top_p <= 0) r.fail(v, g, "must be > 0");
        });
        each(s, f, "top_k",
             [&](auto& v, auto& g) { m.sampling.top_k = r.integer(v, g, 0, 1 << 20); });
        each(s, f, "seed", [&](auto& v, auto& g) {
            m.sampling.seed =
                static_cast<std::uint64_t>(r.integer(v, g, 0, std::numeric_limits<int>::max()));
        });
    });
}

void read_system(const SpecReader& r, const YAML::Node& n, SystemSpec& s) {
    r.only_keys(n, "system", {"date", "knowledge_cutoff", "identity"});
    each(n, "system", "date", [&](auto& v, auto& f) { s.date = r.text(v, f); });
    each(n, "system", "knowledge_cutoff",
         [&](auto& v, auto& f) { s.knowledge_cutoff = r.text(v, f); });
    each(n, "system", "identity", [&](auto& v, auto& f) { s.identity = r.text(v, f); });
}

void read_tools(const SpecReader& r, const YAML::Node& n, ToolsSpec& t) {
    if (!n.IsSequence()) r.fail(n, "tools", "expected a list (e.g. - python: {} )");
    std::string names;
    for (const auto& kind : tool_kinds())
        names += (names.empty() ? "" : ", ") + std::string(kind.name);
    for (std::size_t i = 0; i < n.size(); ++i) {
        const std::string field = "tools[" + std::to_string(i) + "]";
        const YAML::Node item = n[i];
        std::string name;
        YAML::Node cfg(YAML::NodeType::Map);
        if (item.IsScalar()) {  // "- python" as shorthand for "- python: {}"
            name = item.as<std::string>();
        } else {
            if (!item.IsMap() || item.size() != 1)
                r.fail(item, field, "expected one tool, e.g. `- python: {mode: stateful}`");
            name = item.begin()->first.as<std::string>();
            if (!item.begin()->second.IsNull()) cfg = item.begin()->second;
        }
        const ToolKind* kind = find_tool_kind(name);
        if (!kind || (item.IsScalar() && !kind->shorthand))
            r.fail(item.IsScalar() ? item : item.begin()->first, field,
                   "unknown tool '" + name + "' (" + names + ")");
        kind->parse(r, cfg, item, field, t);
    }
}

// hooks: {pre_tool: [...], post_tool: [...], on_finish: [...]}, each item
// {match?, command: [argv] | "sh -c text", timeout?, sandboxed?}.
void read_hooks(const SpecReader& r, const YAML::Node& n, HooksSpec& hooks) {
    r.only_keys(n, "hooks", {"pre_tool", "post_tool", "on_finish"});
    const auto read_list = [&](const char* kind, std::vector<HookSpec>& out) {
        each(n, "hooks", kind, [&](auto& list, auto& f) {
            if (!list.IsSequence()) r.fail(list, f, "expected a list of hooks (- command: [...])");
            for (std::size_t i = 0; i < list.size(); ++i) {
                const std::string g = f + "[" + std::to_string(i) + "]";
                const YAML::Node item = list[i];
                r.only_keys(item, g, {"match", "command", "timeout", "sandboxed"});
                HookSpec h;
                each(item, g, "match", [&](auto& v, auto& x) {
                    h.match = r.text(v, x);
                    if (h.match.empty()) r.fail(v, x, "an empty pattern matches nothing");
                });
                each(item, g, "command", [&](auto& v, auto& x) {
                    h.command = v.IsScalar()
                                    ? std::vector<std::string>{"/bin/sh", "-c", r.text(v, x)}
                                    : r.texts(v, x);
                });
                each(item, g, "timeout",
                     [&](auto& v, auto& x) { h.timeout_seconds = r.number(v, x, 0.1, 3600); });
                each(item, g, "sandboxed",
                     [&](auto& v, auto& x) { h.sandboxed = r.boolean(v, x); });
                if (h.command.empty() || h.command.front().empty())
                    r.fail(item, g, "needs `command:` (an argv list or a shell line)");
                h.where = r.where(item) + ": " + g;
                out.push_back(std::move(h));
            }
        });
    };
    read_list("pre_tool", hooks.pre_tool);
    read_list("post_tool", hooks.post_tool);
    read_list("on_finish", hooks.on_finish);
}

void read_limits(const SpecReader& r, const YAML::Node& n, LimitsSpec& l) {
    r.only_keys(n, "limits",
                {"max_turns", "max_output_tokens", "wall_time", "tool_timeout", "context_tokens"});
    each(n, "limits", "max_turns",
         [&](auto& v, auto& f) { l.max_turns = r.integer(v, f, 1, 100000); });
    each(n, "limits", "max_output_tokens",
         [&](auto& v, auto& f) { l.max_output_tokens = r.integer(v, f, 1, 100000000); });
    each(n, "limits", "wall_time",
         [&](auto& v, auto& f) { l.wall_time_seconds = r.number(v, f, 0.1, 31 * 86400.0); });
    each(n, "limits", "tool_timeout",
         [&](auto& v, auto& f) { l.tool_timeout_seconds = r.number(v, f, 0.1, 86400); });
    each(n, "limits", "context_tokens",
         [&](auto& v, auto& f) { l.context_tokens = r.integer(v, f, 256, 131072); });
}

std::string read_file_text(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec))
        throw SpecError(path.string() + ": is a directory (give the agent spec's YAML file)");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw SpecError(path.string() + ": cannot read (" + std::strerror(errno) + ")");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

fs::path resolve(const AgentSpec& spec, const std::string& path) {
    const fs::path p(path);
    return p.is_absolute() ? p : spec.base_dir / p;
}

AgentSpec parse_agent_spec(const std::string& yaml, const std::string& origin,
                           const fs::path& base_dir) {
    SpecReader r(origin);
    if (const std::size_t valid = harmony::utf8::valid_prefix(yaml); valid != yaml.size())
        throw SpecError(origin + ": not UTF-8 text (invalid byte sequence at byte offset " +
                        std::to_string(valid) + ")");
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        throw SpecError(origin + ":" + std::to_string(e.mark.line + 1) + ":" +
                        std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
    }
    if (!root.IsMap())
        throw SpecError(origin + ": the spec must be a mapping (name:, model:, task:, ...)");
    r.no_duplicate_keys(root, "");
    r.only_keys(root, "",
                {"name", "model", "instructions", "system", "tools", "hooks", "workspace", "limits",
                 "task", "task_file", "outputs", "telemetry", "sandbox", "context"});
    AgentSpec spec;
    spec.base_dir = base_dir;
    spec.source = yaml;
    try {
        each(root, "", "name", [&](auto& v, auto& f) { spec.name = r.text(v, f); });
        if (spec.name.empty())
            throw SpecError(origin + ": name: required (a short name for the agent)");
        if (!root["model"])
            throw SpecError(origin + ": model: required (at least `model: {path: DIR}`)");
        read_model(r, root["model"], spec.model);
        each(root, "", "instructions", [&](auto& v, auto& f) { spec.instructions = r.text(v, f); });
        each(root, "", "system", [&](auto& v, auto&) { read_system(r, v, spec.system); });
        each(root, "", "tools", [&](auto& v, auto&) { read_tools(r, v, spec.tools); });
        each(root, "", "hooks", [&](auto& v, auto&) { read_hooks(r, v, spec.hooks); });
        each(root, "", "workspace", [&](auto& v, auto& f) {
            r.only_keys(v, f, {"from"});
            each(v, f, "from", [&](auto& x, auto& g) {
                spec.workspace.from = r.text(x, g);
                if (spec.workspace.from->empty()) r.fail(x, g, "give a folder");
            });
        });
        each(root, "", "limits", [&](auto& v, auto&) { read_limits(r, v, spec.limits); });
        each(root, "", "telemetry", [&](auto& v, auto& f) {
            r.only_keys(v, f, {"otlp_endpoint", "content"});
            each(v, f, "otlp_endpoint", [&](auto& x, auto& g) {
                spec.telemetry.otlp_endpoint = r.text(x, g);
                const auto& url = *spec.telemetry.otlp_endpoint;
                if (!url.starts_with("http://") && !url.starts_with("https://"))
                    r.fail(x, g, "give an http:// or https:// URL (OTLP over HTTP)");
            });
            each(v, f, "content",
                 [&](auto& x, auto& g) { spec.telemetry.content = r.boolean(x, g); });
        });
        each(root, "", "context", [&](auto& v, auto& f) {
            r.only_keys(v, f, {"compact_at"});
            each(v, f, "compact_at", [&](auto& x, auto& g) {
                spec.context.compact_at = r.number(x, g, 0, 0.95);
                if (spec.context.compact_at > 0 && spec.context.compact_at < 0.3)
                    r.fail(x, g, "0 (never) or a fraction of the window in [0.3, 0.95]");
            });
        });
        each(root, "", "sandbox", [&](auto& v, auto& f) {
            r.only_keys(v, f, {"mode"});
            each(v, f, "mode", [&](auto& x, auto& g) {
                const auto mode = sandbox::mode_from_name(r.text(x, g));
                if (!mode) r.fail(x, g, "one of auto, userns, root, container");
                spec.sandbox.mode = *mode;
            });
        });
        each(root, "", "task", [&](auto& v, auto& f) { spec.task = r.text(v, f); });
        each(root, "", "task_file", [&](auto& v, auto& f) {
            if (!spec.task.empty()) r.fail(v, f, "give either task or task_file, not both");
            const fs::path file = resolve(spec, r.text(v, f));
            std::ifstream in(file, std::ios::binary);
            if (!in) r.fail(v, f, "cannot read " + file.string());
            spec.task.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        });
        each(root, "", "outputs", [&](auto& v, auto& f) {
            r.only_keys(v, f, {"final_answer", "report", "schema"});
            each(v, f, "schema", [&](auto& x, auto& g) {
                spec.outputs.schema = r.text(x, g);
                try {
                    spec.outputs.schema_json =
                        load_output_schema(resolve(spec, *spec.outputs.schema));
                } catch (const SpecError& e) {
                    r.fail(x, g, e.what());
                }
            });
            each(v, f, "final_answer",
                 [&](auto& x, auto& g) { spec.outputs.final_answer = r.text(x, g); });
            each(v, f, "report", [&](auto& x, auto& g) { spec.outputs.report = r.text(x, g); });
        });
    } catch (const YAML::Exception& e) {
        throw SpecError(origin + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    set_sandbox_mode(spec, spec.sandbox.mode);
    return spec;
}

nlohmann::ordered_json load_output_schema(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in || fs::is_directory(file))
        throw SpecError(file.string() + ": cannot read the output schema");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto schema = nlohmann::ordered_json::parse(text, nullptr, false);
    if (schema.is_discarded())
        throw SpecError(file.string() + ": the output schema is not valid JSON");
    if (!schema.is_object())
        throw SpecError(file.string() + ": the output schema must be a JSON Schema object");
    return schema;
}

namespace {

// The YAML with SECTION.KEY set to `value` (a section that is missing or null becomes a map).
std::string spec_with(const std::string& yaml, const char* section, const char* key,
                      const std::string& value) {
    YAML::Node root = YAML::Load(yaml);
    if (!root[section] || root[section].IsNull()) root[section] = YAML::Node(YAML::NodeType::Map);
    root[section][key] = value;
    YAML::Emitter out;
    out << root;
    return std::string(out.c_str()) + "\n";
}

}  // namespace

std::string spec_with_output_schema(const std::string& yaml, const std::string& schema_path) {
    return spec_with(yaml, "outputs", "schema", schema_path);
}

std::string spec_with_sandbox_mode(const std::string& yaml, sandbox::Mode mode) {
    return spec_with(yaml, "sandbox", "mode", std::string(sandbox::mode_name(mode)));
}

AgentSpec load_agent_spec(const fs::path& file) {
    return parse_agent_spec(read_file_text(file), file.string(), fs::absolute(file).parent_path());
}

void set_sandbox_mode(AgentSpec& spec, sandbox::Mode mode) {
    spec.sandbox.mode = mode;
    if (spec.tools.python) spec.tools.python->sandbox_mode = mode;
    if (spec.tools.shell) spec.tools.shell->sandbox_mode = mode;
    for (McpToolSpec& mcp : spec.tools.mcp) mcp.sandbox_mode = mode;
    for (auto* hooks : {&spec.hooks.pre_tool, &spec.hooks.post_tool, &spec.hooks.on_finish})
        for (HookSpec& hook : *hooks) hook.sandbox_mode = mode;
}

}  // namespace gossamer::runtime
