// `gossamer version`: what this binary is and which compute devices it can use.
#include <cstdio>
#include <string>

#include "cli/cli_io.h"
#include "cli/commands.h"
#include "engine/device_probe.h"

namespace gossamer::cli {

int cmd_version(Args args) {
    require_known_flags(args, {});
    std::printf("gossamer %s\n", GOSSAMER_VERSION);
    auto report = engine::probe_devices();
    if (!report.cuda_built) {
        std::printf("cuda: not built (%s)\n", report.cuda_error.c_str());
        return 0;
    }
    std::printf("cuda: built for %s\n", report.cuda_archs.c_str());
    for (const auto& gpu : report.gpus)
        std::printf("gpu %d: %s (sm_%d%d, %.1f GiB)\n", gpu.index, gpu.name.c_str(),
                    gpu.compute_major, gpu.compute_minor,
                    static_cast<double>(gpu.memory_bytes) / (1024.0 * 1024.0 * 1024.0));
    if (!report.cuda_error.empty()) std::printf("cuda: %s\n", report.cuda_error.c_str());
    if (report.kernel_ok) std::printf("cuda: test kernel ok on gpu 0\n");
    return 0;
}

}  // namespace gossamer::cli
