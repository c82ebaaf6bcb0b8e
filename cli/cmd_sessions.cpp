// `gossamer sessions list|show|export`: what the session store holds, for people (a table)
// and for programs (--json, export --format json|harmony).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_args.h"
#include "cli/run_common.h"
#include "harmony/renderer.h"
#include "harmony/tokenizer.h"
#include "runtime/session_store.h"

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
