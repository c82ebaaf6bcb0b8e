#include "runtime/tool_kinds.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>

#include "runtime/agent_setup.h"
#include "runtime/spec_reader.h"
#include "runtime/tool_registry.h"
#include "sandbox/egress_rules.h"
#include "tools/browser/browser_tool.h"
#include "tools/mcp/mcp_tool.h"
#include "tools/patch/apply_patch_tool.h"
#include "tools/python/python_tool.h"
#include "tools/shell/shell_tool.h"
#include "tools/workspace_files.h"

namespace gossamer::runtime {

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

milliseconds seconds(double s) {
    return milliseconds(static_cast<long long>(s * 1000));
}

// `network: true | false | {allow: [...], deny: [...]}` (the last: no network but the
// allowlist's proxy; sandbox/egress_rules.h has the patterns).
void read_network(const SpecReader& r, const YAML::Node& v, const std::string& g, bool& network,
                  std::vector<std::string>& allow, std::vector<std::string>& deny) {
    if (!v.IsMap()) {
        network = r.boolean(v, g);
        return;
    }
    r.only_keys(v, g, {"allow", "deny"});
    const auto read = [&](const char* key, std::vector<std::string>& out) {
        each(v, g, key, [&](auto& x, auto& h) {
            out = r.texts(x, h);
            for (const auto& pattern : out)
                if (auto bad = sandbox::bad_pattern(pattern)) r.fail(x, h, *bad);
        });
    };
    read("allow", allow);
    read("deny", deny);
    if (allow.empty()) r.fail(v, g + ".allow", "give the domains the tool may reach");
    network = false;
}

// ---- python: tools/python (PythonOptions) ------------------------------------------------

void parse_python(const SpecReader& r, const YAML::Node& cfg, const YAML::Node& item,
                  const std::string& field, ToolsSpec& t) {
    const std::string f = field + ".python";
    tools::python::PythonOptions o;  // the tool's defaults
    r.only_keys(cfg, f,
                {"mode", "timeout", "idle_timeout", "memory_mb", "network", "interpreter",
                 "extra_read_only"});
    each(cfg, f, "mode", [&](auto& v, auto& g) {
        const std::string mode = r.text(v, g);
        if (mode != "stateful" && mode != "stateless")
            r.fail(v, g, "must be stateful or stateless");
        o.mode =
            mode == "stateless" ? tools::python::Mode::stateless : tools::python::Mode::stateful;
    });
    each(cfg, f, "timeout",
         [&](auto& v, auto& g) { o.timeout = seconds(r.number(v, g, 0.1, 86400)); });
    each(cfg, f, "idle_timeout",
         [&](auto& v, auto& g) { o.idle_timeout = seconds(r.number(v, g, 1, 7 * 86400)); });
    each(cfg, f, "memory_mb", [&](auto& v, auto& g) {
        o.memory_mb = static_cast<std::uint64_t>(r.integer(v, g, 16, 1 << 20));
    });
    each(cfg, f, "network", [&](auto& v, auto& g) {
        read_network(r, v, g, o.network, o.network_allow, o.network_deny);
    });
    each(cfg, f, "interpreter", [&](auto& v, auto& g) { o.interpreter = r.text(v, g); });
    each(cfg, f, "extra_read_only", [&](auto& v, auto& g) { o.extra_read_only = r.texts(v, g); });
    if (t.python) r.fail(item, field, "python is listed twice");
    t.python = std::move(o);
}

// `protected:` names given to apply_patch or shell protect them from every writing tool.
std::vector<std::string> protected_names(const AgentSpec& spec) {
    std::vector<std::string> names = tools::default_protected_names();
    auto add = [&](const std::vector<std::string>& more) {
        for (const auto& name : more)
            if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    };
    if (spec.tools.apply_patch) add(spec.tools.apply_patch->protected_names);
    if (spec.tools.shell) add(spec.tools.shell->protected_names);
    return names;
}

// A `protected:` list: file or folder names (no '/').
std::vector<std::string> parse_protected(const SpecReader& r, const YAML::Node& v,
                                         const std::string& f) {
    std::vector<std::string> names = tools::default_protected_names();
    for (auto& name : r.texts(v, f)) {
        if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
            r.fail(v, f, "'" + name + "': a file or folder name (no '/')");
        names.push_back(name);
    }
    return names;
}

void add_python(const AgentSpec& spec, ToolRegistry& registry) {
    if (!spec.tools.python) return;  // kernels per session; the workspace comes with each call
    auto o = *spec.tools.python;
    o.protected_names = protected_names(spec);
    for (auto& path : o.extra_read_only) path = resolve(spec, path).string();
    registry.add(std::make_shared<tools::python::PythonTool>(std::move(o)));
}

// ---- browser: tools/browser (BrowserOptions) ---------------------------------------------

void parse_browser(const SpecReader& r, const YAML::Node& cfg, const YAML::Node& item,
                   const std::string& field, ToolsSpec& t) {
    const std::string f = field + ".browser";
    tools::browser::BrowserOptions b;  // the tool's defaults
    r.only_keys(cfg, f,
                {"backend", "root", "url", "allow_domains", "deny_domains", "max_requests"});
    each(cfg, f, "backend", [&](auto& v, auto& g) {
        b.backend = r.text(v, g);
        if (b.backend != "local" && b.backend != "searxng" && b.backend != "exa" &&
            b.backend != "youcom")
            r.fail(v, g, "must be local, searxng, exa or youcom");
    });
    each(cfg, f, "root", [&](auto& v, auto& g) { b.root = r.text(v, g); });
    each(cfg, f, "url", [&](auto& v, auto& g) { b.base_url = r.text(v, g); });
    each(cfg, f, "allow_domains", [&](auto& v, auto& g) { b.allow_domains = r.texts(v, g); });
    each(cfg, f, "deny_domains", [&](auto& v, auto& g) { b.deny_domains = r.texts(v, g); });
    each(cfg, f, "max_requests",
         [&](auto& v, auto& g) { b.max_requests = r.integer(v, g, 0, 1000000); });
    if (b.backend == "local" && b.root.empty())
        r.fail(item, f, "the local backend needs `root:` (a folder of documents)");
    if (b.backend == "searxng" && b.base_url.empty())
        r.fail(item, f, "the searxng backend needs `url:`");
    if (t.browser) r.fail(item, field, "browser is listed twice");
    t.browser = std::move(b);
}

void add_browser(const AgentSpec& spec, ToolRegistry& registry) {
    if (!spec.tools.browser) return;  // one browser (pages, cursors, request budget) per run
    auto o = *spec.tools.browser;
    if (!o.root.empty()) o.root = resolve(spec, o.root.string());
    try {
        registry.add(std::make_shared<tools::browser::BrowserTool>(std::move(o)));
    } catch (const std::invalid_argument& e) {
        throw SpecError(spec.name + ": tools: browser: " + e.what());
    }
}

// ---- workspace_files: tools/workspace_files.h (no options) -------------------------------

void parse_workspace_files(const SpecReader& r, const YAML::Node& cfg, const YAML::Node&,
                           const std::string& field, ToolsSpec& t) {
    r.only_keys(cfg, field + ".workspace_files", {});
    t.workspace_files = true;
}

void add_workspace_files(const AgentSpec& spec, ToolRegistry& registry) {
    if (spec.tools.workspace_files) registry.add(std::make_shared<tools::WorkspaceFiles>());
}

// ---- apply_patch: tools/patch/apply_patch_tool.h (options: more protected names) -----------

void parse_apply_patch(const SpecReader& r, const YAML::Node& cfg, const YAML::Node&,
                       const std::string& field, ToolsSpec& t) {
    r.only_keys(cfg, field + ".apply_patch", {"protected"});
    tools::patch::ApplyOptions o;
    each(cfg, field + ".apply_patch", "protected",
         [&](auto& v, auto& f) { o.protected_names = parse_protected(r, v, f); });
    t.apply_patch = std::move(o);
}

void add_apply_patch(const AgentSpec& spec, ToolRegistry& registry) {
    if (!spec.tools.apply_patch) return;
    auto o = *spec.tools.apply_patch;
    o.protected_names = protected_names(spec);
    registry.add(std::make_shared<tools::patch::ApplyPatchTool>(std::move(o)));
}

// ---- shell: tools/shell (ShellOptions) ----------------------------------------------------

void parse_shell(const SpecReader& r, const YAML::Node& cfg, const YAML::Node& item,
                 const std::string& field, ToolsSpec& t) {
    const std::string f = field + ".shell";
    tools::shell::ShellOptions o;  // the tool's defaults
    r.only_keys(cfg, f,
                {"timeout", "max_timeout", "memory_mb", "pids", "network", "max_output_bytes",
                 "extra_read_only", "protected"});
    each(cfg, f, "timeout",
         [&](auto& v, auto& g) { o.timeout = seconds(r.number(v, g, 0.1, 86400)); });
    each(cfg, f, "max_timeout",
         [&](auto& v, auto& g) { o.max_timeout = seconds(r.number(v, g, 0.1, 86400)); });
    each(cfg, f, "memory_mb", [&](auto& v, auto& g) {
        o.memory_mb = static_cast<std::uint64_t>(r.integer(v, g, 16, 1 << 20));
    });
    each(cfg, f, "pids",
         [&](auto& v, auto& g) { o.pids = static_cast<std::uint64_t>(r.integer(v, g, 1, 65536)); });
    each(cfg, f, "network", [&](auto& v, auto& g) {
        read_network(r, v, g, o.network, o.network_allow, o.network_deny);
    });
    each(cfg, f, "max_output_bytes", [&](auto& v, auto& g) {
        o.max_output_bytes = static_cast<std::uint64_t>(r.integer(v, g, 256, 64 << 20));
    });
    each(cfg, f, "extra_read_only", [&](auto& v, auto& g) { o.extra_read_only = r.texts(v, g); });
    each(cfg, f, "protected",
         [&](auto& v, auto& g) { o.protected_names = parse_protected(r, v, g); });
    if (o.timeout > o.max_timeout) r.fail(item, f, "timeout is longer than max_timeout");
    if (t.shell) r.fail(item, field, "shell is listed twice");
    t.shell = std::move(o);
}

void add_shell(const AgentSpec& spec, ToolRegistry& registry) {
    if (!spec.tools.shell) return;  // a fresh sandbox per call; the workspace comes with it
    auto o = *spec.tools.shell;
    for (auto& path : o.extra_read_only) path = resolve(spec, path).string();
    o.protected_names = protected_names(spec);
    registry.add(std::make_shared<tools::shell::ShellTool>(std::move(o)));
}

// ---- plugin and mcp: MCP servers (tools/mcp) ---------------------------------------------

// Starts a server and adds its tools; start-up failures and name clashes name the entry.
// `where` is the entry's "FILE:LINE:COLUMN: tools[i]".
void add_server(const std::string& where, ToolRegistry& registry, const std::string& what,
                tools::McpServerSpec server) {
    std::shared_ptr<tools::McpTool> tool;
    try {
        tool = std::make_shared<tools::McpTool>(std::move(server));
    } catch (const std::exception& e) {
        throw SpecError(where + ": " + what + ": " + e.what());
    }
    try {
        registry.add(tool);
    } catch (const std::invalid_argument& e) {
        throw SpecError(where + ": " + what + ": " + e.what());
    }
}

void parse_plugin(const SpecReader& r, const YAML::Node& cfg, const YAML::Node& item,
                  const std::string& field, ToolsSpec& t) {
    const std::string f = field + ".plugin";
    PluginToolSpec p;
    r.only_keys(cfg, f, {"path"});
    each(cfg, f, "path", [&](auto& v, auto& g) { p.path = r.text(v, g); });
    if (p.path.empty()) r.fail(item, f, "needs `path:` (a shared library)");
    p.where = r.where(item) + ": " + field;
    t.plugins.push_back(p);
}

void add_plugins(const AgentSpec& spec, ToolRegistry& registry) {
    for (const auto& plugin : spec.tools.plugins) {
        tools::McpServerSpec server;
        const auto library = resolve(spec, plugin.path);
        server.name = library.filename().string();
        server.process.argv = {self_executable().string(), "plugin", "serve", library.string()};
        server.process.env = tools::allowlisted_environment();
        server.call_timeout = seconds(spec.limits.tool_timeout_seconds);
        add_server(plugin.where, registry, "plugin " + plugin.path, std::move(server));
    }
}

void parse_mcp(const SpecReader& r, const YAML::Node& cfg, const YAML::Node& item,
               const std::string& field, ToolsSpec& t) {
    const std::string f = field + ".mcp";
    McpToolSpec m;
    r.only_keys(cfg, f,
                {"name", "command", "url", "headers", "bearer_token_env", "env", "sandboxed",
                 "read_only", "network", "memory_mb", "timeout"});
    each(cfg, f, "url", [&](auto& v, auto& g) {
        m.url = r.text(v, g);
        if (!m.url.starts_with("http://") && !m.url.starts_with("https://"))
            r.fail(v, g, "give an http:// or https:// URL (MCP over Streamable HTTP)");
        const auto authority = m.url.substr(0, m.url.find('/', m.url.find("//") + 2));
        if (authority.find('@') != std::string::npos)
            r.fail(v, g, "no credentials in the URL: use bearer_token_env (specs are stored)");
    });
    each(cfg, f, "headers", [&](auto& v, auto& g) {
        r.require_map(v, g);
        for (const auto& kv : v) {
            const auto name = kv.first.template as<std::string>();
            const std::string value = r.text(kv.second, g + "." + name);
            if (name.empty() || name.find_first_of(": \r\n") != std::string::npos ||
                value.find_first_of("\r\n") != std::string::npos)
                r.fail(kv.second, g + "." + name, "not a valid HTTP header");
            m.headers.emplace_back(name, value);
        }
    });
    each(cfg, f, "bearer_token_env", [&](auto& v, auto& g) { m.bearer_token_env = r.text(v, g); });
    each(cfg, f, "read_only", [&](auto& v, auto& g) { m.read_only = r.texts(v, g); });
    each(cfg, f, "network", [&](auto& v, auto& g) {
        read_network(r, v, g, m.network, m.network_allow, m.network_deny);
    });
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
    if (m.command.empty() && m.url.empty())
        r.fail(item, f, "needs `command:` (the server's argv) or `url:` (a remote server)");
    if (!m.command.empty() && !m.url.empty())
        r.fail(item, f, "give `command:` or `url:`, not both");
    if (!m.url.empty() && (m.sandboxed || !m.read_only.empty() || !m.env.empty()))
        r.fail(item, f, "sandboxed, read_only and env are for a local server (`command:`)");
    if (m.url.empty() && (!m.headers.empty() || !m.bearer_token_env.empty()))
        r.fail(item, f, "headers and bearer_token_env are for a remote server (`url:`)");
    m.where = r.where(item) + ": " + field;
    t.mcp.push_back(m);
}

// `gossamer sandbox exec --interactive ... -- COMMAND`: the server in gossamer's sandbox,
// seeing only the system's read-only binds and the paths the spec lists.
std::vector<std::string> sandboxed_argv(const AgentSpec& spec, const McpToolSpec& mcp) {
    std::vector<std::string> argv = {
        self_executable().string(),   "sandbox", "exec", "--interactive", "--memory-mb",
        std::to_string(mcp.memory_mb)};
    // Each path appears at the same place inside, except under /tmp (the sandbox's own), which
    // moves to /opt/gossamer-ro/N; the command's paths are rewritten to match.
    std::vector<std::pair<std::string, std::string>> moved;
    std::string binds;
    for (std::size_t i = 0; i < mcp.read_only.size(); ++i) {
        std::error_code ec;
        auto host = fs::weakly_canonical(resolve(spec, mcp.read_only[i]), ec).string();
        std::string inside = host;
        if (host == "/tmp" || host.rfind("/tmp/", 0) == 0) {
            inside = "/opt/gossamer-ro/" + std::to_string(i);
            moved.emplace_back(host, inside);
        }
        if (!binds.empty()) binds += ',';
        binds += host;
        if (inside != host) binds += "=" + inside;
    }
    if (!binds.empty()) argv.insert(argv.end(), {"--read-only", binds});
    if (mcp.network) argv.push_back("--net");
    const auto joined = [](const std::vector<std::string>& list) {
        std::string out;
        for (const auto& item : list) out += (out.empty() ? "" : ",") + item;
        return out;
    };
    if (!mcp.network_allow.empty())
        argv.insert(argv.end(), {"--net-allow", joined(mcp.network_allow)});
    if (!mcp.network_deny.empty())
        argv.insert(argv.end(), {"--net-deny", joined(mcp.network_deny)});
    if (mcp.sandbox_mode != sandbox::Mode::automatic)
        argv.insert(argv.end(), {"--mode", std::string(sandbox::mode_name(mcp.sandbox_mode))});
    argv.push_back("--");
    for (std::size_t i = 0; i < mcp.command.size(); ++i) {
        std::string part = mcp.command[i];  // a relative program path is the spec's
        if (i == 0 && part.find('/') != std::string::npos) {
            std::error_code ec;
            part = fs::weakly_canonical(resolve(spec, part), ec).string();
        }
        for (const auto& [host, inside] : moved)
            if (part == host || part.rfind(host + "/", 0) == 0)
                part = inside + part.substr(host.size());
        argv.push_back(part);
    }
    return argv;
}

void add_mcp(const AgentSpec& spec, ToolRegistry& registry) {
    for (const auto& mcp : spec.tools.mcp) {
        tools::McpServerSpec server;
        server.call_timeout = seconds(mcp.timeout_seconds);
        if (!mcp.url.empty()) {
            server.name = mcp.name.empty() ? mcp.url : mcp.name;
            server.http.url = mcp.url;
            server.http.headers = mcp.headers;
            if (!mcp.bearer_token_env.empty()) {
                const char* token = std::getenv(mcp.bearer_token_env.c_str());
                if (!token || !*token)
                    throw SpecError(mcp.where + ": bearer_token_env: the variable " +
                                    mcp.bearer_token_env + " is not set");
                server.http.headers.emplace_back("Authorization", std::string("Bearer ") + token);
            }
            add_server(mcp.where, registry, "mcp " + server.name, std::move(server));
            continue;
        }
        server.name = mcp.name.empty() ? mcp.command.front() : mcp.name;
        server.process.argv = mcp.sandboxed ? sandboxed_argv(spec, mcp) : mcp.command;
        server.process.env = tools::allowlisted_environment(mcp.env);
        server.process.cwd = spec.base_dir.string();
        add_server(mcp.where, registry, "mcp " + server.name, std::move(server));
    }
}

}  // namespace

const std::vector<ToolKind>& tool_kinds() {
    static const std::vector<ToolKind> kinds = {
        {"python", true, parse_python, add_python},
        {"browser", true, parse_browser, add_browser},
        {"workspace_files", true, parse_workspace_files, add_workspace_files},
        {"apply_patch", true, parse_apply_patch, add_apply_patch},
        {"shell", true, parse_shell, add_shell},
        {"plugin", false, parse_plugin, add_plugins},
        {"mcp", false, parse_mcp, add_mcp},
    };
    return kinds;
}

const ToolKind* find_tool_kind(std::string_view name) {
    for (const auto& k : tool_kinds())
        if (k.name == name) return &k;
    return nullptr;
}

}  // namespace gossamer::runtime
