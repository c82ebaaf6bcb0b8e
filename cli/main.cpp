// gossamer: one binary, subcommands. This file only dispatches and turns exceptions into
// exit codes; each command lives in its own cmd_*.cpp.
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "cli/cli_io.h"
#include "cli/commands.h"
#include "runtime/agent_spec.h"
#include "runtime/session_store.h"
#include "runtime/setup_error.h"

namespace {

using gossamer::cli::Args;

struct Command {
    std::string_view name;  // "harmony render" for two-word commands
    int (*run)(Args);
    std::string_view summary;  // one line: what it does
    std::string_view usage;    // the synopsis: every argument and flag
    std::string_view flags;    // one line per flag ("  --name VALUE  what"), may be empty
};

constexpr Command kCommands[] = {
    {"demo", gossamer::cli::cmd_demo, "tokenize and render a demo conversation", "", ""},
    {"tokenize", gossamer::cli::cmd_tokenize, "UTF-8 text on stdin -> JSON array of token ids",
     "[--ordinary]", "  --ordinary       special-token text is ordinary text\n"},
    {"detokenize", gossamer::cli::cmd_detokenize, "JSON array of ids on stdin -> bytes", "", ""},
    {"harmony render", gossamer::cli::cmd_harmony_render,
     "{\"messages\":[...]} on stdin -> {\"tokens\",\"text\"}",
     "[--for-completion[=ROLE] | --for-training] "
     "[--drop-analysis=completed-turns|harmony-first-final|none] [--lines]",
     "  --for-completion[=ROLE]  end with <|start|>ROLE (default assistant)\n"
     "  --for-training           end a final answer with <|return|> instead of <|end|>\n"
     "  --drop-analysis=MODE     chain of thought to leave out (default: completed-turns)\n"
     "  --lines                  one JSON request per input line, one result per line\n"},
    {"harmony parse", gossamer::cli::cmd_harmony_parse,
     "JSON array of ids on stdin -> {\"messages\",\"message_info\",\"errors\"}",
     "[--role=ROLE | --no-role]",
     "  --role=ROLE   the role of a completion that starts after <|start|>ROLE\n"
     "  --no-role     the ids start with <|start|>\n"},
    {"model init", gossamer::cli::cmd_model_init, "write a random checkpoint",
     "--preset 20b|120b|tiny|nano --out DIR [--seed N] [--layers N] [--layout original|hf]",
     "  --preset NAME   20b | 120b | tiny | nano\n"
     "  --out DIR       where to write it (must not exist or be empty)\n"
     "  --seed N        random seed\n"
     "  --layers N      fewer layers than the preset\n"
     "  --layout L      original | hf\n"},
    {"model info", gossamer::cli::cmd_model_info,
     "load and validate a checkpoint; sizes, parameters, memory", "DIR [--json]",
     "  --json   machine-readable\n"},
    {"model forward", gossamer::cli::cmd_model_forward, "int32 ids -> f32 logits [T, vocab]",
     "--model DIR --prompt-ids FILE --out FILE [--threads N] [--backend cpu|cuda|auto] "
     "[--kv-precision bf16|fp32] [--expert-activations int8|fp32] [--dense-activations bf16|fp32] "
     "[--weights memory|mmap]",
     "  --model DIR        checkpoint\n"
     "  --prompt-ids FILE  raw little-endian int32 ids\n"
     "  --out FILE         f32 logits\n"
     "  --threads N        CPU threads\n"
     "  --backend NAME     cpu | cuda | auto\n"
     "  --kv-precision P   bf16 (default) | fp32 (the reference's arithmetic)\n"
     "  --expert-activations A int8 (default: q8_0-like, faster) | fp32 (exact): CPU experts\n"
     "  --dense-activations A  bf16 (default: as llama.cpp, faster) | fp32 (exact): CPU dense\n"
     "  --weights W        memory (default: a copy, faster decode) | mmap (instant load)\n"},
    {"run", gossamer::cli::cmd_run, "run an agent spec to its end as a new session",
     "SPEC [--task TEXT] [--model DIR | --replay FILE | --endpoint URL...] [--output-schema "
     "FILE] "
     "[--sandbox MODE] [--store DB] [--backend cpu|cuda|auto] [--threads N] [--lease-timeout S] "
     "[--kv-disk-budget SIZE] [--kv-precision bf16|fp32] [--expert-activations int8|fp32] "
     "[--dense-activations bf16|fp32] "
     "[--weights memory|mmap] "
     "[--draft-tokens N] [--json | --quiet | "
     "--verbose]",
     "  --task TEXT            the task (overrides the spec's)\n"
     "  --model DIR            checkpoint (default: the spec's model.path, else the bundled "
     "nano)\n"
     "  --replay FILE          a replay script instead of a model (a scripted test double)\n"
     "  --replay-delay-ms N    replay: pause per token\n"
     "  --endpoint URL         a remote engine instead (repeatable; docs/SCALE.md)\n"
     "  --engine-api NAME      gossamer | vllm | sglang (default: the spec's, else gossamer)\n"
     "  --output-schema FILE   the final answer must be JSON valid under this JSON Schema\n"
     "  --sandbox MODE         auto | userns | root | container (the spec's sandbox.mode)\n"
     "  --store DB             session store (its folder must exist)\n"
     "  --backend NAME         cpu | cuda | auto\n"
     "  --threads N            CPU threads\n"
     "  --lease-timeout S      a lease without heartbeat this long is stale (default 30)\n"
     "  --kv-disk-budget SIZE  saved KV caches in the store folder at most (default 16G; 0: "
     "none)\n"
     "  --kv-precision P       bf16 (default) | fp32: the CPU backend's KV cache\n"
     "  --expert-activations A int8 (default: q8_0-like, faster) | fp32 (exact): CPU experts\n"
     "  --dense-activations A  bf16 (default: as llama.cpp, faster) | fp32 (exact): CPU dense\n"
     "  --weights W            memory (default: a copy, faster decode) | mmap (instant load)\n"
     "  --draft-tokens N       speculative decoding: draft tokens per step (default 8; 0: off)\n"
     "  --json                 events as JSON lines\n"
     "  --quiet                the final answer only (why on stderr when there is none)\n"
     "  --verbose              reasoning in full (by default one line of it)\n"},
    {"resume", gossamer::cli::cmd_resume, "continue a stored session that did not finish",
     "ID [--model DIR | --replay FILE | --endpoint URL...] [--store DB] [--backend cpu|cuda|auto] "
     "[--threads N] [--lease-timeout S] [--kv-disk-budget SIZE] [--kv-precision bf16|fp32] "
     "[--expert-activations int8|fp32] [--dense-activations bf16|fp32] "
     "[--weights memory|mmap] "
     "[--draft-tokens N] "
     "[--json | --quiet | --verbose]",
     "  --model DIR            another checkpoint than the session's\n"
     "  --replay FILE          a replay script\n"
     "  --replay-delay-ms N    replay: pause per token\n"
     "  --endpoint URL         other remote engines than the session's (repeatable)\n"
     "  --engine-api NAME      gossamer | vllm | sglang\n"
     "  --store DB             session store (must exist)\n"
     "  --backend NAME         cpu | cuda | auto\n"
     "  --threads N            CPU threads\n"
     "  --lease-timeout S      take over a lease without heartbeat this long (default 30)\n"
     "  --kv-disk-budget SIZE  saved KV caches in the store folder at most (default 16G; 0: none)\n"
     "  --kv-precision P       bf16 (default) | fp32: the CPU backend's KV cache\n"
     "  --expert-activations A int8 (default: q8_0-like, faster) | fp32 (exact): CPU experts\n"
     "  --dense-activations A  bf16 (default: as llama.cpp, faster) | fp32 (exact): CPU dense\n"
     "  --weights W            memory (default: a copy, faster decode) | mmap (instant load)\n"
     "  --draft-tokens N       speculative decoding: draft tokens per step (default 8; 0: off)\n"
     "  --json                 events as JSON lines\n"
     "  --quiet                the final answer only (why on stderr when there is none)\n"
     "  --verbose              reasoning in full (by default one line of it)\n"},
    {"chat", gossamer::cli::cmd_chat, "one user turn per line of stdin, one session",
     "SPEC [--model DIR | --replay FILE | --endpoint URL...] [--sandbox MODE] [--store DB] "
     "[--backend cpu|cuda|auto] [--threads N] [--lease-timeout S] [--kv-disk-budget SIZE] "
     "[--kv-precision bf16|fp32] [--expert-activations int8|fp32] [--dense-activations bf16|fp32] "
     "[--weights memory|mmap] "
     "[--draft-tokens N] [--json | --quiet | "
     "--verbose]",
     "  --model DIR            checkpoint\n"
     "  --replay FILE          a replay script\n"
     "  --endpoint URL         a remote engine instead (repeatable; docs/SCALE.md)\n"
     "  --engine-api NAME      gossamer | vllm | sglang (default: the spec's, else gossamer)\n"
     "  --sandbox MODE         auto | userns | root | container (the spec's sandbox.mode)\n"

     "  --store DB             session store (its folder must exist)\n"
     "  --backend NAME         cpu | cuda | auto\n"
     "  --threads N            CPU threads\n"
     "  --lease-timeout S      stale lease age (default 30)\n"
     "  --kv-disk-budget SIZE  saved KV caches in the store folder at most (default 16G; 0: none)\n"
     "  --kv-precision P       bf16 (default) | fp32: the CPU backend's KV cache\n"
     "  --expert-activations A int8 (default: q8_0-like, faster) | fp32 (exact): CPU experts\n"
     "  --dense-activations A  bf16 (default: as llama.cpp, faster) | fp32 (exact): CPU dense\n"
     "  --weights W            memory (default: a copy, faster decode) | mmap (instant load)\n"
     "  --draft-tokens N       speculative decoding: draft tokens per step (default 8; 0: off)\n"
     "  --json                 events as JSON lines\n"
     "  --quiet                the final answer only (why on stderr when there is none)\n"
     "  --verbose              reasoning in full (by default one line of it)\n"},
    {"fleet", gossamer::cli::cmd_fleet, "run many tasks of one spec on one engine",
     "SPEC --tasks FILE.jsonl [--parallel N] [--name NAME] [--results FILE.jsonl] "
     "[--max-failures N] [--model DIR | --replay FILE | --endpoint URL...] [--output-schema FILE] "
     "[--store DB] [--backend cpu|cuda|auto] [--threads N] [--kv-disk-budget SIZE] "
     "[--kv-precision bf16|fp32] [--expert-activations int8|fp32] [--dense-activations bf16|fp32] "
     "[--weights memory|mmap] "
     "[--draft-tokens N] [--json] | --resume "
     "FLEET_ID "
     "[--results FILE.jsonl] [--parallel N] [--endpoint URL...]",
     "  --tasks FILE.jsonl     one task per line: {\"task\", \"vars\", \"id\"}\n"
     "  --parallel N           sessions running at once (default 8)\n"
     "  --name NAME            the fleet's name (default: the spec's)\n"
     "  --results FILE.jsonl   one line per task at the end\n"
     "  --max-failures N       stop starting tasks after N failures\n"
     "  --resume FLEET_ID      continue a fleet's unfinished tasks\n"
     "  --model DIR            checkpoint\n"
     "  --replay FILE          a replay script\n"
     "  --replay-delay-ms N    replay: pause per token\n"
     "  --endpoint URL         remote engines the tasks spread over (repeatable; on --resume:\n"
     "                         the fleet's endpoints moved)\n"
     "  --engine-api NAME      gossamer | vllm | sglang\n"
     "  --output-schema FILE   every task's final answer must be JSON valid under this schema\n"
     "  --sandbox MODE         auto | userns | root | container (the spec's sandbox.mode)\n"
     "  --store DB             session store\n"
     "  --backend NAME         cpu | cuda | auto\n"
     "  --threads N            CPU threads\n"
     "  --lease-timeout S      stale lease age (default 30)\n"
     "  --kv-disk-budget SIZE  saved KV caches in the store folder at most (default 16G; 0: none)\n"
     "  --kv-precision P       bf16 (default) | fp32: the CPU backend's KV cache\n"
     "  --expert-activations A int8 (default: q8_0-like, faster) | fp32 (exact): CPU experts\n"
     "  --dense-activations A  bf16 (default: as llama.cpp, faster) | fp32 (exact): CPU dense\n"
     "  --weights W            memory (default: a copy, faster decode) | mmap (instant load)\n"
     "  --draft-tokens N       speculative decoding: draft tokens per step (default 8; 0: off)\n"
     "  --json                 progress as JSON lines (the default when not a terminal)\n"},
    {"serve", gossamer::cli::cmd_serve,
     "an OpenAI-compatible HTTP server (Responses, Chat Completions, generate) on one model",
     "[--model DIR | --replay FILE] [--host 127.0.0.1] [--port 8000] [--store DB | --no-store] "
     "[--api-key KEY] [--backend cpu|cuda|auto] [--threads N] [--max-running N] [--max-queue N] "
     "[--spec SPEC] [--model-name NAME] [--kv-disk-budget SIZE] [--kv-precision bf16|fp32] "
     "[--expert-activations int8|fp32] [--dense-activations bf16|fp32] "
     "[--weights memory|mmap] "
     "[--draft-tokens N]",
     "  --model DIR              checkpoint (default: the bundled nano)\n"
     "  --replay FILE            a replay script instead of a model (a scripted test double)\n"
     "  --replay-delay-ms N      replay: pause per token\n"
     "  --host ADDR              address to listen on (default 127.0.0.1; others need a key)\n"
     "  --port N                 port (default 8000; 0: any free port)\n"
     "  --store DB               where stored responses live (default: the session store)\n"
     "  --no-store               keep no responses (previous_response_id is refused)\n"
     "  --api-key KEY            require Authorization: Bearer KEY (or GOSSAMER_API_KEY)\n"
     "  --backend NAME           cpu | cuda | auto\n"
     "  --threads N              CPU threads\n"
     "  --max-running N          requests generating at once (default 16)\n"
     "  --max-queue N            requests waiting beyond those; more get 429 (default 64)\n"
     "  --max-request-tokens N   prompt tokens per request (longer: 400)\n"
     "  --context-tokens N       context window per request (default: the model's)\n"
     "  --spec SPEC              built-in tools (python, browser) as an agent spec lists them\n"
     "  --model-name NAME        the model id clients send (default: the checkpoint's folder)\n"
     "  --kv-disk-budget SIZE    conversations' saved KV caches at most (default 16G; 0: none)\n"
     "  --kv-precision P         bf16 (default) | fp32: the CPU backend's KV cache\n"
     "  --expert-activations A   int8 (default: q8_0-like, faster) | fp32 (exact): CPU experts\n"
     "  --dense-activations A    bf16 (default: as llama.cpp, faster) | fp32 (exact): CPU dense\n"
     "  --weights W              memory (default: a copy, faster decode) | mmap (instant load)\n"
     "  --draft-tokens N         speculative decoding: draft tokens per step (default 8; 0: "
     "off)\n"},
    {"ui", gossamer::cli::cmd_ui,
     "the trace viewer (sessions, fleets, live runs) over a session store, in a browser",
     "[--store DB] [--host 127.0.0.1] [--port 8080] [--api-key KEY]",
     "  --store DB      session store (default: the default store; must exist)\n"
     "  --host ADDR     address to listen on (default 127.0.0.1; others need a key)\n"
     "  --port N        port (default 8080; 0: any free port)\n"
     "  --api-key KEY   require the key (or GOSSAMER_API_KEY); open /ui/?key=KEY once\n"},
    {"fleet list", gossamer::cli::cmd_fleet_list, "the fleets in a store", "[--store DB] [--json]",
     "  --store DB   session store\n  --json       machine-readable\n"},
    {"fleet show", gossamer::cli::cmd_fleet_show, "one fleet's tasks and their sessions",
     "ID [--store DB] [--json]", "  --store DB   session store\n  --json       machine-readable\n"},
    {"sessions list", gossamer::cli::cmd_sessions_list, "the stored sessions, newest first",
     "[--store DB] [--json]", "  --store DB   session store\n  --json       machine-readable\n"},
    {"sessions gc", gossamer::cli::cmd_sessions_gc,
     "remove saved KV caches of deleted sessions, then the least recently used over a budget",
     "[--store DB] [--kv-disk-budget SIZE] [--json]",
     "  --store DB              session store\n"
     "  --kv-disk-budget SIZE   keep at most this much (default 16G; 0: remove all)\n"
     "  --json                  machine-readable\n"},
    {"sessions show", gossamer::cli::cmd_sessions_show, "one session's messages", "ID [--store DB]",
     "  --store DB   session store\n"},
    {"sessions export", gossamer::cli::cmd_sessions_export, "one session as JSON or harmony text",
     "ID [--format json|harmony] [--store DB]",
     "  --format F   json (default) | harmony\n  --store DB   session store\n"},
    {"sessions diff", gossamer::cli::cmd_sessions_diff,
     "what a session did to its workspace, as a unified diff", "ID [--step N] [--store DB]",
     "  --step N     only step N (0: the files it started with)\n"
     "  --store DB   session store\n"},
    {"sessions revert", gossamer::cli::cmd_sessions_revert,
     "put a session's workspace back as it was after a step", "ID --to-step N [--store DB]",
     "  --to-step N  the step to go back to (0: the files it started with)\n"
     "  --store DB   session store\n"},
    {"plugin serve", gossamer::cli::cmd_plugin_serve, "a native plugin as an MCP stdio server",
     "LIB", ""},
    {"plugin info", gossamer::cli::cmd_plugin_info, "the tools a native plugin declares",
     "LIB [--json]", "  --json   machine-readable\n"},
    {"tools list", gossamer::cli::cmd_tools_list, "the tool namespaces as the model sees them",
     "SPEC", ""},
    {"mcp tools", gossamer::cli::cmd_mcp_tools, "list an MCP server's tools (HTTP or stdio)",
     "(URL | -- COMMAND ARGS...) [--header 'NAME: VALUE']... [--bearer-env VAR] [--timeout S] "
     "[--json]",
     "  --header 'N: V'    sent with every request to a URL (repeatable)\n"
     "  --bearer-env VAR   Authorization: Bearer from this variable\n"
     "  --timeout S        start-up and call limit (default 20 s / 60 s)\n"
     "  --json             {protocol_version, stateless, tools: [...]}\n"},
    {"mcp serve", gossamer::cli::cmd_mcp_serve, "serve a spec's tools over MCP (stdio or HTTP)",
     "SPEC [--http PORT] [--host ADDR] [--api-key KEY] [--workspace DIR] [--sandbox MODE]",
     "  --http PORT        Streamable HTTP on this port at /mcp (default: stdio; 0: any free)\n"
     "  --host ADDR        --http: listen address (default 127.0.0.1)\n"
     "  --api-key KEY      --http: required bearer token (or GOSSAMER_API_KEY)\n"
     "  --workspace DIR    where the tools work (default: the current folder)\n"
     "  --sandbox MODE     auto | userns | root | container (the spec's sandbox.mode)\n"},
    {"mcp call", gossamer::cli::cmd_mcp_call, "call one tool of an MCP server",
     "(URL TOOL | TOOL -- COMMAND ARGS...) [--args JSON] [--header 'NAME: VALUE']... "
     "[--bearer-env VAR] [--timeout S] [--json]",
     "  --args JSON        the tool's arguments (an object; default {})\n"
     "  --header 'N: V'    sent with every request to a URL (repeatable)\n"
     "  --bearer-env VAR   Authorization: Bearer from this variable\n"
     "  --timeout S        start-up and call limit\n"
     "  --json             the raw result (or {error})\n"},
    {"generate", gossamer::cli::cmd_generate, "sample tokens from a checkpoint",
     "--model DIR (--prompt TEXT | --prompt-ids FILE) --max-tokens N [--temperature T] "
     "[--top-p P] [--top-k K] [--seed S] [--threads N] [--backend cpu|cuda|auto] "
     "[--kv-precision bf16|fp32] [--expert-activations int8|fp32] [--dense-activations bf16|fp32] "
     "[--weights memory|mmap] [--json]",
     "  --model DIR         checkpoint\n"
     "  --prompt TEXT       prompt text\n"
     "  --prompt-ids FILE   raw int32 ids\n"
     "  --max-tokens N      tokens to generate\n"
     "  --temperature T     sampling temperature\n"
     "  --top-p P           nucleus\n"
     "  --top-k K           top-k\n"
     "  --seed S            seed\n"
     "  --threads N         CPU threads\n"
     "  --backend NAME      cpu | cuda | auto\n"
     "  --kv-precision P    bf16 (default) | fp32\n"
     "  --expert-activations A int8 (default: q8_0-like, faster) | fp32 (exact): CPU experts\n"
     "  --dense-activations A  bf16 (default: as llama.cpp, faster) | fp32 (exact): CPU dense\n"
     "  --weights W         memory (default: a copy, faster decode) | mmap (instant load)\n"
     "  --json              machine-readable\n"},
    {"sandbox exec", gossamer::cli::cmd_sandbox_exec, "run a command in the sandbox",
     "[--policy FILE] [--mode MODE] [--net | --net-allow LIST [--net-deny LIST]] [--workspace DIR] "
     "[--timeout S] [--memory-mb N] "
     "[--pids N] [--read-only PATHS] [--interactive] [--unsandboxed] [--sanitize] "
     "[--print-policy] -- CMD ARGS...",
     "  --policy FILE       a JSON policy\n"
     "  --mode MODE         auto | userns | root | container (docs/SECURITY.md)\n"
     "  --net               keep the network\n"
     "  --net-allow LIST    no network but a proxy to these domains (comma-separated)\n"
     "  --net-deny LIST     with --net-allow: domains refused even when allowed\n"
     "  --workspace DIR     bound read-write at the workspace path\n"
     "  --timeout S         wall-clock limit\n"
     "  --memory-mb N       memory limit\n"
     "  --read-only PATHS   extra read-only binds (comma-separated, HOST[=INSIDE])\n"
     "  --interactive       stdin stays open (servers)\n"
     "  --unsandboxed       limits and environment only, no isolation\n"
     "  --pids N            process limit\n"
     "  --sanitize          pass the output through the model-bound sanitizer\n"
     "  --print-policy      print the effective policy as JSON and run nothing\n"},
    {"tool browser", gossamer::cli::cmd_tool_browser,
     "JSON array of browser calls on stdin -> the tool messages",
     "[--backend local|searxng|exa|youcom] [--root DIR] [--url URL] [--allow-private] "
     "[--allow-domains A,B] [--deny-domains A,B] [--max-requests N] [--timeout SECONDS] "
     "[--view-tokens N]",
     "  --backend NAME       local | searxng | exa | youcom\n"
     "  --root DIR           local: documents\n"
     "  --url URL            searxng: base URL\n"
     "  --allow-private      allow private addresses\n"
     "  --allow-domains A,B  only these domains\n"
     "  --deny-domains A,B   never these domains\n"
     "  --max-requests N     requests per session\n"
     "  --timeout SECONDS    per request\n"
     "  --view-tokens N      tokens per page view\n"},
    {"tool python", gossamer::cli::cmd_tool_python, "Python code on stdin -> the tool's output",
     "[--stateful [--session ID]] [--workspace DIR] [--timeout S] [--memory-mb N] "
     "[--interpreter PATH] [--net]",
     "  --stateful          a persistent kernel\n"
     "  --session ID        stateful: the kernel's session\n"
     "  --workspace DIR     /mnt/data\n"
     "  --timeout S         per call\n"
     "  --memory-mb N       memory limit\n"
     "  --interpreter PATH  python3 to run\n"
     "  --net               keep the network\n"},
    {"doctor", gossamer::cli::cmd_doctor, "which sandbox layers work on this machine", "[--json]",
     "  --json   machine-readable\n"},
    {"version", gossamer::cli::cmd_version, "build information and compute devices", "", ""},
};

constexpr std::string_view kGroups[] = {"harmony", "model", "sandbox", "sessions",
                                        "tool",    "tools", "plugin",  "fleet"};

void print_usage(std::FILE* out, std::string_view group = {}) {
    std::fprintf(out,
                 "usage: gossamer <command> [options]   (gossamer help COMMAND)\n\ncommands:\n");
    for (const auto& c : kCommands) {
        if (!group.empty() && c.name.substr(0, c.name.find(' ')) != group) continue;
        std::fprintf(out, "  %-16.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                     static_cast<int>(c.summary.size()), c.summary.data());
    }
    std::fprintf(out,
                 "\nExit codes: 0 done, 1 a bug or model failure, 2 bad input, 3 budget, "
                 "4 interrupted. Contracts: docs/CLI.md\n");
}

void print_help(const Command& c) {
    std::printf("usage: gossamer %.*s %.*s\n\n%.*s\n", static_cast<int>(c.name.size()),
                c.name.data(), static_cast<int>(c.usage.size()), c.usage.data(),
                static_cast<int>(c.summary.size()), c.summary.data());
    if (!c.flags.empty())
        std::printf("\noptions:\n%.*s", static_cast<int>(c.flags.size()), c.flags.data());
    std::printf("\ndocs/CLI.md has the full contract.\n");
}

// Finds the command named by the first one or two arguments; sets `consumed`.
const Command* find_command(const std::vector<std::string_view>& args, std::size_t& consumed) {
    const Command* single = nullptr;
    for (const auto& c : kCommands) {
        auto space = c.name.find(' ');
        if (space == std::string_view::npos) {
            if (!args.empty() && args[0] == c.name) single = &c;
        } else if (args.size() >= 2 && args[0] == c.name.substr(0, space) &&
                   args[1] == c.name.substr(space + 1)) {
            return consumed = 2, &c;
        }
    }
    if (single) consumed = 1;
    return single;
}

bool is_group(std::string_view word) {
    for (auto g : kGroups)
        if (g == word) return true;
    return false;
}

// -h / --help among the command's own arguments (not after "--").
bool wants_help(Args args) {
    for (auto a : args) {
        if (a == "--") return false;
        if (a == "-h" || a == "--help") return true;
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    // A closed stdout (`| head`) is an EPIPE on write, not a death that leaves a session open.
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "-h" || args[0] == "--help") {
        print_usage(args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "help") {
        if (args.size() == 1) return print_usage(stdout), 0;
        std::size_t consumed = 0;
        std::vector<std::string_view> rest(args.begin() + 1, args.end());
        if (const Command* c = find_command(rest, consumed); c && consumed == rest.size())
            return print_help(*c), 0;
        if (rest.size() == 1 && is_group(rest[0])) return print_usage(stdout, rest[0]), 0;
        std::fprintf(stderr, "gossamer help: unknown command '%s'\n\n",
                     std::string(rest[0]).c_str());
        print_usage(stderr);
        return 2;
    }
    std::size_t consumed = 0;
    const Command* command = find_command(args, consumed);
    if (!command) {
        std::string name(args[0]);
        if (is_group(args[0])) {
            if (args.size() >= 2 && args[1] != "-h" && args[1] != "--help") {
                std::fprintf(stderr, "gossamer: unknown command '%s %s'\n\n", name.c_str(),
                             std::string(args[1]).c_str());
                print_usage(stderr, args[0]);
                return 2;
            }
            const bool help = args.size() >= 2;
            if (!help) std::fprintf(stderr, "gossamer %s: which one?\n\n", name.c_str());
            print_usage(help ? stdout : stderr, args[0]);
            return help ? 0 : 2;
        }
        std::fprintf(stderr, "gossamer: unknown command '%s'\n\n", name.c_str());
        print_usage(stderr);
        return 2;
    }
    Args rest = Args(args).subspan(consumed);
    if (wants_help(rest)) return print_help(*command), 0;
    std::string name(command->name);
    auto bad_input = [&](const std::exception& e) {
        std::fprintf(stderr, "gossamer %s: %s\n", name.c_str(), e.what());
        return 2;
    };
    try {
        return command->run(rest);
    } catch (const gossamer::cli::InputError& e) {  // usage and input mistakes
        return bad_input(e);
    } catch (const gossamer::runtime::SetupError& e) {  // model, tools, outputs, busy session
        return bad_input(e);
    } catch (const gossamer::runtime::SpecError& e) {
        return bad_input(e);
    } catch (const gossamer::runtime::StorePathError& e) {
        return bad_input(e);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gossamer %s: internal error: %s\n", name.c_str(), e.what());
        return 1;
    }
}
