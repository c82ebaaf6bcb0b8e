// `gossamer serve`: the OpenAI-compatible server (docs/SERVER.md) on one model: parses the
// options, builds the model (runtime/model_factory.h), the built-in tools of an optional
// spec, the store of responses, and runs the event loop until SIGINT / SIGTERM, which stop
// accepting and let the requests in progress finish (a second signal stops at once).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>

#include "cli/cli_args.h"
#include "cli/listen_options.h"
#include "cli/run_common.h"
#include "runtime/agent_setup.h"
#include "runtime/model_factory.h"
#include "runtime/session_runner.h"
#include "server/server.h"

namespace gossamer::cli {

namespace fs = std::filesystem;
namespace rt = gossamer::runtime;

int cmd_serve(Args args) {
    const auto p = parse_args(
        args,
        with_engine_options({"--model", "--replay", "--replay-delay-ms", "--host", "--port",
                             "--store", "--api-key", "--max-queue", "--max-running", "--spec",
                             "--model-name", "--context-tokens", "--max-request-tokens",
                             "--kv-disk-budget", "--draft-tokens"}),
        {"--no-store"}, 0);
    rt::AgentSpec spec;
    spec.name = "serve";
    if (auto s = p.get("--spec"))
        spec = load_spec(*s);
    else
        spec.tools.python = tools::python::PythonOptions{};  // code_interpreter, in the sandbox
    server::ServerOptions options;
    auto listen = listen_options(p, options.http.port);
    options.http = listen.http;
    options.api_key = std::move(listen.api_key);
    if (auto q = p.get("--max-queue"))
        options.max_queue = parse_uint(*q, "--max-queue", 0, 1000000);
    if (auto r = p.get("--max-running"))
        options.max_running = parse_uint(*r, "--max-running", 1, 4096);
    if (auto t = p.get("--max-request-tokens"))
        options.max_request_tokens =
            static_cast<int>(parse_uint(*t, "--max-request-tokens", 1, 1 << 24));
    if (auto c = p.get("--context-tokens"))
        spec.limits.context_tokens =
            static_cast<int>(parse_uint(*c, "--context-tokens", 256, 131072));

    const std::string reference = model_ref_from(p, spec);
    options.model_name = p.get("--model-name")
                             .value_or(reference.rfind(rt::kReplayPrefix, 0) == 0
                                           ? "replay"
                                           : fs::path(reference).filename().string());
    auto model_opts = model_options(p, spec);
    model_opts.max_sequences = static_cast<int>(options.max_running);

    std::optional<rt::SessionStore> store;
    if (!p.has("--no-store")) {
        const auto path = checked_store_path(p, false);
        store.emplace(path, rt::StoreOpen{false, !p.get("--store")});
    }
    options.workspaces = store ? store->path().parent_path() / "server-workspaces"
                               : fs::temp_directory_path() / "gossamer-server-workspaces";
    if (store && model_opts.kv_disk_budget > 0)
        options.kv_folder = rt::store_folder(store->path()) / "kv";

    boost::asio::io_context io;
    std::optional<boost::asio::ip::tcp::acceptor> listening;
    try {  // bound now: a busy port is said before the model loads (seconds)
        listening.emplace(server::listen_on(io, options.http));
    } catch (const std::system_error& e) {
        throw InputError(e.what());
    }
    auto model = rt::open_model(reference, io, model_opts);
    rt::ToolRegistry builtin;
    rt::add_spec_tools(spec, builtin);
    auto server = std::make_unique<server::Server>(io, *model->client, store ? &*store : nullptr,
                                                   &builtin, options, std::move(listening));
    std::fprintf(
        stderr, "gossamer serve: %s on %s/v1 (model '%s'%s)%s\n", reference.c_str(),
        base_url(options.http.host, server->port()).c_str(), options.model_name.c_str(),
        options.api_key.empty() ? "" : ", API key required",
        store ? ("; traces at " + base_url(options.http.host, server->port()) + "/ui/").c_str()
              : "");
    // Machine-readable for scripts and tests that pass --port 0.
    std::printf("{\"event\":\"listening\",\"host\":\"%s\",\"port\":%u}\n",
                options.http.host.c_str(), server->port());
    std::fflush(stdout);

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    int signals_seen = 0;
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int) {
            if (ec) return;
            if (++signals_seen > 1) return io.stop();
            std::fprintf(stderr, "gossamer serve: draining %zu request(s)\n", server->active());
            server->drain([&] {
                signals.cancel();
                io.stop();
            });
            signals.async_wait(on_signal);
        };
    signals.async_wait(on_signal);
    io.run();
    server.reset();
    model.reset();
    std::fprintf(stderr, "gossamer serve: stopped\n");
    return 0;
}

}  // namespace gossamer::cli
