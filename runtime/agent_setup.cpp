#include "runtime/agent_setup.h"

#include <chrono>
#include <ctime>
#include <memory>

#include "tools/browser/browser_tool.h"
#include "tools/mcp/mcp_tool.h"
#include "tools/python/python_tool.h"
#include "tools/workspace_files.h"

namespace gossamer::runtime {

namespace {

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

}  // namespace

// `gossamer sandbox exec --interactive ... -- COMMAND`: the server in gossamer's sandbox,
// seeing only the system's read-only binds and the paths the spec lists.
static std::vector<std::string> sandboxed_argv(const AgentSpec& spec, const McpToolSpec& mcp) {
    std::vector<std::string> argv = {
        self_executable().string(),   "sandbox", "exec", "--interactive", "--memory-mb",
        std::to_string(mcp.memory_mb)};
    // Each path appears at the same place inside, except under /tmp (the sandbox's own), which
    // moves to /opt/gossamer-ro/N; the command's paths are rewritten to match.
    std::vector<std::pair<std::string, std::string>> moved;
    std::string binds;
    for (std::size_t i = 0; i < mcp.read_only.size(); ++i) {
        std::error_code ec;
        auto host = std::filesystem::weakly_canonical(resolve(spec, mcp.read_only[i]), ec).string();
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
    argv.push_back("--");
    for (std::size_t i = 0; i < mcp.command.size(); ++i) {
        std::string part = mcp.command[i];  // a relative program path is the spec's
        if (i == 0 && part.find('/') != std::string::npos) {
            std::error_code ec;
            part = std::filesystem::weakly_canonical(resolve(spec, part), ec).string();
        }
        for (const auto& [host, inside] : moved)
            if (part == host || part.rfind(host + "/", 0) == 0)
                part = inside + part.substr(host.size());
        argv.push_back(part);
    }
    return argv;
}

std::filesystem::path self_executable() {
    std::error_code ec;
    auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path("gossamer") : path;
}

void add_spec_tools(const AgentSpec& spec, ToolRegistry& registry) {
    const auto& t = spec.tools;
    if (t.workspace_files) registry.add(std::make_shared<tools::WorkspaceFiles>());
    if (t.python) {  // tools/python: kernels per session; the workspace comes with each call
        tools::python::PythonOptions o;
        o.mode = t.python->mode == "stateless" ? tools::python::Mode::stateless
                                               : tools::python::Mode::stateful;
        o.timeout =
            std::chrono::milliseconds(static_cast<long long>(t.python->timeout_seconds * 1000));
        o.idle_timeout = std::chrono::milliseconds(
            static_cast<long long>(t.python->idle_timeout_seconds * 1000));
        o.memory_mb = static_cast<std::uint64_t>(t.python->memory_mb);
        o.network = t.python->network;
        o.interpreter = t.python->interpreter;
        for (const auto& path : t.python->extra_read_only)
            o.extra_read_only.push_back(resolve(spec, path).string());
        registry.add(std::make_shared<tools::python::PythonTool>(std::move(o)));
    }
    if (t.browser) {  // tools/browser: one browser (pages, cursors, request budget) per run
        tools::browser::BrowserOptions o;
        o.backend = t.browser->backend;
        if (!t.browser->root.empty()) o.root = resolve(spec, t.browser->root);
        o.base_url = t.browser->url;
        o.allow_domains = t.browser->allow_domains;
        o.deny_domains = t.browser->deny_domains;
        o.max_requests = t.browser->max_requests;
        try {
            registry.add(std::make_shared<tools::browser::BrowserTool>(std::move(o)));
        } catch (const std::invalid_argument& e) {
            throw SpecError(spec.name + ": tools: browser: " + e.what());
        }
    }
    for (const auto& plugin : t.plugins) {
        tools::McpServerSpec server;
        const auto library = resolve(spec, plugin.path);
        server.name = library.filename().string();
        server.process.argv = {self_executable().string(), "plugin", "serve", library.string()};
        server.process.env = tools::allowlisted_environment();
        server.call_timeout = std::chrono::milliseconds(
            static_cast<long long>(spec.limits.tool_timeout_seconds * 1000));
        add_server(plugin.where, registry, "plugin " + plugin.path, std::move(server));
    }
    for (const auto& mcp : t.mcp) {
        tools::McpServerSpec server;
        server.name = mcp.name.empty() ? mcp.command.front() : mcp.name;
        server.process.argv = mcp.sandboxed ? sandboxed_argv(spec, mcp) : mcp.command;
        server.process.env = tools::allowlisted_environment(mcp.env);
        server.process.cwd = spec.base_dir.string();
        server.call_timeout =
            std::chrono::milliseconds(static_cast<long long>(mcp.timeout_seconds * 1000));
        add_server(mcp.where, registry, "mcp " + server.name, std::move(server));
    }
}

AgentSettings settings_for(const AgentSpec& spec, const std::string& session_id,
                           const std::filesystem::path& workspace, int context_window) {
    AgentSettings s;
    s.session_id = session_id;
    s.sampling = spec.model.sampling;
    s.limits = spec.limits;
    s.workspace = workspace;
    s.context.window = spec.limits.context_tokens > 0
                           ? std::min(spec.limits.context_tokens, context_window)
                           : context_window;
    return s;
}

std::string today_utc() {
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[16];
    std::strftime(text, sizeof text, "%Y-%m-%d", &tm);
    return text;
}

}  // namespace gossamer::runtime
