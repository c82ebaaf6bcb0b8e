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
    // An empty kv_folder keeps nothing on disk (the reference answers).
    Instance(const std::filesystem::path& checkpoint, const std::filesystem::path& kv_folder,
             const std::filesystem::path& workspaces) {
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
        options.workspaces = workspaces;
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

std::size_t serve_files(const std::filesystem::path& folder) {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(folder))
        n += e.path().filename().string().starts_with("serve-") ? 1 : 0;
    return n;
}

TEST_CASE("server: after a restart a returning conversation starts from its saved KV cache") {
    gossamer::test::TempDir dir("server_kv");
    engine::CheckpointWriteOptions options;
    options.seed = 21;
    engine::write_random_checkpoint(engine::config_preset("nano"), dir.path / "nano", options);
    const auto kv = dir.path / "kv", ws = dir.path / "ws";
    // Two conversations with the same 120-token instructions, then their own 180 tokens.
    std::vector<std::int32_t> a_prompt, b_prompt;
    for (int i = 0; i < 300; ++i) {
        a_prompt.push_back(1000 + (i * 37) % 5000);
        b_prompt.push_back(i < 120 ? a_prompt.back() : 2000 + (i * 53) % 4000);
    }
    // A branch of conversation a: its first 130 tokens (less than half), then another 170.
    std::vector<std::int32_t> branch(a_prompt.begin(), a_prompt.begin() + 130);
    for (int i = 0; i < 170; ++i) branch.push_back(3000 + i * 11);

    Json a_first, b_first, branch_reference;
    {
        Instance plain(dir.path / "nano", {}, ws);  // nothing saved: the reference answers
        a_first = plain.generate(a_prompt);
        b_first = plain.generate(b_prompt);
        branch_reference = plain.generate(branch);
    }
    CHECK_FALSE(std::filesystem::exists(kv));
    {
        Instance a(dir.path / "nano", kv, ws);
        CHECK(a.generate(a_prompt)["usage"]["prompt_tokens_details"]["cached_tokens"] == 0);
        // Shares only the instructions: reuses a's memory, saves to a file of its own.
        CHECK(a.generate(b_prompt)["usage"]["prompt_tokens_details"]["cached_tokens"] == 120);
    }
    CHECK(serve_files(kv) == 2);
    {
        Instance b(dir.path / "nano", kv, ws);
        // Both come back whole, each from its own file, with the same answers.
        for (const auto* p : {&a_prompt, &b_prompt}) {
            const auto again = b.generate(*p);
            CHECK(again["usage"]["prompt_tokens_details"]["cached_tokens"] == 299);
            CHECK(again["choices"][0]["token_ids"] ==
                  (p == &a_prompt ? a_first : b_first)["choices"][0]["token_ids"]);
        }
        // A conversation sharing nothing gets its own file and computes everything.
        auto other = a_prompt;
        other[0] += 1;
        CHECK(b.generate(other)["usage"]["prompt_tokens_details"]["cached_tokens"] == 0);
    }
    CHECK(serve_files(kv) == 3);
    {
        // After another restart, the branch starts from a's file (its first 130 tokens) and
        // answers as computed from nothing.
        Instance c(dir.path / "nano", kv, ws);
        const auto answer = c.generate(branch);
        CHECK(answer["usage"]["prompt_tokens_details"]["cached_tokens"] == 130);
        CHECK(answer["choices"][0]["token_ids"] == branch_reference["choices"][0]["token_ids"]);
        // a's own file was left whole for a.
        const auto a_again = c.generate(a_prompt);
        CHECK(a_again["usage"]["prompt_tokens_details"]["cached_tokens"] == 299);
    }
    CHECK(serve_files(kv) == 4);
}
