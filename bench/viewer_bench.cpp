// gossamer_bench_viewer: what the trace viewer and telemetry cost (issue 21).
//  - the viewer's queries on a store of N sessions (each with T turns and T/2 tool calls):
//    the sessions list (one aggregate query, 200 rows), one session's summary, and one long
//    session's rows (messages + events) as the session page loads them;
//  - the tracer on the event loop: the time per event of GenAiTracer feeding an OtlpExporter
//    (queueing only; the export runs on the exporter's thread), and the spans per second the
//    exporter posts to a loopback collector double.
// Medians of --runs runs.
//   gossamer_bench_viewer [--sessions N] [--turns T] [--runs N]
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "runtime/gen_ai_tracer.h"
#include "runtime/otlp_exporter.h"
#include "runtime/session_store.h"
#include "runtime/session_summary.h"
#include "server/http_server.h"

namespace fs = std::filesystem;
namespace rt = gossamer::runtime;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? -1 : v[v.size() / 2];
}

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

void fill(rt::SessionStore& store, int sessions, int turns, std::string* long_id) {
    for (int s = 0; s < sessions; ++s) {
        rt::SessionRecord r;
        r.name = "task-" + std::to_string(s), r.model = "m", r.spec_path = "/s.yaml";
        const auto id = store.create(r);
        if (s == 0) *long_id = id;
        store.transaction([&] {
            const int n = s == 0 ? 500 : turns;  // one long session for the page
            for (int t = 1; t <= n; ++t) {
                store.append_message(id,
                                     gossamer::harmony::Message::text(
                                         gossamer::harmony::Role::assistant, "step text"),
                                     40);
                rt::GenerationDone g{t, 1000 + 40 * t, 40, "stop", 0, 120.0, "", 0, 900};
                store.append_event(id, "generation", rt::fields_of(g));
                if (t % 2 == 0)
                    store.append_event(id, "tool.finished",
                                       rt::fields_of(rt::ToolFinished{static_cast<std::size_t>(t),
                                                                      "python", true, 30.0, "ok"}));
            }
        });
        store.set_status(id, "finished", "final", "done");
    }
}

}  // namespace

int main(int argc, char** argv) {
    int sessions = 2000, turns = 20, runs = 15;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], "--sessions") == 0) sessions = std::max(1, std::atoi(argv[i + 1]));
        if (std::strcmp(argv[i], "--turns") == 0) turns = std::max(1, std::atoi(argv[i + 1]));
        if (std::strcmp(argv[i], "--runs") == 0) runs = std::max(1, std::atoi(argv[i + 1]));
    }
    const fs::path dir =
        fs::temp_directory_path() / ("gossamer_bench_viewer_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::string long_id;
    {
        rt::SessionStore store(dir / "s.db");
        const auto t0 = Clock::now();
        fill(store, sessions, turns, &long_id);
        std::printf("store: %d sessions x %d turns (+1 of 500) written in %.0f ms\n", sessions,
                    turns, ms_since(t0));
        std::vector<double> list, one, page;
        for (int r = 0; r < runs; ++r) {
            auto t = Clock::now();
            const auto rows = rt::summarize_sessions(store);
            list.push_back(ms_since(t));
            if (rows.size() != std::min<std::size_t>(200, sessions)) return 1;
            t = Clock::now();
            rt::summarize_session(store, long_id);
            one.push_back(ms_since(t));
            t = Clock::now();
            const auto m = store.messages(long_id);
            const auto e = store.events(long_id);
            page.push_back(ms_since(t));
            if (m.size() != 500 || e.size() != 750) return 1;
        }
        std::printf(
            "viewer: sessions list (200 rows of %d) %.2f ms; one summary %.2f ms; "
            "a 500-turn session's rows %.2f ms\n",
            sessions, median(list), median(one), median(page));
    }

    // The tracer on the loop: per event, with spans queued for the exporter.
    boost::asio::io_context io;
    gossamer::server::HttpOptions http;
    http.port = 0;
    std::size_t received = 0;
    gossamer::server::HttpServer collector(io, http, [&](const auto& request, auto reply) {
        received += request.body.size();
        reply->send(200, "application/json", "{}");
    });
    std::thread loop([&] { io.run(); });
    rt::OtlpOptions options;
    options.url = "http://127.0.0.1:" + std::to_string(collector.port()) + "/v1/traces";
    options.max_queue = 1 << 20;
    std::vector<double> per_event, spans_per_s;
    for (int r = 0; r < runs; ++r) {
        const int calls = 2000;
        Clock::duration in_tracer{};
        const auto begun = Clock::now();
        {
            rt::OtlpExporter exporter(options);
            rt::GenAiTracer tracer({"bench", "m", false, {}, ""},
                                   [&](rt::Span s) { exporter.add(std::move(s)); });
            std::vector<rt::Event> events;
            events.push_back({"s", rt::SessionStarted{}});
            for (int i = 0; i < calls; ++i) {
                events.push_back({"s", rt::GenerationDone{i + 1, 1000, 40, "stop", 0, 100.0, "", 0,
                                                          900, 0, 2, 131072, 10}});
                events.push_back(
                    {"s", rt::ToolStarted{static_cast<std::size_t>(i), "python", "{}"}});
                events.push_back({"s", rt::ToolFinished{static_cast<std::size_t>(i), "python", true,
                                                        5.0, "ok"}});
            }
            events.push_back(
                {"s", rt::SessionFinished{"final", calls, 40 * calls, "x", nullptr, std::nullopt}});
            const auto t = Clock::now();
            for (const auto& e : events) tracer.on_event(e);
            in_tracer = Clock::now() - t;
            per_event.push_back(std::chrono::duration<double, std::micro>(in_tracer).count() /
                                static_cast<double>(events.size()));
        }  // the exporter drains here
        spans_per_s.push_back((2.0 * calls + 1) /
                              std::chrono::duration<double>(Clock::now() - begun).count());
    }
    io.stop();
    loop.join();
    std::printf(
        "telemetry: %.2f us per event in the tracer (queueing included); %.0f spans/s "
        "exported to a loopback collector (%zu bytes received)\n",
        median(per_event), median(spans_per_s), received);
    fs::remove_all(dir);
    return 0;
}
