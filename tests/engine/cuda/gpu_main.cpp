// The main of the CUDA GPU tests: without a usable GPU every test process exits with 77,
// which ctest counts as skipped (SKIP_RETURN_CODE), after saying why. Listing test cases
// (ctest's discovery) works everywhere.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "engine/cuda/cuda_backend.h"

int main(int argc, char** argv) {
    bool listing = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        listing = listing || arg.rfind("--list", 0) == 0 || arg.rfind("-l", 0) == 0 ||
                  arg.rfind("-ltc", 0) == 0;
    }
    std::string why;
    if (!listing && gossamer::engine::cuda::cuda_device_count(&why) == 0) {
        std::printf("SKIPPED: no GPU on this machine (%s); the CUDA tests need one\n", why.c_str());
        return 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
