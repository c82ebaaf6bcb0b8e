#include "engine/device_probe.h"

namespace gossamer::engine {

#ifdef GOSSAMER_HAVE_CUDA
DeviceReport probe_cuda_devices();  // engine/cuda/device_probe.cu
#endif

DeviceReport probe_devices() {
#ifdef GOSSAMER_HAVE_CUDA
    return probe_cuda_devices();
#else
    DeviceReport report;
    report.cuda_error =
        "this build has no CUDA backend (configured with GOSSAMER_CUDA=OFF "
        "or without nvcc)";
    return report;
#endif
}

}  // namespace gossamer::engine
