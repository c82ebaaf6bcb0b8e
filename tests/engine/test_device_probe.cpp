// The device probe: a CUDA build reports itself and, where a GPU exists, runs the test kernel
// correctly; a build without CUDA says why. Labelled `gpu` in ctest: on machines without a
// GPU the CUDA half checks only what the driver reports.
#include <doctest/doctest.h>

#include "engine/device_probe.h"

TEST_CASE("device probe: reports the build and the devices it found") {
    auto report = gossamer::engine::probe_devices();
#ifdef GOSSAMER_HAVE_CUDA
    CHECK(report.cuda_built);
    CHECK_FALSE(report.cuda_archs.empty());
    if (report.gpus.empty()) {
        MESSAGE("no GPU on this machine: " << report.cuda_error << " (kernel check skipped)");
        CHECK_FALSE(report.cuda_error.empty());
        CHECK_FALSE(report.kernel_ok);
    } else {
        for (const auto& gpu : report.gpus) {
            CHECK_FALSE(gpu.name.empty());
            CHECK(gpu.memory_bytes > 0);
        }
        CHECK(report.kernel_ok);  // squares computed on GPU 0 match the host
        CHECK(report.cuda_error.empty());
    }
#else
    CHECK_FALSE(report.cuda_built);
    CHECK(report.gpus.empty());
    CHECK_FALSE(report.cuda_error.empty());
#endif
}
