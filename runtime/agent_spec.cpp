#include "runtime/agent_spec.h"

#include <yaml-cpp/yaml.h>

#include "harmony/utf8.h"

#include <algorithm>
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

// Walks the YAML tree, remembering the field path for messages.
class Reader {
  public:
    explicit Reader(std::string origin) : origin_(std::move(origin)) {}

    [[noreturn]] void fail(const YAML::Node& at, const std::string& field,
                           const std::string& what) const {
        const auto mark = at.Mark();
        std::string where = origin_;
        if (mark.line >= 0)
            where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
        throw SpecError(where + ": " + field + ": " + what);
    }

    // yaml-cpp keeps every duplicate key and lookups see the first: refuse them anywhere.
    void no_duplicate_keys(const YAML::Node& n, const std::string& field) const {
        if (n.IsSequence())
            for (std::size_t i = 0; i < n.size(); ++i)
                no_duplicate_keys(n[i], field + "[" + std::to_string(i) + "]");
        if (!n.IsMap()) return;
        std::set<std::string> seen;
        for (const auto& kv : n) {
            if (!kv.first.IsScalar()) fail(kv.first, field, "a key must be a plain name");
            const std::string key = kv.first.Scalar();
            if (!seen.insert(key).second)
                fail(kv.first, join(field, key), "duplicate key (each key may appear once)");
            no_duplicate_keys(kv.second, join(field, key));
        }
    }

    // "FILE:LINE:COLUMN" of a node.
    std::string where(const YAML::Node& at) const {
        const auto mark = at.Mark();
        if (mark.line < 0) return origin_;
        return origin_ + ":" + std::to_string(mark.line + 1) + ":" +
               std::to_string(mark.column + 1);
    }

    void require_map(const YAML::Node& n, const std::string& field) const {
        if (!n.IsMap()) fail(n, field, "expected a mapping");
    }

    // Every key of `n` must be in `known`.
    void only_keys(const YAML::Node& n, const std::string& field,
                   std::initializer_list<const char*> known) const {
        require_map(n, field);
        for (const auto& kv : n) {
            if (!kv.first.IsScalar()) fail(kv.first, field, "a key must be a plain name");
            const std::string key = kv.first.as<std::string>();
            if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
                std::string list;
                for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
                fail(kv.first, join(field, key), "unknown key (expected one of: " + list + ")");
            }
        }
    }

    std::string text(const YAML::Node& n, const std::string& field) const {
        if (!n.IsScalar()) fail(n, field, "expected a string");
        return n.as<std::string>();
    }

    bool boolean(const YAML::Node& n, const std::string& field) const {
        bool value = false;
        if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value))
            fail(n, field, "expected true or false");
        return value;
    }

    double number(const YAML::Node& n, const std::string& field, double lo, double hi) const {
        double value = 0;
        if (!n.IsScalar() || !YAML::convert<double>::decode(n, value) || !std::isfinite(value))
            fail(n, field, "expected a number");
        if (value < lo || value > hi)
            fail(n, field, "must be in [" + fmt(lo) + ", " + fmt(hi) + "], got " + fmt(value));
        return value;
    }

    int integer(const YAML::Node& n, const std::string& field, long long lo, long long hi) const {
        long long value = 0;
        if (!n.IsScalar() || !YAML::convert<long long>::decode(n, value))
            fail(n, field, "expected an integer");
        if (value < lo || value > hi)
            fail(n, field,
                 "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                     std::to_string(value));
        return static_cast<int>(value);
    }

    std::vector<std::string> texts(const YAML::Node& n, const std::string& field) const {
        if (!n.IsSequence()) fail(n, field, "expected a list of strings");
        std::vector<std::string> out;
        for (std::size_t i = 0; i < n.size(); ++i)
            out.push_back(text(n[i], field + "[" + std::to_string(i) + "]"));
        return out;
    }

    static std::string join(const std::string& field, const std::string& key) {
        return field.empty() ? key : field + "." + key;
    }

  private:
    static std::string fmt(double v) {
        char b[32];
        std::snprintf(b, sizeof b, "%g", v);
        return b;
    }
    std::string origin_;
};

// Calls `f(value_node, field)` for each key present.
template <typename F>
void each(const YAML::Node& map, const std::string& field, const char* key, F f) {
    if (const YAML::Node n = map[key]; n && !n.IsNull()) {
        const std::string where = Reader::join(field, key);
        f(n, where);
    }
}

void read_model(const Reader& r, const YAML::Node& n, ModelSpec& m) {
    r.only_keys(n, "model", {"path", "backend", "reasoning_effort", "sampling", "threads"});
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

void read_system(const Reader& r, const YAML::Node& n, SystemSpec& s) {
    r.only_keys(n, "system", {"date", "knowledge_cutoff", "identity"});
    each(n, "system", "date", [&](auto& v, auto& f) { s.date = r.text(v, f); });
    each(n, "system", "knowledge_cutoff",
         [&](auto& v, auto& f) { s.knowledge_cutoff = r.text(v, f); });
    each(n, "system", "identity", [&](auto& v, auto& f) { s.identity = r.text(v, f); });
}

void read_tools(const Reader& r, const YAML::Node& n, ToolsSpec& t) {
    if (!n.IsSequence()) r.fail(n, "tools", "expected a list (e.g. - python: {} )");
    for (std::size_t i = 0; i < n.size(); ++i) {
        const std::string field = "tools[" + std::to_string(i) + "]";
        const YAML::Node item = n[i];
        if (item.IsScalar()) {  // "- python" as shorthand for "- python: {}"
            const std::string name = item.as<std::string>();
            if (name == "python")
                t.python = PythonToolSpec{};
            else if (name == "browser")
                t.browser = BrowserToolSpec{};
            else if (name == "workspace_files")
                t.workspace_files = true;
            else
                r.fail(
                    item, field,
                    "unknown tool '" + name + "' (python, browser, workspace_files, plugin, mcp)");
            continue;
        }
        if (!item.IsMap() || item.size() != 1)
            r.fail(item, field, "expected one tool, e.g. `- python: {mode: stateful}`");
        const std::string kind = item.begin()->first.as<std::string>();
        const YAML::Node body = item.begin()->second;
        const std::string f = field + "." + kind;
        const YAML::Node cfg = body.IsNull() ? YAML::Node(YAML::NodeType::Map) : body;
        if (kind == "python") {
            PythonToolSpec p;
            r.only_keys(cfg, f,
                        {"mode", "timeout", "idle_timeout", "memory_mb", "network", "interpreter",
                         "extra_read_only"});
            each(cfg, f, "mode", [&](auto& v, auto& g) {
                p.mode = r.text(v, g);
                if (p.mode != "stateful" && p.mode != "stateless")
                    r.fail(v, g, "must be stateful or stateless");
            });
            each(cfg, f, "timeout",
                 [&](auto& v, auto& g) { p.timeout_seconds = r.number(v, g, 0.1, 86400); });
            each(cfg, f, "idle_timeout",
                 [&](auto& v, auto& g) { p.idle_timeout_seconds = r.number(v, g, 1, 7 * 86400); });
            each(cfg, f, "memory_mb",
                 [&](auto& v, auto& g) { p.memory_mb = r.integer(v, g, 16, 1 << 20); });
            each(cfg, f, "network", [&](auto& v, auto& g) { p.network = r.boolean(v, g); });
            each(cfg, f, "interpreter", [&](auto& v, auto& g) { p.interpreter = r.text(v, g); });
            each(cfg, f, "extra_read_only",
                 [&](auto& v, auto& g) { p.extra_read_only = r.texts(v, g); });
            if (t.python) r.fail(item, field, "python is listed twice");
            t.python = p;
        } else if (kind == "browser") {
            BrowserToolSpec b;
            r.only_keys(
                cfg, f,
                {"backend", "root", "url", "allow_domains", "deny_domains", "max_requests"});
            each(cfg, f, "backend", [&](auto& v, auto& g) {
                b.backend = r.text(v, g);
                if (b.backend != "local" && b.backend != "searxng" && b.backend != "exa" &&
                    b.backend != "youcom")
                    r.fail(v, g, "must be local, searxng, exa or youcom");
            });
            each(cfg, f, "root", [&](auto& v, auto& g) { b.root = r.text(v, g); });
            each(cfg, f, "url", [&](auto& v, auto& g) { b.url = r.text(v, g); });
            each(cfg, f, "allow_domains",
                 [&](auto& v, auto& g) { b.allow_domains = r.texts(v, g); });
            each(cfg, f, "deny_domains", [&](auto& v, auto& g) { b.deny_domains = r.texts(v, g); });
            each(cfg, f, "max_requests",
                 [&](auto& v, auto& g) { b.max_requests = r.integer(v, g, 0, 1000000); });
            if (b.backend == "local" && b.root.empty())
                r.fail(item, f, "the local backend needs `root:` (a folder of documents)");
            if (b.backend == "searxng" && b.url.empty())
                r.fail(item, f, "the searxng backend needs `url:`");
            if (t.browser) r.fail(item, field, "browser is listed twice");
            t.browser = b;
        } else if (kind == "workspace_files") {
            r.only_keys(cfg, f, {});
            t.workspace_files = true;
        } else if (kind == "plugin") {
            PluginToolSpec p;
            r.only_keys(cfg, f, {"path"});
            each(cfg, f, "path", [&](auto& v, auto& g) { p.path = r.text(v, g); });
            if (p.path.empty()) r.fail(item, f, "needs `path:` (a shared library)");
            p.where = r.where(item) + ": " + field;
            t.plugins.push_back(p);
        } else if (kind == "mcp") {
            McpToolSpec m;
            r.only_keys(cfg, f,
                        {"name", "command", "env", "sandboxed", "read_only", "network", "memory_mb",
                         "timeout"});
            each(cfg, f, "read_only", [&](auto& v, auto& g) { m.read_only = r.texts(v, g); });
            each(cfg, f, "network", [&](auto& v, auto& g) { m.network = r.boolean(v, g); });
            each(cfg, f, "memory_mb",
                 [&](auto& v, auto& g) { m.memory_mb = r.integer(v, g, 64, 1 << 20); });
            each(cfg, f, "env", [&](auto& v, auto& g) {
                r.require_map(v, g);
                for (const auto& kv : v)
                    m.env.emplace_back(kv.first.template as<std::string>(), r.text(kv.second, g));
            });
            each(cfg, f, "name", [&](auto& v, auto& g) { m.name = r.text(v, g); });
            each(cfg, f, "command", [&](auto& v, auto& g) { m.command = r.texts(v, g); });
            each(cfg, f, "sandboxed", [&](auto& v, auto& g) { m.sandboxed = r.boolean(v, g); });
            each(cfg, f, "timeout",
                 [&](auto& v, auto& g) { m.timeout_seconds = r.number(v, g, 0.1, 86400); });
            if (m.command.empty()) r.fail(item, f, "needs `command:` (the server's argv)");
            m.where = r.where(item) + ": " + field;
            t.mcp.push_back(m);
        } else {
            r.fail(item.begin()->first, field,
                   "unknown tool '" + kind + "' (python, browser, workspace_files, plugin, mcp)");
        }
    }
}

void read_limits(const Reader& r, const YAML::Node& n, LimitsSpec& l) {
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
    Reader r(origin);
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
                {"name", "model", "instructions", "system", "tools", "limits", "task", "task_file",
                 "outputs"});
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
        each(root, "", "limits", [&](auto& v, auto&) { read_limits(r, v, spec.limits); });
        each(root, "", "task", [&](auto& v, auto& f) { spec.task = r.text(v, f); });
        each(root, "", "task_file", [&](auto& v, auto& f) {
            if (!spec.task.empty()) r.fail(v, f, "give either task or task_file, not both");
            const fs::path file = resolve(spec, r.text(v, f));
            std::ifstream in(file, std::ios::binary);
            if (!in) r.fail(v, f, "cannot read " + file.string());
            spec.task.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        });
        each(root, "", "outputs", [&](auto& v, auto& f) {
            r.only_keys(v, f, {"final_answer", "report"});
            each(v, f, "final_answer",
                 [&](auto& x, auto& g) { spec.outputs.final_answer = r.text(x, g); });
            each(v, f, "report", [&](auto& x, auto& g) { spec.outputs.report = r.text(x, g); });
        });
    } catch (const YAML::Exception& e) {
        throw SpecError(origin + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    return spec;
}

AgentSpec load_agent_spec(const fs::path& file) {
    return parse_agent_spec(read_file_text(file), file.string(), fs::absolute(file).parent_path());
}

}  // namespace gossamer::runtime
