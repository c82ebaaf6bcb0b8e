// An owned device allocation (cudaMalloc / cudaFree) of `count` elements of T. Moves only;
// grow() reallocates without keeping the contents (scratch buffers).
#pragma once

#include <cstddef>
#include <utility>

#include "engine/cuda/cuda_check.h"

namespace gossamer::engine::cuda {

template <typename T>
class DeviceBuffer {
  public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t count) { grow(count); }
    ~DeviceBuffer() { reset(); }
    DeviceBuffer(DeviceBuffer&& other) noexcept
        : ptr_(std::exchange(other.ptr_, nullptr)), count_(std::exchange(other.count_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
        if (this != &other) {
            reset();
            ptr_ = std::exchange(other.ptr_, nullptr);
            count_ = std::exchange(other.count_, 0);
        }
        return *this;
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    // Ensures room for `count` elements; contents are undefined after a reallocation.
    void grow(std::size_t count) {
        if (count <= count_) return;
        reset();
        void* p = nullptr;
        CUDA_CHECK(cudaMalloc(&p, count * sizeof(T)));
        ptr_ = static_cast<T*>(p);
        count_ = count;
    }
    void reset() {
        if (ptr_) cudaFree(ptr_);  // errors here are from earlier work; nothing to do
        ptr_ = nullptr;
        count_ = 0;
    }
    T* get() const { return ptr_; }
    std::size_t size() const { return count_; }
    std::size_t bytes() const { return count_ * sizeof(T); }

  private:
    T* ptr_ = nullptr;
    std::size_t count_ = 0;
};

}  // namespace gossamer::engine::cuda
