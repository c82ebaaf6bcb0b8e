// `gossamer run`, `gossamer resume`, `gossamer chat`: an agent spec (or a stored session)
// through the session runner (runtime/session_runner.h) on a real event loop, with the
// terminal view or JSON lines and Ctrl-C / SIGTERM as a recorded interruption. Everything that
// can be checked (store, outputs, tools, model) is checked before a session is created.
// Exit codes (docs/CLI.md): 0 final answer, 2 bad input, 3 a budget ended the run,
// 4 interrupted or cancelled, 1 a model failure or a bug.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/cli_args.h"
#include "cli/run_common.h"
#include "runtime/model_factory.h"
#include "runtime/session_runner.h"
#include "runtime/setup_error.h"
#include "runtime/terminal_view.h"

namespace gossamer::cli {
namespace fs = std::filesystem;
namespace rt = gossamer::runtime;

namespace {

rt::AgentSpec spec_of(const rt::SessionRecord& record) {
    try {
        return rt::parse_agent_spec(record.spec_yaml, record.spec_path,
                                    fs::path(record.spec_path).parent_path());
    } catch (const rt::SpecError& e) {
        throw InputError(std::string("the stored spec no longer parses: ") + e.what());
    }
}

// --quiet, --verbose and --json choose one view.
void check_view_flags(const Parsed& p) {
    if (p.has("--quiet") && p.has("--verbose"))
        throw InputError("--quiet and --verbose exclude each other");
    if (p.has("--json") && (p.has("--quiet") || p.has("--verbose")))
        throw InputError("--json prints every event; --quiet and --verbose are for the text view");
}

// Runs the stored session `record` to its end; returns the exit code.
int drive(boost::asio::io_context& io, rt::SessionStore& store, const rt::SessionRecord& record,
          const rt::AgentSpec& spec, std::shared_ptr<rt::ToolRegistry> tools,
          rt::ModelClient& model, const Parsed& p) {
    const bool tty = ::isatty(STDOUT_FILENO) == 1;
    rt::EventFanout fanout;
    rt::TerminalView terminal(stdout, tty,
                              p.has("--quiet")     ? rt::Verbosity::quiet
                              : p.has("--verbose") ? rt::Verbosity::verbose
                                                   : rt::Verbosity::normal);
    rt::JsonLinesView json(stdout);
    if (p.has("--json"))
        fanout.add(json);
    else
        fanout.add(terminal);
    // The status line's clock moves between events.
    boost::asio::steady_timer ticker(io);
    std::function<void()> tick = [&] {
        ticker.expires_after(std::chrono::milliseconds(250));
        ticker.async_wait([&](const boost::system::error_code& ec) {
            if (ec) return;
            terminal.tick();
            tick();
        });
    };
    if (tty && !p.has("--json")) tick();
    auto runner = std::make_shared<rt::SessionRunner>(io, model, store, fanout, spec, record,
                                                      std::move(tools), runner_options(p));
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec) runner->stop(rt::StopReason::Interrupted);
    });
    rt::RunResult result;
    runner->start([&](const rt::RunResult& r) {  // SetupError: busy, nothing touched
        result = r;
        signals.cancel();
        ticker.cancel();
        io.stop();
    });
    io.run();
    io.restart();
    runner.reset();
    for (const auto& e : result.output_errors) std::fprintf(stderr, "gossamer: %s\n", e.c_str());
    if (!result.output_errors.empty() && result.outcome.reason == rt::StopReason::Final) return 1;
    return exit_code(result.outcome.reason);
}

// Marks a session that could not run as failed, then rethrows; a SetupError (its lease is
// held elsewhere) leaves it as it is.
template <typename F>
int guarded(rt::SessionStore& store, const std::string& id, F body) {
    try {
        return body();
    } catch (const rt::SetupError&) {
        throw;
    } catch (const std::exception& e) {
        try {
            store.fail_if_open(id, e.what());
        } catch (const std::exception&) {
        }
        throw;
    }
}

}  // namespace

int cmd_run(Args args) {
    const Parsed p = parse_args(args, run_options(), {"--json", "--quiet", "--verbose"}, 1);
    check_view_flags(p);
    if (p.positionals.empty()) throw InputError("missing the agent spec (gossamer run SPEC.yaml)");
    rt::AgentSpec spec = load_spec(p.positionals[0]);
    apply_overrides(p, spec);
    if (spec.task.empty())
        throw InputError("no task: set task or task_file in the spec, or pass --task TEXT");
    // Everything that can fail is checked before anything is created.
    const fs::path store_path = checked_store_path(p, false);
    rt::check_outputs(spec);
    rt::check_workspace_seed(spec);
    rt::SessionRecord record = record_for(p, spec);
    boost::asio::io_context io;
    auto tools = rt::start_tools(spec, rt::store_folder(store_path));
    auto model = rt::open_model(record.model, io, model_options(p, spec));
    rt::SessionStore store = open_store(p, false);
    rt::create_session(store, record, spec, *tools);
    return guarded(store, record.id, [&] {
        return drive(io, store, record, spec, std::move(tools), *model->client, p);
    });
}

int cmd_resume(Args args) {
    const Parsed p = parse_args(args, resume_options(), {"--json", "--quiet", "--verbose"}, 1);
    check_view_flags(p);
    if (p.positionals.empty()) throw InputError("missing the session id (gossamer sessions list)");
    rt::SessionStore store = open_store(p, true);
    const auto record = store.find(p.positionals[0]);
    if (!record)
        throw InputError("no session '" + p.positionals[0] + "' in " + store.path().string());
    if (record->status == "finished")
        throw InputError("session " + record->id + " already finished with a final answer");
    if (auto lease = store.lease(record->id);
        lease && lease->live(runner_options(p).lease_timeout_seconds))
        throw InputError(rt::running_elsewhere(record->id, *lease));
    const rt::AgentSpec spec = spec_of(*record);
    rt::check_outputs(spec);
    std::string model_ref = record->model;
    if (p.get("--replay") || p.get("--model") || p.get("--endpoint"))
        model_ref = model_ref_from(p, spec);
    boost::asio::io_context io;
    auto tools = rt::start_tools(spec, rt::store_folder(store.path()));
    auto model = rt::open_model(model_ref, io, model_options(p, spec));
    return guarded(store, record->id, [&] {
        return drive(io, store, *record, spec, std::move(tools), *model->client, p);
    });
}

int cmd_chat(Args args) {
    const Parsed p = parse_args(args, chat_options(), {"--json", "--quiet", "--verbose"}, 1);
    check_view_flags(p);
    if (p.positionals.empty()) throw InputError("missing the agent spec (gossamer chat SPEC.yaml)");
    rt::AgentSpec spec = load_spec(p.positionals[0]);
    apply_overrides(p, spec);
    const fs::path store_path = checked_store_path(p, false);
    rt::check_outputs(spec);
    rt::check_workspace_seed(spec);
    rt::SessionRecord record = record_for(p, spec);
    boost::asio::io_context io;
    std::shared_ptr<rt::ToolRegistry> tools = rt::start_tools(spec, rt::store_folder(store_path));
    auto model = rt::open_model(record.model, io, model_options(p, spec));
    rt::SessionStore store = open_store(p, false);
    bool opened = false;
    int code = 0;
    const bool tty = ::isatty(STDIN_FILENO) == 1;
    for (std::string line; (tty && std::fputs("> ", stderr) >= 0, std::getline(std::cin, line));) {
        if (line.empty()) continue;
        if (!opened) {
            spec.task = line;
            rt::create_session(store, record, spec, *tools);
            opened = true;
        } else {
            store.append_message(record.id, harmony::Message::text(harmony::Role::user, line), 0);
            record.status = store.find(record.id)->status;  // the turn runs on from this state
        }
        code = guarded(store, record.id,
                       [&] { return drive(io, store, record, spec, tools, *model->client, p); });
        if (code == 4) break;
    }
    return code;
}

}  // namespace gossamer::cli
