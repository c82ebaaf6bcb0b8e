// `gossamer sessions list|show|export|gc`: what the session store holds, for people (a table)
// and for programs (--json, export --format json|harmony); gc trims the saved KV caches.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "cli/cli_args.h"
#include "cli/run_common.h"
#include "engine/kv_file.h"
#include "harmony/renderer.h"
#include "harmony/tokenizer.h"
#include "runtime/model_factory.h"
#include "runtime/session_runner.h"
#include "runtime/session_store.h"
#include "server/conversation_pool.h"

namespace gossamer::cli {
namespace rt = gossamer::runtime;
using Json = nlohmann::ordered_json;

namespace {

rt::SessionStore open_store(const Parsed& p) {
    return cli::open_store(p, true);
}

Json lease_json(const std::optional<rt::Lease>& lease) {
    if (!lease) return nullptr;
    return Json{{"pid", lease->pid},
                {"host", lease->host},
                {"since", lease->since},
                {"heartbeat", lease->heartbeat},
                {"live", lease->live(rt::RunnerOptions{}.lease_timeout_seconds)}};
}

Json record_json(const rt::SessionRecord& r, const std::optional<rt::Lease>& lease) {
    return Json{{"id", r.id},
                {"name", r.name},
                {"status", r.status},
                {"stop_reason", r.stop_reason},
                {"error", r.error},
                {"model", r.model},
                {"spec_path", r.spec_path},
                {"created_at", r.created_at},
                {"updated_at", r.updated_at},
                {"final_answer", r.final_answer},
                {"lease", lease_json(lease)}};
}

// "pid 123 on host" for a live lease; "pid 123 (gone)" when its holder stopped without
// ending the session (resume takes it over); empty when no process holds it.
std::string owner_text(const std::optional<rt::Lease>& lease) {
    if (!lease) return "";
    std::string text = "pid " + std::to_string(lease->pid) + " on " + lease->host;
    if (!lease->live(rt::RunnerOptions{}.lease_timeout_seconds)) text += " (gone)";
    return text;
}

std::string preview(std::string text, std::size_t max) {
    for (char& c : text)
        if (c == '\n') c = ' ';
    return text.size() > max ? text.substr(0, max) + "..." : text;
}

}  // namespace

int cmd_sessions_list(Args args) {
    const Parsed p = parse_args(args, {"--store"}, {"--json"}, 0);
    const auto store = open_store(p);
    const auto sessions = store.list();
    if (p.has("--json")) {
        Json out = Json::array();
        for (const auto& r : sessions) out.push_back(record_json(r, store.lease(r.id)));
        write_stdout(out.dump() + "\n");
        return 0;
    }
    std::printf("%-24s %-12s %-18s %-20s %-20s %s\n", "ID", "STATE", "REASON", "CREATED", "NAME",
                "OWNER");
    for (const auto& r : sessions)
        std::printf("%-24s %-12s %-18s %-20s %-20s %s\n", r.id.c_str(), r.status.c_str(),
                    r.stop_reason.c_str(), r.created_at.c_str(), r.name.c_str(),
                    owner_text(store.lease(r.id)).c_str());
    return 0;
}

int cmd_sessions_gc(Args args) {
    const Parsed p = parse_args(args, {"--store", "--kv-disk-budget"}, {"--json"}, 0);
    const std::uint64_t budget = p.get("--kv-disk-budget")
                                     ? parse_bytes(*p.get("--kv-disk-budget"), "--kv-disk-budget")
                                     : rt::kDefaultKvDiskBudget;
    const auto store = open_store(p);
    namespace fs = std::filesystem;
    const fs::path folder = rt::store_folder(store.path()) / "kv";
    std::set<std::string> live;
    for (const auto& r : store.list()) live.insert(r.id);
    struct Removed {
        std::string file, why;
        std::uint64_t bytes;
    };
    std::vector<Removed> removed;
    std::error_code ec;
    // Caches of sessions the store no longer has, and temporaries a crash left behind. The
    // server's conversations (serve-*.gkv) belong to no session: only the budget trims them.
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        const auto& path = it->path();
        const bool orphan = path.extension() == ".gkv" && !live.contains(path.stem().string()) &&
                            !server::is_conversation_kv_file(path);
        const bool temp = path.extension() == ".tmp" && path.stem().extension() == ".gkv";
        if (!orphan && !temp) continue;
        std::error_code e;
        const auto bytes = it->file_size(e);
        if (fs::remove(path, e))
            removed.push_back({path.filename().string(),
                               orphan ? "no such session" : "unfinished write", e ? 0 : bytes});
    }
    // A budget of 0 removes every cache (enforce_kv_budget reads 0 as "no limit").
    const engine::KvDiskBudget limit{folder, std::max<std::uint64_t>(budget, 1)};
    for (const auto& path : engine::enforce_kv_budget(limit))
        removed.push_back({path.filename().string(), "over the budget", 0});
    std::uint64_t kept = 0, files = 0;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".gkv") {
            std::error_code e;
            kept += it->file_size(e);
            ++files;
        }
    if (p.has("--json")) {
        Json out{{"folder", folder.string()},
                 {"removed", Json::array()},
                 {"kept_files", files},
                 {"kept_bytes", kept},
                 {"budget_bytes", budget}};
        for (const auto& r : removed) out["removed"].push_back({{"file", r.file}, {"why", r.why}});
        write_stdout(out.dump() + "\n");
        return 0;
    }
    for (const auto& r : removed) std::printf("removed %s (%s)\n", r.file.c_str(), r.why.c_str());
    std::printf("%llu saved KV caches, %.1f MiB, in %s (budget %.1f GiB)\n",
                static_cast<unsigned long long>(files), static_cast<double>(kept) / (1 << 20),
                folder.c_str(), static_cast<double>(budget) / (1 << 30));
    return 0;
}

int cmd_sessions_show(Args args) {
    const Parsed p = parse_args(args, {"--store"}, {}, 1);
    const auto store = open_store(p);
    const auto r = need_session(store, p);
    std::printf("%s  %s (%s)  %s\nmodel: %s\nspec: %s\n", r.id.c_str(), r.status.c_str(),
                r.stop_reason.c_str(), r.name.c_str(), r.model.c_str(), r.spec_path.c_str());
    if (const auto owner = owner_text(store.lease(r.id)); !owner.empty())
        std::printf("owner: %s\n", owner.c_str());
    if (!r.error.empty()) std::printf("error: %s\n", r.error.c_str());
    for (const auto& u : rt::usage_by_endpoint(store.events(r.id)))
        std::printf(
            "usage: %s: %d generations, %ld prompt tokens (%ld cached), %ld output "
            "tokens, %.1f s, %d retries\n",
            u.endpoint.empty() ? "local engine" : u.endpoint.c_str(), u.generations,
            u.prompt_tokens, u.cached_tokens, u.output_tokens, u.ms / 1000, u.retries);
    for (const auto& stored : store.events(r.id))
        if (const auto e = stored.typed())
            if (const auto* c = std::get_if<rt::ContextCompacted>(&*e))
                std::printf(
                    "compacted: after message %zu, %d -> %d prompt tokens, messages from %zu "
                    "kept; summary: %s\n",
                    c->messages - 1, c->tokens_before, c->tokens_after, c->keep_from,
                    preview(c->summary, 100).c_str());
    std::printf("\n");
    for (const auto& m : store.messages(r.id)) {
        const auto& msg = m.message;
        std::string who(harmony::to_string(msg.role));
        if (msg.name) who += ":" + *msg.name;
        if (msg.channel) who += " [" + *msg.channel + "]";
        if (msg.recipient) who += " -> " + *msg.recipient;
        std::printf("%3d %-40s %s\n", m.seq, who.c_str(), preview(msg.text_content(), 100).c_str());
    }
    if (!r.final_answer.empty()) std::printf("\nfinal answer:\n%s\n", r.final_answer.c_str());
    return 0;
}

int cmd_sessions_export(Args args) {
    const Parsed p = parse_args(args, {"--store", "--format"}, {}, 1);
    const auto store = open_store(p);
    const auto r = need_session(store, p);
    const std::string format = p.get("--format").value_or("json");
    std::vector<harmony::Message> messages;
    for (auto& m : store.messages(r.id)) messages.push_back(std::move(m.message));
    if (format == "harmony") {
        harmony::Renderer renderer(harmony::Tokenizer::o200k_harmony());
        harmony::RenderOptions options;
        options.drop_analysis = harmony::DropAnalysis::none;
        const auto tokens = renderer.render_conversation(messages, options);
        write_stdout(harmony::Tokenizer::o200k_harmony().decode(tokens) + "\n");
        return 0;
    }
    if (format != "json")
        throw InputError("--format must be json or harmony, got '" + format + "'");
    Json events = Json::array();
    for (const auto& e : store.events(r.id))
        events.push_back(Json{{"seq", e.seq}, {"kind", e.kind}, {"data", e.data}});
    Json out{{"session", record_json(r, store.lease(r.id))},
             {"messages", harmony::messages_to_json(messages)},
             {"events", events}};
    write_stdout(out.dump(2) + "\n");
    return 0;
}

}  // namespace gossamer::cli
