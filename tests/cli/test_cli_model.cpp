// `gossamer model init / info / forward` as a binary (docs/CLI.md): a tiny random checkpoint
// end to end, the info JSON, forward logits against the golden reference, and bad input
// exiting 2 with a message.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/golden.h"
#include "tests/support/run_gossamer.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using gossamer::test::golden;
using gossamer::test::read_file;
using gossamer::test::Run;
using gossamer::test::run_gossamer;
using Json = nlohmann::json;

namespace {

// 'PATH' for the shell (temp and test-data paths hold no quotes).
std::string quote(const fs::path& p) {
    std::string out = "'";
    out += p.string();
    out += '\'';
    return out;
}

std::vector<float> read_floats(const fs::path& path) {
    const std::string bytes = read_file(path);
    std::vector<float> out(bytes.size() / 4);
    std::memcpy(out.data(), bytes.data(), out.size() * 4);
    return out;
}

void write_ids(const fs::path& path, const std::vector<std::int32_t>& ids) {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(ids.data()),
               static_cast<std::streamsize>(ids.size() * 4));
}

// A run that must fail with exit 2 and a "gossamer model ...: <what>" line on stderr.
void check_bad(const std::string& args, const std::string& expected_text) {
    CAPTURE(args);
    const Run r = run_gossamer(args, "");
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find("gossamer model") != std::string::npos);
    CHECK(r.err.find(expected_text) != std::string::npos);
}

}  // namespace

TEST_CASE("cli model: init tiny, info --json and forward on it") {
    gossamer::test::TempDir tmp{"cli_model"};
    const fs::path dir = tmp.path / "tiny";
    Run r = run_gossamer("model init --preset tiny --out " + quote(dir) + " --seed 3", "");
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());  // progress only on a terminal
    CHECK(r.out.find("preset tiny") != std::string::npos);
    CHECK(fs::exists(dir / "config.json"));
    CHECK(fs::exists(dir / "model.safetensors"));

    r = run_gossamer("model info " + quote(dir) + " --json", "");
    REQUIRE(r.exit_code == 0);
    const Json info = Json::parse(r.out);
    CHECK(info["layout"] == "original");
    CHECK(info["config"]["num_hidden_layers"] == 4);
    CHECK(info["config"]["vocab_size"] == 512);
    CHECK(info["tensor_count"] == 3 + 4 * 15);
    const auto& b = info["bytes_by_dtype"];
    // tiny: 8 experts, hidden 128, intermediate 128 -> per layer mlp1 8*256*4*16 block bytes
    // and 8*256*4 scales; mlp2 8*128*4*16 and 8*128*4.
    CHECK(b["mxfp4_blocks"] == 4 * (8 * 256 * 4 * 16 + 8 * 128 * 4 * 16));
    CHECK(b["mxfp4_scales"] == 4 * (8 * 256 * 4 + 8 * 128 * 4));
    CHECK(b["fp32"] == 0);
    CHECK(b["bf16"].get<std::uint64_t>() > 2 * 512 * 128 * 2);
    CHECK(info["files"].size() == 1);
    CHECK(info["memory"]["weights_bytes"] == fs::file_size(dir / "model.safetensors"));
    const auto params = info["parameters"]["total"].get<std::uint64_t>();
    CHECK(params ==
          (b["bf16"].get<std::uint64_t>() / 2 + b["mxfp4_blocks"].get<std::uint64_t>() * 2));
    const auto& kv = info["memory"]["kv_cache"];
    CHECK(kv["bytes_per_token_per_layer"] == 2 * 128 * 4);  // 2 kv heads x 64, K and V, f32
    CHECK(kv["full_layers"] == 2);
    CHECK(kv["sliding_layers"] == 2);
    CHECK(kv["per_1k_tokens"]["full_layers_bytes"] == 2 * 1024 * 1024);
    CHECK(kv["at_max_context"]["tokens"] == 131072);

    r = run_gossamer("model info " + quote(dir), "");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("parameters:") != std::string::npos);

    const std::vector<std::int32_t> ids = {5, 9, 511, 0, 200, 17, 17};
    write_ids(tmp.path / "ids.i32", ids);
    r = run_gossamer("model forward --model " + quote(dir) + " --prompt-ids " +
                         quote(tmp.path / "ids.i32") + " --out " + quote(tmp.path / "logits.f32") +
                         " --threads 2",
                     "");
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(fs::file_size(tmp.path / "logits.f32") == ids.size() * 512 * 4);
    for (float x : read_floats(tmp.path / "logits.f32")) REQUIRE(std::isfinite(x));
}

TEST_CASE("cli model: init is reproducible and honours --layers and --layout hf") {
    gossamer::test::TempDir tmp{"cli_model"};
    for (const char* name : {"a", "b"}) {
        const Run r = run_gossamer(
            "model init --preset=tiny --seed=42 --layers 2 --out " + quote(tmp.path / name), "");
        REQUIRE(r.exit_code == 0);
    }
    CHECK(read_file(tmp.path / "a" / "model.safetensors") ==
          read_file(tmp.path / "b" / "model.safetensors"));
    Run r = run_gossamer("model info --json " + quote(tmp.path / "a"), "");
    REQUIRE(r.exit_code == 0);
    CHECK(Json::parse(r.out)["config"]["num_hidden_layers"] == 2);

    r = run_gossamer(
        "model init --preset tiny --seed 42 --layers 2 --layout hf --out " + quote(tmp.path / "hf"),
        "");
    REQUIRE(r.exit_code == 0);
    r = run_gossamer("model info --json " + quote(tmp.path / "hf"), "");
    REQUIRE(r.exit_code == 0);
    const Json info = Json::parse(r.out);
    CHECK(info["layout"] == "hf");
    CHECK(info["tensor_count"] == 3 + 2 * 19);  // q/k/v split

    // Same seed, both layouts: the same logits.
    write_ids(tmp.path / "ids.i32", {1, 2, 3, 4, 5, 6, 7, 8});
    for (const char* name : {"a", "hf"}) {
        r = run_gossamer("model forward --model " + quote(tmp.path / name) + " --prompt-ids " +
                             quote(tmp.path / "ids.i32") + " --out " +
                             quote(tmp.path / (std::string(name) + ".f32")),
                         "");
        REQUIRE(r.exit_code == 0);
    }
    CHECK(read_file(tmp.path / "a.f32") == read_file(tmp.path / "hf.f32"));
}

TEST_CASE("cli model: forward matches the golden reference logits") {
    gossamer::test::TempDir tmp{"cli_model"};
    auto forward = [&](const std::string& out, const std::string& extra) {
        return run_gossamer("model forward --model " + quote(golden("tiny-moe/model")) +
                                " --prompt-ids " + quote(golden("tiny-moe/prompt.i32")) +
                                " --out " + quote(tmp.path / out) + " --kv-precision fp32" + extra,
                            "");
    };
    // fp32 KV and fp32 expert activations: the reference's arithmetic.
    const Run r = forward("logits.f32", " --expert-activations fp32 --dense-activations fp32");
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    // The weights mapped instead of read into memory (the default): the same logits, bit for bit.
    const Run mapped =
        forward("mapped.f32", " --expert-activations fp32 --dense-activations fp32 --weights mmap");
    INFO("stderr: " << mapped.err);
    REQUIRE(mapped.exit_code == 0);
    CHECK(read_floats(tmp.path / "mapped.f32") == read_floats(tmp.path / "logits.f32"));
    const auto got = read_floats(tmp.path / "logits.f32");
    const auto expected = read_floats(golden("tiny-moe/logits_f32.f32"));
    REQUIRE(got.size() == 64 * 512);
    REQUIRE(got.size() == expected.size());
    float worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i)
        worst = std::max(worst, std::fabs(got[i] - expected[i]));
    MESSAGE("max |logit - reference| = " << worst);
    CHECK(worst < 1e-3f);
    // The default int8 expert activations: another arithmetic, near the reference.
    const Run int8 = forward("int8.f32", "");
    INFO("stderr: " << int8.err);
    REQUIRE(int8.exit_code == 0);
    const auto quantised = read_floats(tmp.path / "int8.f32");
    REQUIRE(quantised.size() == expected.size());
    float int8_worst = 0;
    for (std::size_t i = 0; i < quantised.size(); ++i)
        int8_worst = std::max(int8_worst, std::fabs(quantised[i] - expected[i]));
    MESSAGE("int8 experts: max |logit - reference| = " << int8_worst);
    CHECK(int8_worst > 0.0f);
    CHECK(int8_worst < 0.5f);
}

TEST_CASE("cli model: bad input exits 2 with a message") {
    gossamer::test::TempDir tmp{"cli_model"};
    const fs::path busy = tmp.path / "busy";
    fs::create_directories(busy);
    std::ofstream(busy / "x") << "x";
    check_bad("model init --preset tiny --out " + quote(busy), "not empty");
    fs::create_directories(tmp.path / "killed" / ".gossamer-partial");
    check_bad("model init --preset tiny --out " + quote(tmp.path / "killed"), "killed");
    check_bad("model init --preset 7b --out " + quote(tmp.path / "n"), "unknown preset");
    check_bad("model init --out " + quote(tmp.path / "n"), "--preset");
    check_bad("model init --preset tiny", "--out");
    check_bad("model init --preset tiny --out " + quote(tmp.path / "n") + " --layers 0",
              "--layers");
    check_bad("model init --preset tiny --out " + quote(tmp.path / "n") + " --seed -1", "--seed");
    check_bad("model init --preset tiny --out " + quote(tmp.path / "n") + " --layout gguf",
              "--layout");
    check_bad("model init --preset tiny --out " + quote(tmp.path / "n") + " --bogus", "--bogus");
    CHECK(!fs::exists(tmp.path / "n"));
    // 1000 layers of 120b is ~1.7 TB: more than any disk here has free.
    check_bad("model init --preset 120b --layers 1000 --out " + quote(tmp.path / "big"),
              "not enough free disk space");
    CHECK(!fs::exists(tmp.path / "big"));

    const std::string golden_forward = "model forward --model " + quote(golden("tiny-moe/model")) +
                                       " --prompt-ids " + quote(golden("tiny-moe/prompt.i32")) +
                                       " --out " + quote(tmp.path / "l.f32");
    check_bad(golden_forward + " --weights disk", "must be memory or mmap");
    check_bad(golden_forward + " --expert-activations int4", "must be int8 or fp32");
    check_bad(golden_forward + " --dense-activations fp16", "must be bf16 or fp32");
    CHECK(!fs::exists(tmp.path / "l.f32"));
    check_bad("model info", "missing");
    check_bad("model info " + quote(tmp.path / "nowhere"), "not a directory");
    check_bad("model info " + quote(busy), "no config.json");

    const std::string model = quote(golden("tiny-moe/model"));
    auto forward = [&](const std::string& ids_bytes) {
        std::ofstream(tmp.path / "ids.bin", std::ios::binary | std::ios::trunc) << ids_bytes;
        return "model forward --model " + model + " --prompt-ids " + quote(tmp.path / "ids.bin") +
               " --out " + quote(tmp.path / "out.f32");
    };
    check_bad(forward(""), "empty");
    check_bad(forward(std::string(6, '\0')), "int32");
    check_bad(forward(std::string("\x00\x02\x00\x00", 4)), "(512) is not in [0, 512)");
    check_bad(forward(std::string("\xff\xff\xff\xff", 4)), "(-1)");
    check_bad("model forward --model " + model + " --prompt-ids " + quote(tmp.path / "none") +
                  " --out " + quote(tmp.path / "out.f32"),
              "cannot read");
    check_bad("model forward --model " + quote(busy) + " --prompt-ids " +
                  quote(golden("tiny-moe/prompt.i32")) + " --out " + quote(tmp.path / "out.f32"),
              "config.json");
    check_bad("model forward --prompt-ids x --out y", "--model");
    check_bad(forward(std::string(4, '\0')) + " --threads 0", "--threads");
    CHECK(!fs::exists(tmp.path / "out.f32"));
}
