// A restarted server starts a returning conversation from its saved KV cache: the real CPU
// engine on a random checkpoint of the real vocabulary (preset nano) behind EngineClient, the
// server in-process on 127.0.0.1 with a KV folder (what `gossamer serve` sets up with a
// store). The same token-level request before and after a restart: the second server's
// answer is the same, and its usage says the prompt came from the saved cache.
#include <doctest/doctest.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <thread>

#include "engine/checkpoint_writer.h"
#include "engine/cpu/cpu_backend.h"
#include "engine/kv_file.h"
#include "runtime/engine_client.h"
#include "server/server.h"
#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"

namespace srv = gossamer::server;
namespace engine = gossamer::engine;
namespace rt = gossamer::runtime;
using Json = nlohmann::json;

namespace {

// One server process' worth: weights, backend, engine client, server on its own thread.
struct Instance {
    boost::asio::io_context io;
    engine::Weights weights;
    std::unique_ptr<engine::Backend> backend;
    std::unique_ptr<rt::EngineClient> client;
    std::unique_ptr<srv::Server> server;
    std::thread thread;
    Instance(const std::filesystem::path& checkpoint, const std::filesystem::path& kv_folder) {
        weights = engine::load_weights(checkpoint);
        backend = engine::cpu::make_cpu_backend(weights, {.threads = 2});
        engine::SchedulerOptions scheduler;
        scheduler.max_context = 2048;
        client = std::make_unique<rt::EngineClient>(*backend, io.get_executor(), scheduler);
        const auto sample = backend->new_cache(1);
        client->set_kv_disk(engine::kv_identity(engine::fingerprint(weights), *backend, *sample),
                            std::uint64_t{1} << 30);
        srv::ServerOptions options;
        options.http.port = 0;
        options.model_name = "test-model";
        options.workspaces = kv_folder.parent_path() / "ws";
        options.kv_folder = kv_folder;
        server = std::make_unique<srv::Server>(io, *client, nullptr, nullptr, options);
        thread = std::thread([this] {
            auto guard = boost::asio::make_work_guard(io);
            io.run();
        });
    }
    ~Instance() {
        io.stop();
        thread.join();
        server.reset();
        client.reset();
    }
    Json generate(const std::vector<std::int32_t>& prompt) {
        const Json body{{"token_ids", prompt},
                        {"sampling_params", {{"max_tokens", 8}, {"temperature", 0}}}};
        const auto a = gossamer::test::http_send(server->port(), boost::beast::http::verb::post,
                                                 "/inference/v1/generate", body.dump());
        REQUIRE(a.status == 200);
        return a.json();
    }
};

}  // namespace

TEST_CASE("server: after a restart a returning conversation starts from its saved KV cache") {
    gossamer::test::TempDir dir("server_kv");
    engine::CheckpointWriteOptions options;
    options.seed = 21;
    engine::write_random_checkpoint(engine::config_preset("nano"), dir.path / "nano", options);
    const auto kv = dir.path / "kv";
    std::vector<std::int32_t> prompt;
    for (int i = 0; i < 300; ++i) prompt.push_back(1000 + (i * 37) % 5000);

    Json first;
    {
        Instance a(dir.path / "nano", kv);
        first = a.generate(prompt);
        CHECK(first["usage"]["prompt_tokens_details"]["cached_tokens"] == 0);
    }
    REQUIRE(std::filesystem::exists(kv / srv::kv_file_name(prompt)));
    Instance b(dir.path / "nano", kv);
    const auto again = b.generate(prompt);
    CHECK(again["choices"][0]["token_ids"] == first["choices"][0]["token_ids"]);
    CHECK(again["usage"]["prompt_tokens_details"]["cached_tokens"] == 299);
    // A different conversation gets its own file and computes everything.
    auto other = prompt;
    other[3] += 1;
    const auto third = b.generate(other);
    CHECK(third["usage"]["prompt_tokens_details"]["cached_tokens"] == 0);
    CHECK(std::filesystem::exists(kv / srv::kv_file_name(other)));
}
