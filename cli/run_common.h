// What the commands that run sessions (`run`, `resume`, `chat`, `fleet`) take from a command
// line the same way: their option lists, the store (a user-given path must already have its
// folder; `must_exist` for commands that only read or continue), the spec with its
// command-line overrides, the model reference and options, the lease settings, and the exit
// code of a stop reason. Parsing only: no session is created here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/cli_args.h"
#include "runtime/agent_loop.h"
#include "runtime/agent_spec.h"
#include "runtime/model_factory.h"
#include "runtime/session_runner.h"
#include "runtime/session_store.h"

namespace gossamer::cli {

// Options with a value, per command (docs/CLI.md lists the same).
const std::vector<std::string_view>& run_options();
const std::vector<std::string_view>& resume_options();
const std::vector<std::string_view>& chat_options();

// --store DB, else the default store (whose folder is created). Throws StorePathError.
runtime::SessionStore open_store(const Parsed& p, bool must_exist);
// The store's path, checked as open_store would but creating nothing.
std::filesystem::path checked_store_path(const Parsed& p, bool must_exist);
runtime::AgentSpec load_spec(const std::string& path);  // SpecError -> InputError
// The stored session the first positional names; InputError when missing or unknown.
runtime::SessionRecord need_session(const runtime::SessionStore& store, const Parsed& p);

// --task, --backend, --threads, --output-schema (also written into spec.source)
void apply_overrides(const Parsed& p, runtime::AgentSpec& spec);
runtime::SessionRecord record_for(const Parsed& p, const runtime::AgentSpec& spec);
// "replay:ABS" for --replay, else --model, else the spec's model.path, else the bundled nano.
std::string model_ref_from(const Parsed& p, const runtime::AgentSpec& spec);
runtime::ModelOptions model_options(const Parsed& p, const runtime::AgentSpec& spec);
runtime::RunnerOptions runner_options(const Parsed& p);  // --lease-timeout
int exit_code(runtime::StopReason reason);  // 0 final, 3 budget, 4 interrupted/cancelled, 1

}  // namespace gossamer::cli
