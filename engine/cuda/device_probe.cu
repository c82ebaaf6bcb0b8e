// The CUDA half of the device probe: lists GPUs and runs one tiny kernel on GPU 0 to prove
// that the binary's architectures match the device. Until the engine's CUDA backend lands,
// this file is what proves the CUDA build in CI (where nvcc exists but no GPU does).
#include <cuda_runtime.h>

#include <string>

#include "engine/device_probe.h"

namespace gossamer::engine {
namespace {

// out[i] = i * i for i < n: trivially checkable on the host.
__global__ void squares_kernel(int* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = i * i;
}

bool run_test_kernel() {
    constexpr int n = 256;
    int* device = nullptr;
    if (cudaMalloc(&device, n * sizeof(int)) != cudaSuccess) return false;
    squares_kernel<<<(n + 127) / 128, 128>>>(device, n);
    int host[n] = {};
    bool ok = cudaGetLastError() == cudaSuccess &&
              cudaMemcpy(host, device, sizeof(host), cudaMemcpyDeviceToHost) == cudaSuccess;
    cudaFree(device);
    for (int i = 0; ok && i < n; ++i) ok = host[i] == i * i;
    return ok;
}

}  // namespace

DeviceReport probe_cuda_devices() {
    DeviceReport report;
    report.cuda_built = true;
#ifdef GOSSAMER_CUDA_ARCHS
    report.cuda_archs = GOSSAMER_CUDA_ARCHS;
#endif
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        report.cuda_error = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(err);
        return report;
    }
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
        report.gpus.push_back({i, prop.name, prop.major, prop.minor, prop.totalGlobalMem});
    }
    if (report.gpus.empty()) {
        report.cuda_error = "no CUDA device found";
        return report;
    }
    report.kernel_ok = cudaSetDevice(0) == cudaSuccess && run_test_kernel();
    if (!report.kernel_ok) report.cuda_error = "test kernel failed on GPU 0";
    return report;
}

}  // namespace gossamer::engine
