// What compute devices this build can use: whether the CUDA backend was compiled in, and the
// GPUs the driver reports. Used by `gossamer version` and `gossamer doctor`; it must not
// allocate device memory or keep a CUDA context alive.
#pragma once

#include <string>
#include <vector>

namespace gossamer::engine {

struct GpuInfo {
    int index = 0;
    std::string name;
    int compute_major = 0;
    int compute_minor = 0;
    unsigned long long memory_bytes = 0;
};

struct DeviceReport {
    bool cuda_built = false;    // the CUDA backend is part of this binary
    std::string cuda_archs;     // architectures it was compiled for, e.g. "90a;89;86;80"
    std::string cuda_error;     // why no GPU is usable (driver missing, no device), if any
    std::vector<GpuInfo> gpus;  // usable GPUs, empty without CUDA
    bool kernel_ok = false;     // a test kernel ran on GPU 0 and returned the right answer
};

DeviceReport probe_devices();

}  // namespace gossamer::engine
