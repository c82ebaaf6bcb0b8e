// `gossamer sessions diff ID [--step N]` and `gossamer sessions revert ID --to-step N`: a
// session's workspace history (runtime/workspace_history.h) as unified diffs, and the
// workspace put back to the exact bytes and modes it had after a step.
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "cli/cli_args.h"
#include "cli/cli_io.h"
#include "cli/run_common.h"
#include "runtime/protocol.h"
#include "runtime/session_store.h"
#include "runtime/workspace_diff.h"
#include "runtime/workspace_history.h"

namespace gossamer::cli {
namespace rt = gossamer::runtime;
namespace fs = std::filesystem;

namespace {

int last_step(const std::vector<rt::StoredChange>& changes) {
    return changes.empty() ? -1 : changes.back().step;
}

int step_arg(const Parsed& p, const char* flag, const std::vector<rt::StoredChange>& changes) {
    const int last = last_step(changes);
    const auto n = static_cast<int>(parse_uint(*p.get(flag), flag, 0, 1u << 30));
    if (last < 0) throw InputError("the session has no recorded workspace changes");
    if (n > last)
        throw InputError(std::string(flag) + " " + std::to_string(n) + ": no such step (steps 0.." +
                         std::to_string(last) + ")");
    return n;
}

}  // namespace

int cmd_sessions_diff(Args args) {
    const Parsed p = parse_args(args, {"--store", "--step"}, {}, 1);
    const auto store = open_store(p, true);
    const auto r = need_session(store, p);
    const auto changes = store.changes(r.id);
    std::optional<int> step;
    if (p.get("--step")) step = step_arg(p, "--step", changes);
    write_stdout(rt::workspace_diff(store, changes, step));
    return 0;
}

int cmd_sessions_revert(Args args) {
    const Parsed p = parse_args(args, {"--store", "--to-step"}, {}, 1);
    if (!p.get("--to-step")) throw InputError("missing --to-step N (gossamer sessions diff ID)");
    auto store = open_store(p, true);
    const auto r = need_session(store, p);
    if (auto lease = store.lease(r.id);
        lease && lease->live(rt::RunnerOptions{}.lease_timeout_seconds))
        throw InputError(rt::running_elsewhere(r.id, *lease));
    const auto changes = store.changes(r.id);
    const int step = step_arg(p, "--to-step", changes);
    const fs::path workspace = rt::workspace_of(store, r.id);
    if (!fs::is_directory(workspace))
        throw InputError("the session's workspace " + workspace.string() + " is gone");
    const auto target = rt::state_at(changes, step);
    rt::WorkspaceScanner scanner;
    const auto current = scanner.scan(workspace, [](const std::string&, std::string_view) {});
    std::vector<std::string> done;
    try {
        done = rt::restore_workspace(workspace, current, target,
                                     [&](const std::string& hash) { return store.blob(hash); });
    } catch (const std::runtime_error& e) {
        throw InputError(std::string("revert stopped: ") + e.what());
    }
    // The revert is itself a step, so that the history stays the truth about the files.
    rt::WorkspaceScanner again;
    const auto now = again.scan(workspace, [&](const std::string& hash, std::string_view bytes) {
        store.put_blob(hash, bytes);
    });
    auto recorded = rt::diff_manifests(rt::state_at(changes), now);
    const int next = last_step(changes) + 1;
    store.transaction([&] {
        for (auto& c : recorded) {
            c.step = next;
            c.kind = "revert";
        }
        if (!recorded.empty()) {
            store.append_changes(r.id, recorded);
            store.append_event(r.id, "workspace.changed",
                               rt::fields_of(rt::WorkspaceChanged{next, std::nullopt, "revert",
                                                                  rt::change_lines(recorded)}));
        }
    });
    for (const auto& line : done) std::printf("%s\n", line.c_str());
    std::printf("reverted %s to step %d (%zu files changed%s)\n", r.id.c_str(), step, done.size(),
                recorded.empty() ? "" : ("; recorded as step " + std::to_string(next)).c_str());
    return 0;
}

}  // namespace gossamer::cli
