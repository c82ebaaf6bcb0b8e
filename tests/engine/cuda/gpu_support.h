// Helpers of the CUDA GPU tests: device arrays filled from host vectors, NaN-poisoned outputs
// (an element a kernel fails to write stays NaN and fails every comparison), comparisons.
#pragma once

#include <cuda_runtime.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/cuda/cuda_check.h"

namespace gossamer::test::gpu {

template <typename T>
struct Dev {
    T* ptr = nullptr;
    std::size_t n = 0;
    explicit Dev(std::size_t count) : n(count) {
        CUDA_CHECK(cudaMalloc(&ptr, count * sizeof(T)));
        CUDA_CHECK(cudaMemset(ptr, 0xff, count * sizeof(T)));  // poison: NaN for floats
    }
    explicit Dev(const std::vector<T>& host) : Dev(host.size()) {
        CUDA_CHECK(cudaMemcpy(ptr, host.data(), n * sizeof(T), cudaMemcpyHostToDevice));
    }
    ~Dev() { cudaFree(ptr); }
    Dev(const Dev&) = delete;
    Dev& operator=(const Dev&) = delete;
    std::vector<T> get() const {
        CUDA_CHECK(cudaDeviceSynchronize());
        std::vector<T> host(n);
        CUDA_CHECK(cudaMemcpy(host.data(), ptr, n * sizeof(T), cudaMemcpyDeviceToHost));
        return host;
    }
};

inline std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-scale, scale);
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
}

// max |a - b| / (1 + |b|); NaN anywhere gives +inf.
inline float max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    float worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const float d = std::fabs(a[i] - b[i]) / (1.0f + std::fabs(b[i]));
        if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
    }
    return worst;
}

}  // namespace gossamer::test::gpu
