#include "cli/run_common.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace gossamer::cli {
namespace fs = std::filesystem;
namespace rt = gossamer::runtime;

const std::vector<std::string_view>& run_options() {
    static const std::vector<std::string_view> names =
        with_engine_options({"--task", "--model", "--replay", "--replay-delay-ms", "--store",
                             "--lease-timeout", "--endpoint", "--engine-api", "--output-schema",
                             "--sandbox", "--kv-disk-budget", "--draft-tokens"});
    return names;
}

const std::vector<std::string_view>& resume_options() {
    static const std::vector<std::string_view> names = with_engine_options(
        {"--model", "--replay", "--replay-delay-ms", "--store", "--lease-timeout", "--endpoint",
         "--engine-api", "--kv-disk-budget", "--draft-tokens"});
    return names;
}

const std::vector<std::string_view>& chat_options() {
    static const std::vector<std::string_view> names =
        with_engine_options({"--model", "--replay", "--store", "--lease-timeout", "--endpoint",
                             "--engine-api", "--sandbox", "--kv-disk-budget", "--draft-tokens"});
    return names;
}

fs::path checked_store_path(const Parsed& p, bool must_exist) {
    const auto given = p.get("--store");
    const fs::path path = given ? fs::path(*given) : rt::SessionStore::default_path();
    rt::SessionStore::check_path(path, {must_exist, !given});
    return path;
}

rt::SessionStore open_store(const Parsed& p, bool must_exist) {
    if (auto s = p.get("--store")) return rt::SessionStore(*s, {must_exist, false});
    return rt::SessionStore(rt::SessionStore::default_path(), {must_exist, true});
}

rt::SessionRecord need_session(const rt::SessionStore& store, const Parsed& p) {
    if (p.positionals.empty()) throw InputError("missing the session id");
    auto r = store.find(p.positionals[0]);
    if (!r) throw InputError("no session '" + p.positionals[0] + "' in " + store.path().string());
    return *r;
}

rt::AgentSpec load_spec(const std::string& path) {
    try {
        return rt::load_agent_spec(path);
    } catch (const rt::SpecError& e) {
        throw InputError(e.what());
    }
}

void apply_overrides(const Parsed& p, rt::AgentSpec& spec) {
    if (auto task = p.get("--task")) spec.task = *task;
    if (auto schema = p.get("--output-schema")) {
        const std::string path = fs::absolute(*schema).string();
        try {
            spec.outputs.schema_json = rt::load_output_schema(path);
        } catch (const rt::SpecError& e) {
            throw InputError(std::string("--output-schema: ") + e.what());
        }
        spec.outputs.schema = path;
        spec.source = rt::spec_with_output_schema(spec.source, path);
    }
    if (auto name = p.get("--sandbox")) {
        const auto mode = sandbox::mode_from_name(*name);
        if (!mode)
            throw InputError("--sandbox '" + *name + "': expected auto, userns, root or container");
        rt::set_sandbox_mode(spec, *mode);
        spec.source = rt::spec_with_sandbox_mode(spec.source, *mode);
    }
    // Never silent: what container mode leaves open is said before anything runs.
    if (spec.sandbox.mode == sandbox::Mode::container)
        std::fprintf(stderr, "gossamer: note: sandbox mode container (%s): %s\n",
                     p.get("--sandbox") ? "--sandbox" : "the spec's sandbox.mode",
                     std::string(sandbox::mode_caveats(sandbox::Mode::container)).c_str());
    if (auto backend = p.get("--backend")) {
        if (*backend != "cpu" && *backend != "cuda" && *backend != "auto")
            throw InputError("backend '" + *backend + "': must be cpu, cuda or auto");
        spec.model.backend = *backend;
    }
    if (auto threads = p.get("--threads"))
        spec.model.threads = static_cast<int>(parse_uint(*threads, "--threads", 1, 1024));
}

namespace {

// model_ref_from's precedence: --replay, --model, then endpoints (command line or spec).
bool runs_remote(const Parsed& p, const rt::AgentSpec& spec) {
    return !p.get("--replay") && !p.get("--model") &&
           (!p.all("--endpoint").empty() || !spec.model.remote.endpoints.empty());
}

}  // namespace

std::string model_ref_from(const Parsed& p, const rt::AgentSpec& spec) {
    if (auto r = p.get("--replay")) return rt::kReplayPrefix + fs::absolute(*r).string();
    if (auto m = p.get("--model")) return fs::absolute(*m).string();
    if (auto e = p.all("--endpoint"); !e.empty()) {
        for (const auto& url : e)
            if (auto problem = rt::endpoint_url_problem(url); !problem.empty())
                throw InputError("--endpoint " +
                                 (url.find('@') == std::string::npos ? "'" + url + "'"
                                                                     : std::string("(not shown)")) +
                                 ": " + problem);
        return rt::remote_reference(e);
    }
    if (!spec.model.remote.endpoints.empty())
        return rt::remote_reference(spec.model.remote.endpoints);
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

rt::SessionRecord record_for(const Parsed& p, const rt::AgentSpec& spec) {
    rt::SessionRecord record;
    record.name = spec.name;
    record.spec_yaml = spec.source;
    record.spec_path = fs::absolute(p.positionals.at(0)).string();
    record.model = model_ref_from(p, spec);
    return record;
}

rt::ModelOptions model_options(const Parsed& p, const rt::AgentSpec& spec) {
    rt::ModelOptions o;
    o.backend = spec.model.backend;
    if (auto backend = p.get("--backend")) o.backend = *backend;
    o.threads = spec.model.threads;
    if (auto threads = p.get("--threads"))
        o.threads = static_cast<int>(parse_uint(*threads, "--threads", 1, 1024));
    o.context_tokens = spec.limits.context_tokens;
    if (auto b = p.get("--kv-disk-budget")) o.kv_disk_budget = parse_bytes(*b, "--kv-disk-budget");
    if (auto d = p.get("--draft-tokens"))
        o.draft_tokens = static_cast<int>(parse_uint(*d, "--draft-tokens", 0, 64));
    o.kv_precision = kv_precision_from(p);
    o.expert_activations = expert_activations_from(p);
    o.dense_activations = dense_activations_from(p);
    o.weights = weights_residency_from(p);
    if (auto d = p.get("--replay-delay-ms"))
        o.replay_delay_ms = static_cast<int>(parse_uint(*d, "--replay-delay-ms", 0, 60000));
    o.progress = ::isatty(STDERR_FILENO) == 1;
    o.remote = spec.model.remote;
    if (auto api = p.get("--engine-api")) {
        auto parsed = rt::parse_engine_api(*api);
        if (!parsed)
            throw InputError("--engine-api '" + *api + "': must be gossamer, vllm or sglang");
        o.remote.api = *parsed;
    }
    // The key: the variable the spec names, else GOSSAMER_ENDPOINT_KEY (never the value itself
    // in a spec or on a command line, where logs and `ps` would see it).
    const std::string var =
        spec.model.api_key_env.empty() ? "GOSSAMER_ENDPOINT_KEY" : spec.model.api_key_env;
    if (const char* key = std::getenv(var.c_str()); key && *key) {
        o.remote.api_key = key;
    } else if (!spec.model.api_key_env.empty() && runs_remote(p, spec)) {
        throw InputError("model.api_key_env names " + var + ", which is not set");
    }
    return o;
}

rt::RunnerOptions runner_options(const Parsed& p) {
    rt::RunnerOptions o;
    if (auto t = p.get("--lease-timeout"))
        o.lease_timeout_seconds = parse_number(*t, "--lease-timeout", 1, 86400);
    o.heartbeat_seconds = std::min(2.0, o.lease_timeout_seconds / 3);
    return o;
}

int exit_code(rt::StopReason reason) {
    switch (reason) {
        case rt::StopReason::Final:
            return 0;
        case rt::StopReason::Cancelled:
        case rt::StopReason::Interrupted:
            return 4;
        case rt::StopReason::Error:
            return 1;
        default:
            return 3;
    }
}

}  // namespace gossamer::cli
