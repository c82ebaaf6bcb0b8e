#include "runtime/session_runner.h"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>

#include "runtime/agent_setup.h"
#include "runtime/atomic_file.h"
#include "runtime/model_factory.h"
#include "runtime/setup_error.h"
#include "sandbox/policy.h"
#include "tools/mcp/mcp_tool.h"

namespace gossamer::runtime {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// gen_ai.request.model: the checkpoint's folder name, "replay", or the endpoint list.
std::string model_label(const std::string& reference) {
    if (reference.starts_with(kReplayPrefix)) return "replay";
    if (reference.find("://") != std::string::npos) return reference;
    const auto name = fs::path(reference).filename().string();
    return name.empty() ? reference : name;
}

std::string os_reason(int err) {
    return std::strerror(err);
}

void check_output(const AgentSpec& spec, const char* field, const std::optional<std::string>& p) {
    if (!p) return;
    const fs::path path = resolve(spec, *p);
    auto refuse = [&](const std::string& why) {
        throw SetupError(spec.name + ": outputs." + field + ": " + path.string() + ": " + why);
    };
    std::error_code ec;
    if (fs::is_directory(path, ec)) refuse("is a folder (give a file name)");
    const fs::path folder = path.parent_path();
    if (!fs::is_directory(folder, ec))
        refuse("its folder " + folder.string() + " does not exist (create it first)");
    if (::access(folder.c_str(), W_OK | X_OK) != 0)
        refuse("its folder " + folder.string() + " is not writable (" + os_reason(errno) + ")");
    if (fs::exists(path, ec) && ::access(path.c_str(), W_OK) != 0)
        refuse("cannot be overwritten (" + os_reason(errno) + ")");
}

// Tool servers' stderr goes to <store folder>/logs/<session>.log.
void attach_session_log(ToolRegistry& tools, const fs::path& file) {
    bool any = false;
    tools.for_each([&](tools::Tool& tool) { any = any || dynamic_cast<tools::McpTool*>(&tool); });
    if (!any) return;
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
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

}  // namespace

fs::path workspace_of(const SessionStore& store, const std::string& session_id) {
    return store_folder(store.path()) / "workspaces" / session_id;
}

fs::path kv_file_of(const SessionStore& store, const std::string& session_id) {
    return store_folder(store.path()) / "kv" / (session_id + ".gkv");
}

std::string running_elsewhere(const std::string& session_id, const Lease& lease) {
    return "session " + session_id + " is running in pid " + std::to_string(lease.pid) + " on " +
           lease.host + " since " + lease.since;
}

void check_workspace_seed(const AgentSpec& spec) {
    if (!spec.workspace.from) return;
    const fs::path from = resolve(spec, *spec.workspace.from);
    std::error_code ec;
    if (!fs::is_directory(from, ec))
        throw SetupError("workspace.from: " + from.string() + " is not a folder");
}

namespace {

// A new session's workspace made from `from`: copied into a temp folder beside it, then
// renamed into place (a crash leaves no half-seeded workspace). Symlinks are copied as
// symlinks. As root, everything is given to the sandbox's uid, which must be able to change
// it (the sandbox runs as nobody when the caller is root).
void seed_workspace(const fs::path& from, const fs::path& workspace) {
    std::error_code ec;
    if (!fs::is_directory(from, ec))
        throw SetupError("workspace.from: " + from.string() + " is not a folder");
    fs::create_directories(workspace.parent_path(), ec);
    const fs::path tmp = workspace.parent_path() / (".seed-" + workspace.filename().string());
    fs::remove_all(tmp, ec);
    fs::copy(from, tmp, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) {
        fs::remove_all(tmp);
        throw SetupError("workspace.from: cannot copy " + from.string() + " (" + ec.message() +
                         ")");
    }
    if (::geteuid() == 0) {
        const auto uid = sandbox::default_policy().root_host_uid;
        ::lchown(tmp.c_str(), uid, uid);
        for (auto it = fs::recursive_directory_iterator(tmp, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
            ::lchown(it->path().c_str(), uid, uid);
    }
    fs::rename(tmp, workspace, ec);
    if (ec)
        throw SetupError("cannot create the workspace " + workspace.string() + " (" + ec.message() +
                         ")");
}

}  // namespace

void check_outputs(const AgentSpec& spec) {
    check_output(spec, "final_answer", spec.outputs.final_answer);
    check_output(spec, "report", spec.outputs.report);
}

fs::path store_folder(const fs::path& store_path) {
    return fs::absolute(store_path).parent_path();
}

std::unique_ptr<ToolRegistry> start_tools(const AgentSpec& spec, const fs::path& folder,
                                          bool preflight) {
    auto tools = std::make_unique<ToolRegistry>();
    try {
        add_spec_tools(spec, *tools);
    } catch (const SpecError& e) {
        throw SetupError(e.what());
    }
    if (!preflight) return tools;
    thread_local std::mt19937_64 random{std::random_device{}()};
    const fs::path workspaces = folder / "workspaces";
    const fs::path scratch = workspaces / (".preflight-" + std::to_string(::getpid()) + "-" +
                                           std::to_string(random() & 0xffffff));
    std::error_code ec;
    const bool made = !fs::exists(workspaces, ec);
    fs::path top = workspaces;  // the outermost folder this makes (removed again)
    while (!fs::exists(top.parent_path(), ec) && top.has_parent_path() && top.parent_path() != top)
        top = top.parent_path();
    fs::create_directories(scratch, ec);
    if (ec)
        throw SetupError("cannot create the workspace folder " + scratch.parent_path().string() +
                         " (" + ec.message() + ")");
    std::optional<std::string> problem;
    tools->for_each([&](tools::Tool& tool) {
        if (!problem) problem = tool.preflight(scratch);
    });
    fs::remove_all(made ? top : scratch, ec);
    if (problem) throw SetupError(spec.name + ": tools: " + *problem);
    return tools;
}

void create_session(SessionStore& store, SessionRecord& record, const AgentSpec& spec,
                    const ToolRegistry& tools,
                    const std::function<void(const std::string&)>& also) {
    record.status = "created";
    store.transaction([&] {
        store.create(record);
        for (const auto& m : opening_messages(spec, tools, today_utc()))
            store.append_message(record.id, m, 0);
        if (also) also(record.id);
    });
}

std::vector<std::string> write_outputs(const AgentSpec& spec, const SessionRecord& record,
                                       const Outcome& o, double wall_seconds) {
    std::vector<std::string> errors;
    if (spec.outputs.final_answer && o.reason == StopReason::Final) {
        const fs::path path = resolve(spec, *spec.outputs.final_answer);
        if (auto e = write_file_atomically(path, o.final_answer))
            errors.push_back("outputs.final_answer: " + *e);
    }
    if (spec.outputs.report) {
        Json report{{"session", record.id},
                    {"name", spec.name},
                    {"state", state_of(o.reason)},
                    {"reason", to_string(o.reason)},
                    {"final", o.final_answer},
                    {"annotations", o.annotations},
                    {"error", o.error},
                    {"turns", o.turns},
                    {"output_tokens", o.output_tokens},
                    {"wall_seconds", wall_seconds}};
        // With an output schema, the final answer parsed (it was validated against it).
        if (spec.outputs.schema_json) {
            Json output;
            if (o.reason == StopReason::Final) output = Json::parse(o.final_answer, nullptr, false);
            report["output"] = output.is_discarded() ? Json() : output;
        }
        const fs::path path = resolve(spec, *spec.outputs.report);
        if (auto e = write_file_atomically(path, report.dump(2) + "\n"))
            errors.push_back("outputs.report: " + *e);
    }
    return errors;
}

SessionRunner::SessionRunner(boost::asio::io_context& io, ModelClient& model, SessionStore& store,
                             EventSink& events, AgentSpec spec, SessionRecord record,
                             std::shared_ptr<ToolRegistry> tools, RunnerOptions options)
    : io_(io),
      model_(model),
      store_(store),
      events_(events),
      spec_(std::move(spec)),
      record_(std::move(record)),
      tools_(std::move(tools)),
      options_(options),
      heartbeat_(io) {}

SessionRunner::~SessionRunner() {
    if (tools_) tools_->cancel_all();  // nothing may complete onto a loop that is gone
    loop_.reset();
    tracer_.reset();  // its last spans go to the exporter, which outlives it
}

void SessionRunner::start(std::function<void(const RunResult&)> done) {
    done_ = std::move(done);
    const auto otlp = otlp_options(spec_.telemetry);  // a bad endpoint: before the lease
    if (auto busy = store_.take_lease(record_.id, record_.status, options_.lease_timeout_seconds)) {
        if (!busy->holder)
            throw SetupError("session " + record_.id +
                             " was run by another process meanwhile: it is " + busy->status +
                             " now, not " + record_.status + " (gossamer sessions show " +
                             record_.id + ")");
        throw SetupError(running_elsewhere(record_.id, *busy->holder) +
                         " (its lease is live; it is stale after " +
                         std::to_string(static_cast<int>(options_.lease_timeout_seconds)) +
                         " s without a heartbeat)");
    }
    started_ = std::chrono::steady_clock::now();
    const fs::path workspace = workspace_of(store_, record_.id);
    std::error_code ec;
    if (spec_.workspace.from && !fs::exists(workspace, ec)) {
        try {
            seed_workspace(resolve(spec_, *spec_.workspace.from), workspace);
        } catch (...) {
            store_.drop_lease(record_.id);
            throw;
        }
    }
    fs::create_directories(workspace, ec);
    attach_session_log(*tools_, store_folder(store_.path()) / "logs" / (record_.id + ".log"));
    auto settings = settings_for(spec_, record_.id, workspace, model_.context_window());
    settings.kv_file = kv_file_of(store_, record_.id);
    EventSink* events = &events_;
    if (otlp) {
        exporter_ = OtlpExporter::shared(*otlp);
        TracerOptions traced{spec_.name, model_label(record_.model), otlp_content(spec_.telemetry),
                             spec_.instructions, spec_.task};
        tracer_ = std::make_unique<GenAiTracer>(
            std::move(traced), [exporter = exporter_](Span s) { exporter->add(std::move(s)); });
        traced_events_.add(events_);
        traced_events_.add(*tracer_);
        events = &traced_events_;
        settings.traceparent = [tracer = tracer_.get()](std::size_t call) {
            return tracer->traceparent(call);
        };
    }
    loop_ = std::make_shared<AgentLoop>(io_, model_, *tools_, store_, *events, std::move(settings));
    beat();
    std::weak_ptr<SessionRunner> weak = weak_from_this();
    loop_->run([weak](const Outcome& o) {
        if (auto self = weak.lock()) self->finished(o);
    });
}

void SessionRunner::beat() {
    heartbeat_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(options_.heartbeat_seconds)));
    std::weak_ptr<SessionRunner> weak = weak_from_this();
    heartbeat_.async_wait([weak](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!self || ec || self->over_) return;
        bool ours = true;
        try {
            ours = self->store_.heartbeat(self->record_.id);
        } catch (const StoreError&) {
            // busy past the timeout: try again at the next beat (the lease has slack)
        }
        if (!ours) {
            self->events_.on_event(
                Event{self->record_.id,
                      Warning{"another process took this session over; stopping here", {}}});
            return self->loop_->cancel(StopReason::Cancelled);
        }
        self->beat();
    });
}

void SessionRunner::stop(StopReason why) {
    if (loop_ && !over_) loop_->cancel(why);
}

void SessionRunner::finished(const Outcome& outcome) {
    over_ = true;
    heartbeat_.cancel();
    tools_->cancel_all();
    RunResult result;
    result.outcome = outcome;
    result.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    if (!outcome.store_failed) {
        try {
            store_.drop_lease(record_.id);
        } catch (const StoreError&) {
            // a stale lease is taken over by the next run
        }
    }
    result.output_errors = write_outputs(spec_, record_, outcome, result.wall_seconds);
    if (done_) boost::asio::post(io_, [done = std::move(done_), result] { done(result); });
}

}  // namespace gossamer::runtime
