// `gossamer generate` as a binary (docs/CLI.md): greedy JSON output equals the reference
// continuation of the golden checkpoint, seeds reproduce, text mode streams decoded text,
// and bad input exits 2 with a message.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/golden.h"
#include "tests/support/run_gossamer.h"

using gossamer::test::golden;
using gossamer::test::read_raw;
using gossamer::test::run_gossamer;

namespace {

std::string model_args() {
    return "--model '" + golden("tiny-moe/model") + "' --prompt-ids '" +
           golden("tiny-moe/prompt.i32") + "'";
}

}  // namespace

TEST_CASE("cli generate: greedy --json equals the reference continuation") {
    const auto run = run_gossamer(
        "generate " + model_args() +
            " --max-tokens 24 --temperature 0 --kv-precision fp32 --expert-activations fp32 "
            "--dense-activations fp32 --json",
        "");
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    const auto out = nlohmann::json::parse(run.out);
    CHECK(out["tokens"].get<std::vector<int>>() ==
          read_raw<std::int32_t>(golden("tiny-moe/greedy.i32")));
    CHECK(out["finish_reason"] == "length");
    CHECK(out["prompt_tokens"] == 64);
    CHECK(out["prefill_tok_s"].get<double>() > 0);
    CHECK(out["decode_tok_s"].get<double>() > 0);
    CHECK(out["backend"].get<std::string>().rfind("cpu (", 0) == 0);
}

TEST_CASE("cli generate: a seed reproduces sampled tokens") {
    auto tokens = [](int seed) {
        const auto run = run_gossamer("generate " + model_args() + " --max-tokens 12 --seed " +
                                          std::to_string(seed) + " --top-p 0.9 --json",
                                      "");
        REQUIRE_MESSAGE(run.exit_code == 0, run.err);
        return nlohmann::json::parse(run.out)["tokens"].get<std::vector<int>>();
    };
    CHECK(tokens(5) == tokens(5));
    CHECK(tokens(5) != tokens(6));
}

TEST_CASE("cli generate: text mode prints the decoded tokens") {
    const auto run =
        run_gossamer("generate " + model_args() + " --max-tokens 24 --temperature 0", "");
    REQUIRE_MESSAGE(run.exit_code == 0, run.err);
    // Token 41 of the greedy continuation is "J", 51 is "T" (single-byte ranks).
    CHECK(run.out.find("JT") != std::string::npos);
    CHECK(run.out.back() == '\n');
}

TEST_CASE("cli generate: bad input exits 2 with a message") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"generate " + model_args(), "--max-tokens"},
        {"generate --model '" + golden("tiny-moe/model") + "' --max-tokens 3", "exactly one"},
        {"generate " + model_args() + " --prompt x --max-tokens 3", "exactly one"},
        {"generate --model '" + golden("tiny-moe/model") + "' --prompt hello --max-tokens 3",
         "vocabulary of 512"},
        {"generate " + model_args() + " --max-tokens 0", "--max-tokens"},
        {"generate " + model_args() + " --max-tokens 3 --temperature -1", "--temperature"},
        {"generate " + model_args() + " --max-tokens 3 --top-p 0", "--top-p"},
        {"generate " + model_args() + " --max-tokens 3 --top-p nan", "--top-p"},
        {"generate " + model_args() + " --max-tokens 3 --bogus", "--bogus"},
        {"generate --model /nonexistent --prompt-ids /nonexistent --max-tokens 3", "nonexistent"},
    };
    for (const auto& [args, needle] : cases) {
        const auto run = run_gossamer(args, "");
        CHECK_MESSAGE(run.exit_code == 2, args);
        CHECK_MESSAGE(run.err.find(needle) != std::string::npos, args << " -> " << run.err);
        CHECK(run.out.empty());
    }
}
