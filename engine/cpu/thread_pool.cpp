#include "engine/cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace gossamer::engine::cpu {

// Workers sleep on a condition variable between loops; a loop is published as a generation
// number plus an atomic chunk counter that every participant (the caller too) pulls from.
struct ThreadPool::State {
    std::mutex mutex;
    std::condition_variable wake, done;
    std::vector<std::thread> workers;
    bool stopping = false;
    unsigned long generation = 0;
    int active = 0;  // workers still inside the current loop
    const std::function<void(std::size_t, std::size_t)>* body = nullptr;
    std::size_t n = 0, chunk = 1;
    std::atomic<std::size_t> next{0};

    void run_chunks() {
        for (;;) {
            const std::size_t begin = next.fetch_add(chunk, std::memory_order_relaxed);
            if (begin >= n) return;
            (*body)(begin, std::min(n, begin + chunk));
        }
    }

    void worker() {
        unsigned long seen = 0;
        for (;;) {
            {
                std::unique_lock lock(mutex);
                wake.wait(lock, [&] { return stopping || generation != seen; });
                if (stopping) return;
                seen = generation;
            }
            run_chunks();
            std::lock_guard lock(mutex);
            if (--active == 0) done.notify_one();
        }
    }
};

ThreadPool::ThreadPool(int threads) : state_(std::make_unique<State>()) {
    int count = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
    count = std::max(count, 1);
    for (int i = 1; i < count; ++i)
        state_->workers.emplace_back([s = state_.get()] { s->worker(); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->wake.notify_all();
    for (auto& t : state_->workers) t.join();
}

int ThreadPool::size() const {
    return static_cast<int>(state_->workers.size()) + 1;
}

void ThreadPool::parallel_for(std::size_t n, std::size_t grain,
                              const std::function<void(std::size_t, std::size_t)>& body) {
    if (n == 0) return;
    grain = std::max<std::size_t>(grain, 1);
    const auto parts = static_cast<std::size_t>(size()) * 4;  // a few chunks per thread
    const std::size_t chunk = std::max(grain, (n + parts - 1) / parts);
    if (state_->workers.empty() || chunk >= n) return body(0, n);
    State& s = *state_;
    {
        std::lock_guard lock(s.mutex);
        s.body = &body;
        s.n = n;
        s.chunk = chunk;
        s.next.store(0, std::memory_order_relaxed);
        s.active = static_cast<int>(s.workers.size());
        ++s.generation;
    }
    s.wake.notify_all();
    s.run_chunks();
    std::unique_lock lock(s.mutex);
    s.done.wait(lock, [&] { return s.active == 0; });
}

}  // namespace gossamer::engine::cpu
