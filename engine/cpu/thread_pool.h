// A fixed set of worker threads for the CPU backend's data-parallel loops. The calling thread
// takes part in every loop. It must not be used from two threads at once (one pool per
// backend), and loop bodies must not throw.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace gossamer::engine::cpu {

class ThreadPool {
  public:
    // threads <= 0: one per hardware thread (std::thread::hardware_concurrency).
    explicit ThreadPool(int threads = 0);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const;  // worker count including the caller

    // Splits [0, n) into contiguous chunks of at least `grain` items and runs
    // body(begin, end) on them in parallel; returns when all are done.
    void parallel_for(std::size_t n, std::size_t grain,
                      const std::function<void(std::size_t begin, std::size_t end)>& body);

    // parallel_for over n items of about `item_work` operations each, in chunks of at least
    // kMinChunkWork operations: a small loop (a decode step's) runs on the calling thread
    // without waking anyone.
    static constexpr std::size_t kMinChunkWork = std::size_t{1} << 15;
    void parallel_for_work(std::size_t n, std::size_t item_work,
                           const std::function<void(std::size_t begin, std::size_t end)>& body) {
        const std::size_t work = item_work > 0 ? item_work : 1;
        parallel_for(n, (kMinChunkWork + work - 1) / work, body);
    }

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace gossamer::engine::cpu
