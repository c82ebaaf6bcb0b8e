// `gossamer run`, `gossamer resume`, `gossamer chat`: an agent spec (or a stored session)
// through the agent loop on a real event loop, with the terminal view or JSON lines, Ctrl-C
// as a clean stop, and the outputs the spec asks for. Exit codes: 0 final answer, 3 stopped
// by a budget or the context window, 4 cancelled, 1 a model or internal failure, 2 bad input.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "engine/backend_factory.h"
#include "runtime/agent_setup.h"
#include "runtime/cli/cli_args.h"
#include "runtime/engine_client.h"
#include "runtime/replay_model.h"
#include "runtime/session_store.h"
#include "runtime/terminal_view.h"
#include "tools/mcp/mcp_tool.h"

namespace gossamer::cli {
namespace fs = std::filesystem;
namespace rt = gossamer::runtime;

namespace {

constexpr const char* kReplayPrefix = "replay:";

struct DriveOptions {
    bool json = false;
    std::optional<std::string> model;  // checkpoint dir, or "replay:FILE"
    int replay_delay_ms = 0;
};

int exit_code(rt::StopReason reason) {
    switch (reason) {
        case rt::StopReason::Final:
            return 0;
        case rt::StopReason::Cancelled:
            return 4;
        case rt::StopReason::Error:
            return 1;
        default:
            return 3;
    }
}

rt::AgentSpec spec_of(const rt::SessionRecord& record) {
    try {
        return rt::parse_agent_spec(record.spec_yaml, record.spec_path,
                                    fs::path(record.spec_path).parent_path());
    } catch (const rt::SpecError& e) {
        throw InputError(std::string("the stored spec no longer parses: ") + e.what());
    }
}

void write_outputs(const rt::AgentSpec& spec, const rt::SessionRecord& record,
                   const rt::Outcome& o) {
    if (spec.outputs.final_answer && o.reason == rt::StopReason::Final) {
        std::ofstream(rt::resolve(spec, *spec.outputs.final_answer), std::ios::binary)
            << o.final_answer;
    }
    if (spec.outputs.report) {
        nlohmann::ordered_json report{{"session", record.id},
                                      {"name", spec.name},
                                      {"reason", rt::to_string(o.reason)},
                                      {"final", o.final_answer},
                                      {"annotations", o.annotations},
                                      {"error", o.error},
                                      {"turns", o.turns},
                                      {"output_tokens", o.output_tokens}};
        std::ofstream(rt::resolve(spec, *spec.outputs.report), std::ios::binary)
            << report.dump(2) << "\n";
    }
}

// The spec's tools; a tool that cannot start is bad input naming its entry.
std::unique_ptr<rt::ToolRegistry> tools_for(const rt::AgentSpec& spec) {
    auto tools = std::make_unique<rt::ToolRegistry>();
    try {
        rt::add_spec_tools(spec, *tools);
    } catch (const std::exception& e) {
        throw InputError(e.what());
    }
    return tools;
}

// Tool servers' stderr goes to <store folder>/logs/<session>.log.
void attach_session_log(rt::ToolRegistry& tools, const fs::path& file) {
    fs::create_directories(file.parent_path());
    auto log = std::make_shared<std::ofstream>(file, std::ios::app);
    auto mutex = std::make_shared<std::mutex>();
    tools.for_each([&](tools::Tool& tool) {
        if (auto* mcp = dynamic_cast<tools::McpTool*>(&tool))
            mcp->client().set_log_sink([log, mutex](const std::string& line) {
                std::lock_guard lock(*mutex);
                *log << line << '\n' << std::flush;
            });
    });
}

// Runs the stored session `record` to its end with `tools`.
int drive(rt::SessionStore& store, const rt::SessionRecord& record, const rt::AgentSpec& spec,
          rt::ToolRegistry& tools, const DriveOptions& options) {
    boost::asio::io_context io;
    attach_session_log(tools, store.path().parent_path() / "logs" / (record.id + ".log"));
    const std::string model_ref = options.model.value_or(record.model);
    std::optional<engine::Weights> weights;
    std::unique_ptr<engine::Backend> backend;
    std::unique_ptr<rt::ModelClient> model;
    const int wanted_window = spec.limits.context_tokens > 0 ? spec.limits.context_tokens : 131072;
    if (model_ref.rfind(kReplayPrefix, 0) == 0) {
        try {
            model = std::make_unique<rt::ReplayModel>(
                io, rt::ReplayModel::from_file(model_ref.substr(7)), wanted_window,
                std::chrono::milliseconds(options.replay_delay_ms));
        } catch (const rt::SpecError& e) {
            throw InputError(e.what());
        }
    } else {
        weights = load_checkpoint(model_ref);
        engine::BackendChoice choice;
        choice.kind = spec.model.backend;
        choice.threads = spec.model.threads;
        backend = open_backend(*weights, choice);
        engine::SchedulerOptions scheduler;
        scheduler.max_context = wanted_window;
        model = std::make_unique<rt::EngineClient>(*backend, io.get_executor(), scheduler);
    }

    const fs::path workspace = store.path().parent_path() / "workspaces" / record.id;
    fs::create_directories(workspace);
    rt::EventFanout fanout;
    rt::TerminalView terminal(stdout, ::isatty(STDOUT_FILENO) == 1);
    rt::JsonLinesView json(stdout);
    if (options.json)
        fanout.add(json);
    else
        fanout.add(terminal);

    auto loop = std::make_shared<rt::AgentLoop>(
        io, *model, tools, store, fanout,
        rt::settings_for(spec, record.id, workspace, model->context_window()));
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait(
        [weak = std::weak_ptr<rt::AgentLoop>(loop)](const boost::system::error_code& ec, int) {
            if (auto l = weak.lock(); l && !ec) l->cancel();
        });
    rt::Outcome outcome;
    loop->run([&](const rt::Outcome& o) {
        outcome = o;
        signals.cancel();
        io.stop();
    });
    io.run();
    tools.cancel_all();  // nothing may complete onto this io_context once it is gone
    loop.reset();
    write_outputs(spec, record, outcome);
    return exit_code(outcome.reason);
}

fs::path store_path(const Parsed& p) {
    if (auto s = p.get("--store")) return *s;
    return rt::SessionStore::default_path();
}

std::string model_ref_from(const Parsed& p, const rt::AgentSpec& spec) {
    if (auto r = p.get("--replay")) return kReplayPrefix + fs::absolute(*r).string();
    if (auto m = p.get("--model")) return fs::absolute(*m).string();
    if (!spec.model.path.empty()) return rt::resolve(spec, spec.model.path).string();
    auto nano = bundled_model();
    if (nano.empty())
        throw InputError(
            "no model: set model.path in the spec, or pass --model DIR (or --replay FILE); the "
            "bundled gpt-oss-nano is not next to this binary (the build unpacks it into "
            "<build dir>/models/gpt-oss-nano)");
    std::fprintf(stderr,
                 "gossamer: no model configured, using the bundled gpt-oss-nano (a tiny demo "
                 "model that does arithmetic with python and looks up facts; docs/NANO.md)\n");
    return nano.string();
}

int delay_of(const Parsed& p) {
    auto d = p.get("--replay-delay-ms");
    return d ? static_cast<int>(parse_uint(*d, "--replay-delay-ms", 0, 60000)) : 0;
}

rt::AgentSpec load_spec(const std::string& path) {
    try {
        return rt::load_agent_spec(path);
    } catch (const rt::SpecError& e) {
        throw InputError(e.what());
    }
}

// A new session's record for the spec at the command's first positional.
rt::SessionRecord record_for(const Parsed& p, const rt::AgentSpec& spec) {
    rt::SessionRecord record;
    record.name = spec.name;
    record.spec_yaml = spec.source;
    record.spec_path = fs::absolute(p.positionals[0]).string();
    record.model = model_ref_from(p, spec);
    return record;
}

// Creates the session with its opening messages, in one transaction.
void open_session(rt::SessionStore& store, rt::SessionRecord& record, const rt::AgentSpec& spec,
                  const rt::ToolRegistry& tools) {
    store.transaction([&] {
        store.create(record);
        for (const auto& m : rt::opening_messages(spec, tools, rt::today_utc()))
            store.append_message(record.id, m, 0);
    });
}

}  // namespace

// gossamer run SPEC [--task TEXT] [--model DIR | --replay FILE] [--store DB]
//   [--backend cpu|cuda|auto] [--json]
int cmd_run(Args args) {
    const Parsed p = parse_args(
        args, {"--task", "--model", "--replay", "--replay-delay-ms", "--store", "--backend"},
        {"--json"}, 1);
    if (p.positionals.empty()) throw InputError("missing the agent spec (gossamer run SPEC.yaml)");
    rt::AgentSpec spec = load_spec(p.positionals[0]);
    if (auto task = p.get("--task")) spec.task = *task;
    if (auto backend = p.get("--backend")) spec.model.backend = *backend;
    if (spec.task.empty())
        throw InputError("no task: set task or task_file in the spec, or pass --task TEXT");

    rt::SessionStore store(store_path(p));
    rt::SessionRecord record = record_for(p, spec);
    auto tools = tools_for(spec);
    open_session(store, record, spec, *tools);
    DriveOptions options{p.has("--json"), record.model, delay_of(p)};
    return drive(store, record, spec, *tools, options);
}

// gossamer resume ID [--model DIR | --replay FILE] [--store DB] [--json]
int cmd_resume(Args args) {
    const Parsed p =
        parse_args(args, {"--model", "--replay", "--replay-delay-ms", "--store"}, {"--json"}, 1);
    if (p.positionals.empty()) throw InputError("missing the session id (gossamer sessions list)");
    rt::SessionStore store(store_path(p));
    const auto record = store.find(p.positionals[0]);
    if (!record)
        throw InputError("no session '" + p.positionals[0] + "' in " + store.path().string());
    if (record->status == "finished")
        throw InputError("session " + record->id + " already finished with a final answer");
    const rt::AgentSpec spec = spec_of(*record);
    DriveOptions options{p.has("--json"), std::nullopt, delay_of(p)};
    if (p.get("--replay") || p.get("--model")) options.model = model_ref_from(p, spec);
    auto tools = tools_for(spec);
    store.set_status(record->id, "running", "");
    return drive(store, *record, spec, *tools, options);
}

// gossamer chat SPEC [--model DIR | --replay FILE] [--store DB]: one user turn per line.
int cmd_chat(Args args) {
    const Parsed p = parse_args(args, {"--model", "--replay", "--store"}, {"--json"}, 1);
    if (p.positionals.empty()) throw InputError("missing the agent spec (gossamer chat SPEC.yaml)");
    rt::AgentSpec spec = load_spec(p.positionals[0]);
    rt::SessionStore store(store_path(p));
    rt::SessionRecord record = record_for(p, spec);
    auto tools = tools_for(spec);
    bool opened = false;
    int code = 0;
    const bool tty = ::isatty(STDIN_FILENO) == 1;
    for (std::string line; (tty && std::fputs("> ", stderr) >= 0, std::getline(std::cin, line));) {
        if (line.empty()) continue;
        if (!opened) {
            spec.task = line;
            open_session(store, record, spec, *tools);
            opened = true;
        } else {
            store.append_message(record.id, harmony::Message::text(harmony::Role::user, line), 0);
        }
        code = drive(store, record, spec, *tools, DriveOptions{p.has("--json"), record.model, 0});
        if (code == 4) break;
    }
    return code;
}

}  // namespace gossamer::cli
