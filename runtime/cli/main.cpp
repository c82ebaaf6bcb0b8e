// gossamer: one binary, subcommands. This file only dispatches and turns exceptions into
// exit codes; each command lives in its own cmd_*.cpp.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/cli/cli_io.h"
#include "runtime/cli/commands.h"

namespace {

using gossamer::cli::Args;

struct Command {
    std::string_view name;  // "harmony render" for two-word commands
    int (*run)(Args);
    std::string_view summary;
};

constexpr Command kCommands[] = {
    {"demo", gossamer::cli::cmd_demo, "tokenize and render a demo conversation (the main job)"},
    {"tokenize", gossamer::cli::cmd_tokenize,
     "[--ordinary]  UTF-8 text on stdin -> JSON array of token ids"},
    {"detokenize", gossamer::cli::cmd_detokenize, "JSON array of ids on stdin -> bytes"},
    {"harmony render", gossamer::cli::cmd_harmony_render,
     "[--for-completion[=ROLE] | --for-training] [--drop-analysis=MODE]  "
     "{\"messages\":[...]} -> {\"tokens\",\"text\"}"},
    {"harmony parse", gossamer::cli::cmd_harmony_parse,
     "[--role=ROLE | --no-role]  JSON array of ids -> {\"messages\",\"message_info\",\"errors\"}"},
    {"model init", gossamer::cli::cmd_model_init,
     "--preset 20b|120b|tiny|nano --out DIR [--seed N] [--layers N] [--layout original|hf]  "
     "write a random checkpoint"},
    {"model info", gossamer::cli::cmd_model_info,
     "DIR [--json]  load and validate a checkpoint; sizes, parameters, memory"},
    {"model forward", gossamer::cli::cmd_model_forward,
     "--model DIR --prompt-ids FILE --out FILE [--threads N]  int32 ids -> f32 logits [T, vocab]"},
    {"run", gossamer::cli::cmd_run,
     "SPEC [--task TEXT] [--model DIR | --replay FILE] [--store DB] [--json]  run an agent"},
    {"resume", gossamer::cli::cmd_resume, "ID [--model DIR | --replay FILE] [--store DB] [--json]"},
    {"chat", gossamer::cli::cmd_chat,
     "SPEC [--model DIR | --replay FILE] [--store DB]  one turn per line"},
    {"sessions list", gossamer::cli::cmd_sessions_list, "[--store DB] [--json]"},
    {"sessions show", gossamer::cli::cmd_sessions_show, "ID [--store DB]"},
    {"sessions export", gossamer::cli::cmd_sessions_export,
     "ID [--format json|harmony] [--store DB]"},
    {"plugin serve", gossamer::cli::cmd_plugin_serve,
     "LIB  a native plugin as an MCP stdio server"},
    {"plugin info", gossamer::cli::cmd_plugin_info,
     "LIB [--json]  the tools a native plugin declares"},
    {"tools list", gossamer::cli::cmd_tools_list,
     "SPEC  the tool namespaces as the model sees them"},
    {"generate", gossamer::cli::cmd_generate,
     "--model DIR (--prompt TEXT | --prompt-ids FILE) --max-tokens N [--temperature T] "
     "[--top-p P] [--top-k K] [--seed S] [--threads N] [--json]"},
    {"sandbox exec", gossamer::cli::cmd_sandbox_exec,
     "[--policy FILE] [--net] [--workspace DIR] [--timeout S] [--unsandboxed] -- CMD ARGS...  "
     "run a command in the sandbox"},
    {"tool browser", gossamer::cli::cmd_tool_browser,
     "[--backend local|searxng|exa|youcom] [--root DIR] [--url URL] [--allow-private]  "
     "JSON array of browser calls -> the tool messages"},
    {"tool python", gossamer::cli::cmd_tool_python,
     "[--stateful [--session ID]] [--workspace DIR] [--timeout S] [--net]  "
     "Python code on stdin -> the tool's output"},
    {"doctor", gossamer::cli::cmd_doctor, "[--json]  which sandbox layers work on this machine"},
    {"version", gossamer::cli::cmd_version, "build information and compute devices"},
};

void print_usage(std::FILE* out) {
    std::fprintf(out, "usage: gossamer <command> [options]\n\ncommands:\n");
    for (const auto& c : kCommands)
        std::fprintf(out, "  %-16.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                     static_cast<int>(c.summary.size()), c.summary.data());
    std::fprintf(out, "\nMachine-readable contracts: docs/CLI.md\n");
}

// Finds the command named by the first one or two arguments; sets `consumed`.
const Command* find_command(const std::vector<std::string_view>& args, std::size_t& consumed) {
    for (const auto& c : kCommands) {
        auto space = c.name.find(' ');
        if (space == std::string_view::npos) {
            if (!args.empty() && args[0] == c.name) return consumed = 1, &c;
        } else if (args.size() >= 2 && args[0] == c.name.substr(0, space) &&
                   args[1] == c.name.substr(space + 1)) {
            return consumed = 2, &c;
        }
    }
    return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
        print_usage(args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    std::size_t consumed = 0;
    const Command* command = find_command(args, consumed);
    if (!command) {
        std::string name(args[0]);
        const bool group = args[0] == "harmony" || args[0] == "model" || args[0] == "sandbox" ||
                           args[0] == "sessions" || args[0] == "tool" || args[0] == "tools" ||
                           args[0] == "plugin";
        if (args.size() >= 2 && group) name.append(" ").append(args[1]);
        std::fprintf(stderr, "gossamer: unknown command '%s'\n\n", name.c_str());
        print_usage(stderr);
        return 2;
    }
    std::string name(command->name);
    try {
        return command->run(Args(args).subspan(consumed));
    } catch (const gossamer::cli::InputError& e) {
        std::fprintf(stderr, "gossamer %s: %s\n", name.c_str(), e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gossamer %s: internal error: %s\n", name.c_str(), e.what());
        return 1;
    }
}
