// `gossamer fleet SPEC --tasks FILE.jsonl ...`, `gossamer fleet --resume ID`, `fleet list`,
// `fleet show ID`: many tasks of one spec as sessions on one engine in one process
// (runtime/fleet_runner.h). Progress: a live line on a terminal, else JSON lines; a summary
// table at the end; --results FILE.jsonl lists every task of the fleet once, written
// atomically. Exit codes: 0 every task ended with a final answer, 3 some did not (failed,
// budget, cancelled), 4 interrupted, 2 bad input.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/cli_args.h"
#include "cli/run_common.h"
#include "runtime/atomic_file.h"
#include "runtime/fleet_runner.h"
#include "runtime/fleet_tasks.h"
#include "runtime/model_factory.h"
#include "runtime/setup_error.h"

namespace gossamer::cli {
namespace fs = std::filesystem;
namespace rt = gossamer::runtime;
using Json = nlohmann::ordered_json;

namespace {

Json outcome_json(const rt::TaskOutcome& o) {
    return Json{{"id", o.task_id},
                {"session", o.session_id.empty() ? Json() : Json(o.session_id)},
                {"state", o.state},
                {"reason", o.reason},
                {"error", o.error},
                {"turns", o.turns},
                {"output_tokens", o.output_tokens},
                {"wall_seconds", o.wall_seconds},
                {"final_answer", o.final_answer}};
}

// Progress: JSON lines (`fleet.task.started`, `fleet.task.done`, `fleet.progress`) or, on a
// terminal, one live line with done / failed / running, tokens/s and an ETA.
class FleetView final : public rt::FleetObserver, public rt::EventSink {
  public:
    FleetView(std::string fleet_id, int total, int done_before, bool live)
        : fleet_(std::move(fleet_id)),
          total_(total),
          done_(done_before),
          live_(live),
          started_(std::chrono::steady_clock::now()) {}

    void on_task_started(const rt::TaskOutcome& t) override {
        ++running_;
        if (!live_)
            line(Json{{"event", "fleet.task.started"},
                      {"fleet", fleet_},
                      {"id", t.task_id},
                      {"session", t.session_id}});
        draw();
    }
    void on_task_done(const rt::TaskOutcome& t) override {
        if (t.state != "skipped" && running_ > 0) --running_;
        ++done_;
        ++done_now_;
        if (t.state != "finished") ++failed_;
        if (!live_) {
            Json j = outcome_json(t);
            j.erase("final_answer");
            Json e{{"event", "fleet.task.done"}, {"fleet", fleet_}};
            e.update(j);
            line(e);
        }
        draw();
    }
    void on_event(const rt::Event& e) override {
        if (const auto* g = e.as<runtime::GenerationDone>()) tokens_ += g->output_tokens;
    }
    void finish() {
        if (live_) std::fputs("\n", stderr);
    }
    double tokens_per_second() const { return static_cast<double>(tokens_) / elapsed(); }
    double elapsed() const {
        return std::max(
            1e-9,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
    }

  private:
    void line(const Json& j) {
        std::fputs((j.dump() + "\n").c_str(), stdout);
        std::fflush(stdout);
    }
    void draw() {
        if (!live_) return;
        const int width = 30;
        const int filled = total_ > 0 ? done_ * width / total_ : width;
        std::string bar(static_cast<std::size_t>(filled), '#');
        bar.resize(width, '.');
        const double rate = done_now_ / elapsed();
        const double eta = rate > 0 ? (total_ - done_) / rate : 0;
        std::fprintf(stderr,
                     "\r\033[K[%s] %d/%d done, %d failed, %d running, %.1f tok/s, ETA %.0fs",
                     bar.c_str(), done_, total_, failed_, running_, tokens_per_second(), eta);
        std::fflush(stderr);
    }

    std::string fleet_;
    int total_, done_, done_now_ = 0, failed_ = 0, running_ = 0;
    bool live_;
    long long tokens_ = 0;
    std::chrono::steady_clock::time_point started_;
};

void write_results(const fs::path& path, const std::vector<rt::TaskOutcome>& tasks) {
    std::string text;
    for (const auto& t : tasks) text += outcome_json(t).dump() + "\n";
    if (auto error = rt::write_file_atomically(path, text))
        throw rt::SetupError("--results: " + *error);
}

void check_results_path(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw InputError("--results " + path.string() + " is a folder");
    const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
    if (!fs::is_directory(folder, ec) || ::access(folder.c_str(), W_OK | X_OK) != 0)
        throw InputError("--results " + path.string() + ": its folder is missing or not writable");
}

void print_summary(const std::string& fleet_id, const std::vector<rt::TaskOutcome>& tasks,
                   double seconds, double tokens_per_second) {
    std::map<std::string, int> states;
    for (const auto& t : tasks) ++states[t.state];
    std::fprintf(stderr, "\nfleet %s: %zu tasks in %.1f s (%.1f tok/s)\n", fleet_id.c_str(),
                 tasks.size(), seconds, tokens_per_second);
    for (const auto& [state, n] : states) std::fprintf(stderr, "  %-12s %d\n", state.c_str(), n);
    std::fprintf(stderr, "\n%-20s %-24s %-11s %6s %8s %8s  %s\n", "TASK", "SESSION", "STATE",
                 "TURNS", "TOKENS", "WALL_S", "ANSWER / ERROR");
    for (const auto& t : tasks) {
        std::string tail = t.state == "finished" ? t.final_answer : t.error;
        for (char& c : tail)
            if (c == '\n') c = ' ';
        if (tail.size() > 60) tail = tail.substr(0, 57) + "...";
        std::fprintf(stderr, "%-20s %-24s %-11s %6d %8d %8.1f  %s\n", t.task_id.c_str(),
                     t.session_id.c_str(), t.state.c_str(), t.turns, t.output_tokens,
                     t.wall_seconds, tail.c_str());
    }
}

std::string read_text(const std::string& path, const char* what) {
    std::error_code ec;
    if (fs::is_directory(path, ec))
        throw InputError(std::string(what) + " " + path + " is a folder");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(std::string(what) + " " + path + ": cannot read");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::vector<std::string_view>& fleet_options() {
    static const std::vector<std::string_view> names = with_engine_options(
        {"--tasks", "--parallel", "--name", "--results", "--max-failures", "--resume", "--model",
         "--replay", "--replay-delay-ms", "--store", "--lease-timeout", "--endpoint",
         "--engine-api", "--output-schema", "--sandbox", "--kv-disk-budget", "--draft-tokens"});
    return names;
}

}  // namespace

int cmd_fleet(Args args) {
    const Parsed p = parse_args(args, fleet_options(), {"--json"}, 1);
    const bool resuming = p.get("--resume").has_value();
    if (resuming && !p.positionals.empty())
        throw InputError("--resume FLEET_ID takes no spec (the fleet keeps its own)");
    if (!resuming && p.positionals.empty())
        throw InputError("missing the agent spec (gossamer fleet SPEC --tasks FILE.jsonl)");
    if (!resuming && !p.get("--tasks")) throw InputError("missing --tasks FILE.jsonl");
    if (resuming)
        for (const char* o :
             {"--tasks", "--name", "--model", "--replay", "--backend", "--output-schema"})
            if (p.get(o)) throw InputError(std::string(o) + " cannot change a fleet on --resume");
    if (auto r = p.get("--results")) check_results_path(*r);
    const fs::path store_path = checked_store_path(p, resuming);
    std::optional<rt::SessionStore> opened;
    if (resuming) opened.emplace(store_path, rt::StoreOpen{true, false});

    rt::FleetRecord fleet;
    std::optional<rt::AgentSpec> spec;
    std::vector<rt::FleetTask> tasks;
    if (resuming) {
        auto found = rt::FleetStore(*opened).find(*p.get("--resume"));
        if (!found)
            throw InputError("no fleet '" + *p.get("--resume") + "' in " + store_path.string());
        fleet = *found;
        // Endpoints may move (the cluster changed); a local model may not become a remote one.
        if (auto e = p.all("--endpoint"); !e.empty()) {
            if (fleet.model.rfind(rt::kRemotePrefix, 0) != 0)
                throw InputError("--endpoint: fleet " + fleet.id +
                                 " runs on a local model; it cannot move to endpoints on --resume");
            rt::AgentSpec none;
            fleet.model = model_ref_from(p, none);
        }
    } else {
        // The template may hold placeholders where the spec wants numbers: each task's spec is
        // checked strictly once its vars are filled in.
        const std::string spec_path = p.positionals[0];
        const std::string tmpl = read_text(spec_path, "the spec");
        const std::string tasks_path = *p.get("--tasks");
        const auto lines = rt::parse_task_lines(read_text(tasks_path, "--tasks"), tasks_path);
        const fs::path base = fs::absolute(spec_path).parent_path();
        std::optional<std::string> schema;
        if (auto s = p.get("--output-schema")) {
            schema = fs::absolute(*s).string();
            try {
                rt::load_output_schema(*schema);
            } catch (const rt::SpecError& e) {
                throw InputError(std::string("--output-schema: ") + e.what());
            }
        }
        std::optional<sandbox::Mode> mode;
        if (auto name = p.get("--sandbox")) {
            mode = sandbox::mode_from_name(*name);
            if (!mode)
                throw InputError("--sandbox '" + *name +
                                 "': expected auto, userns, root or container");
        }
        for (const auto& line : lines) {
            rt::FleetTask t;
            t.index = static_cast<int>(tasks.size());
            t.task_id = line.id;
            t.spec_yaml = rt::instantiate_spec(tmpl, spec_path, line, lines.size());
            if (schema) t.spec_yaml = rt::spec_with_output_schema(t.spec_yaml, *schema);
            if (mode) t.spec_yaml = rt::spec_with_sandbox_mode(t.spec_yaml, *mode);
            auto task_spec =
                rt::parse_agent_spec(t.spec_yaml, spec_path + " (task " + line.id + ")", base);
            if (task_spec.task.empty())
                throw InputError(tasks_path + ":" + std::to_string(line.line) +
                                 ": no task (give \"task\" in the line or task: in the spec)");
            rt::check_outputs(task_spec);
            rt::check_workspace_seed(task_spec);
            if (!spec) spec = std::move(task_spec);
            tasks.push_back(std::move(t));
        }
        apply_overrides(p, *spec);
        fleet.name = p.get("--name").value_or(spec->name);
        fleet.spec_yaml = tmpl;
        fleet.spec_path = fs::absolute(spec_path).string();
        fleet.model = model_ref_from(p, *spec);
    }
    Json& options = fleet.options;
    if (!resuming) {
        options = Json::object();
        options["backend"] = spec->model.backend;
        options["threads"] = spec->model.threads;
    }
    rt::FleetOptions run;
    run.parallel = static_cast<int>(
        parse_uint(p.get("--parallel").value_or(std::to_string(options.value("parallel", 8))),
                   "--parallel", 1, 4096));
    run.max_failures = static_cast<int>(parse_uint(
        p.get("--max-failures").value_or(std::to_string(options.value("max_failures", 0))),
        "--max-failures", 0, 1000000));
    run.runner = runner_options(p);
    options["parallel"] = run.parallel;
    options["max_failures"] = run.max_failures;

    // Everything that can fail is checked before the fleet exists: tools (once), the model.
    const rt::AgentSpec first = rt::parse_agent_spec(
        resuming ? rt::FleetStore(*opened).tasks(fleet.id).at(0).spec_yaml : tasks[0].spec_yaml,
        fleet.spec_path, fs::path(fleet.spec_path).parent_path());
    rt::start_tools(first, rt::store_folder(store_path));
    boost::asio::io_context io;
    // As for `run`, with the fleet's own backend and threads (given when it was created).
    rt::ModelOptions model = model_options(p, first);
    model.backend = options.value("backend", model.backend);
    model.threads = options.value("threads", model.threads);
    model.max_sequences = std::max(16, run.parallel);
    auto loaded = rt::open_model(fleet.model, io, model);
    if (!opened) opened.emplace(store_path, rt::StoreOpen{false, !p.get("--store")});
    rt::SessionStore& store = *opened;
    if (!resuming) rt::FleetStore(store).create(fleet, tasks);

    const auto before = rt::fleet_outcomes(store, fleet.id);
    int ended_before = 0;
    for (const auto& t : before) ended_before += t.ended() ? 1 : 0;
    const bool live = !p.has("--json") && ::isatty(STDERR_FILENO) == 1;
    std::fprintf(stderr, "gossamer fleet: %s, %zu tasks (%d ended before), parallel %d\n",
                 fleet.id.c_str(), before.size(), ended_before, run.parallel);
    FleetView view(fleet.id, static_cast<int>(before.size()), ended_before, live);
    rt::FleetRunner runner(io, *loaded->client, store, fleet, run, view, view);
    bool interrupted = false;
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        interrupted = true;
        runner.stop(rt::StopReason::Interrupted);
    });
    runner.start([&] {
        signals.cancel();
        io.stop();
    });
    io.run();
    view.finish();
    const auto after = rt::fleet_outcomes(store, fleet.id);
    print_summary(fleet.id, after, view.elapsed(), view.tokens_per_second());
    if (auto r = p.get("--results")) write_results(*r, after);
    if (interrupted) return 4;
    for (const auto& t : after)
        if (t.state != "finished") return 3;
    return 0;
}

int cmd_fleet_list(Args args) {
    const Parsed p = parse_args(args, {"--store"}, {"--json"}, 0);
    rt::SessionStore store = open_store(p, true);
    rt::FleetStore fleets(store);
    Json out = Json::array();
    for (const auto& f : fleets.list()) {
        std::map<std::string, int> states;
        const auto tasks = rt::fleet_outcomes(store, f.id);
        for (const auto& t : tasks) ++states[t.state];
        out.push_back(Json{{"id", f.id},
                           {"name", f.name},
                           {"created_at", f.created_at},
                           {"tasks", tasks.size()},
                           {"states", states}});
    }
    if (p.has("--json")) {
        write_stdout(out.dump() + "\n");
        return 0;
    }
    std::printf("%-30s %-20s %-20s %6s  %s\n", "ID", "NAME", "CREATED", "TASKS", "STATES");
    for (const auto& f : out) {
        std::string states;
        for (const auto& [k, v] : f["states"].items())
            states += (states.empty() ? "" : ", ") + k + " " + std::to_string(v.get<int>());
        std::printf("%-30s %-20s %-20s %6d  %s\n", f["id"].get<std::string>().c_str(),
                    f["name"].get<std::string>().c_str(),
                    f["created_at"].get<std::string>().c_str(), f["tasks"].get<int>(),
                    states.c_str());
    }
    return 0;
}

int cmd_fleet_show(Args args) {
    const Parsed p = parse_args(args, {"--store"}, {"--json"}, 1);
    if (p.positionals.empty()) throw InputError("missing the fleet id (gossamer fleet list)");
    rt::SessionStore store = open_store(p, true);
    const auto fleet = rt::FleetStore(store).find(p.positionals[0]);
    if (!fleet) throw InputError("no fleet '" + p.positionals[0] + "' in " + store.path().string());
    const auto tasks = rt::fleet_outcomes(store, fleet->id);
    if (p.has("--json")) {
        Json list = Json::array();
        for (const auto& t : tasks) list.push_back(outcome_json(t));
        write_stdout(Json{{"id", fleet->id},
                          {"name", fleet->name},
                          {"spec_path", fleet->spec_path},
                          {"model", fleet->model},
                          {"created_at", fleet->created_at},
                          {"options", fleet->options},
                          {"tasks", list}}
                         .dump(2) +
                     "\n");
        return 0;
    }
    std::printf("%s  %s\nspec: %s\nmodel: %s\n", fleet->id.c_str(), fleet->name.c_str(),
                fleet->spec_path.c_str(), fleet->model.c_str());
    std::printf("\n%-20s %-24s %-11s %6s %8s %8s\n", "TASK", "SESSION", "STATE", "TURNS", "TOKENS",
                "WALL_S");
    for (const auto& t : tasks)
        std::printf("%-20s %-24s %-11s %6d %8d %8.1f\n", t.task_id.c_str(), t.session_id.c_str(),
                    t.state.c_str(), t.turns, t.output_tokens, t.wall_seconds);
    return 0;
}

}  // namespace gossamer::cli
