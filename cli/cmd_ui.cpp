// `gossamer ui`: the trace viewer (server/trace_viewer.h) over a session store, without a
// model: for looking at what runs in other processes (or ran) wrote there. Serves /ui until
// SIGINT / SIGTERM.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>

#include "cli/cli_args.h"
#include "cli/listen_options.h"
#include "cli/run_common.h"
#include "server/trace_viewer.h"

namespace gossamer::cli {

int cmd_ui(Args args) {
    const auto p = parse_args(args, {"--store", "--host", "--port", "--api-key"}, {}, 0);
    const auto listen = listen_options(p, 8080);
    auto store = open_store(p, true);
    boost::asio::io_context io;
    server::TraceViewer viewer(io, store, server::ViewerOptions{listen.api_key});
    std::unique_ptr<server::HttpServer> http;
    try {
        http = std::make_unique<server::HttpServer>(
            io, listen.http,
            [&viewer](const server::HttpRequest& request, std::shared_ptr<server::Reply> reply) {
                if (viewer.handle(request, reply)) return;
                if (request.path == "/health")
                    return reply->send(200, "application/json", R"({"status":"ok"})");
                if (request.path == "/")
                    return reply->send(302, "text/plain", "", {{"Location", "/ui/"}});
                reply->send(404, "application/json",
                            R"({"error":{"message":"the viewer is at /ui/"}})");
            });
    } catch (const std::system_error& e) {
        throw InputError(e.what());
    }
    const auto url = base_url(listen.http.host, http->port()) + "/ui/";
    std::fprintf(stderr, "gossamer ui: %s on %s%s\n", store.path().c_str(), url.c_str(),
                 listen.api_key.empty() ? "" : " (open /ui/?key=KEY once)");
    std::printf("{\"event\":\"listening\",\"host\":\"%s\",\"port\":%u,\"url\":\"%s\"}\n",
                listen.http.host.c_str(), http->port(), url.c_str());
    std::fflush(stdout);

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        http->stop();
        viewer.stop();
        io.stop();
    });
    io.run();
    std::fprintf(stderr, "gossamer ui: stopped\n");
    return 0;
}

}  // namespace gossamer::cli
