#include "tools/shell/shell_call.h"

#include <nlohmann/json.hpp>

namespace gossamer::tools::shell {
namespace {

// "sub/dir", "./sub", "/mnt/data/sub" -> "sub/dir"; "..", other absolute paths refused.
std::string workspace_relative(std::string path) {
    const std::string inside = kWorkspaceInside;
    if (path == inside) return {};
    if (path.rfind(inside + "/", 0) == 0) path = path.substr(inside.size() + 1);
    if (!path.empty() && path[0] == '/')
        throw ShellCallError("workdir '" + path + "' is outside the workspace (" + inside +
                             "); give a path relative to it");
    std::string out;
    std::size_t at = 0;
    while (at <= path.size()) {
        const std::size_t end = std::min(path.find('/', at), path.size());
        const std::string part = path.substr(at, end - at);
        at = end + 1;
        if (part.empty() || part == ".") continue;
        if (part == "..") throw ShellCallError("workdir may not contain '..'");
        if (part.find('\0') != std::string::npos) throw ShellCallError("workdir holds a NUL");
        if (!out.empty()) out += '/';
        out += part;
    }
    return out;
}

void no_nul(const std::string& text) {
    if (text.find('\0') != std::string::npos)
        throw ShellCallError("the command holds a NUL character");
}

}  // namespace

ShellCall parse_shell_call(const std::string& arguments, const ShellOptions& options) {
    ShellCall call;
    call.timeout = options.timeout;
    nlohmann::json args = nlohmann::json::parse(arguments, nullptr, false);
    if (args.is_discarded() || !args.is_object()) {
        if (arguments.find_first_not_of(" \t\r\n") == std::string::npos)
            throw ShellCallError("empty call: give {\"command\": \"...\"}");
        if (!args.is_discarded() && !args.is_string())
            throw ShellCallError("arguments must be an object: {\"command\": \"...\"}");
        args = {{"command", args.is_string() ? args.get<std::string>() : arguments}};
    }
    for (const auto& [key, value] : args.items())
        if (key != "command" && key != "workdir" && key != "timeout_ms")
            throw ShellCallError("unknown argument '" + key +
                                 "' (known: command, workdir, timeout_ms)");
    if (!args.contains("command")) throw ShellCallError("missing argument 'command'");
    const auto& command = args["command"];
    if (command.is_string()) {
        const auto text = command.get<std::string>();
        if (text.find_first_not_of(" \t\r\n") == std::string::npos)
            throw ShellCallError("'command' is empty");
        no_nul(text);
        call.argv = {"bash", "-c", text};
    } else if (command.is_array() && !command.empty()) {
        for (const auto& part : command) {
            if (!part.is_string())
                throw ShellCallError("'command' as a list must hold only strings");
            call.argv.push_back(part.get<std::string>());
            no_nul(call.argv.back());
        }
        if (call.argv.front().empty()) throw ShellCallError("'command' names no program");
    } else {
        throw ShellCallError("'command' must be a string or a non-empty list of strings");
    }
    if (args.contains("workdir")) {
        if (!args["workdir"].is_string()) throw ShellCallError("'workdir' must be a string");
        call.workdir = workspace_relative(args["workdir"].get<std::string>());
    }
    if (args.contains("timeout_ms")) {
        const auto& t = args["timeout_ms"];
        if (!t.is_number() || t.get<double>() < 1)
            throw ShellCallError("'timeout_ms' must be a positive number of milliseconds");
        const double ms = t.get<double>();
        const auto asked = std::chrono::milliseconds(ms > 1e12 ? static_cast<long long>(1e12)
                                                               : static_cast<long long>(ms));
        call.timeout = std::min(asked, options.max_timeout);
    }
    return call;
}

}  // namespace gossamer::tools::shell
