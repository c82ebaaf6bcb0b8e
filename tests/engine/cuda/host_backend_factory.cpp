// Backend selection (engine/backend_factory.h) as the CLI uses it.
#include <doctest/doctest.h>

#include <string>

#include "engine/backend_factory.h"
#include "engine/model_error.h"

using namespace gossamer::engine;

TEST_CASE("backend factory: names resolve; unknown and unavailable ones are errors") {
    CHECK(resolve_backend("cpu") == "cpu");
    const std::string autod = resolve_backend("auto");
    CHECK((autod == "cpu" || autod == "cuda"));
    CHECK_THROWS_AS(resolve_backend("tpu"), ModelError);
    if (!cuda_backend_built()) {
        CHECK(autod == "cpu");
        try {
            resolve_backend("cuda");
            FAIL("cuda resolved in a build without CUDA");
        } catch (const ModelError& e) {
            CHECK(std::string(e.what()).find("this build has no CUDA backend") !=
                  std::string::npos);
        }
    } else if (autod == "cpu") {
        CHECK_THROWS_AS(resolve_backend("cuda"), ModelError);  // built, but no GPU here
    }
}
