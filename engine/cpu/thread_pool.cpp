#include "engine/cpu/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace gossamer::engine::cpu {

// A loop is published as a generation number plus an atomic chunk counter that every
// participant (the caller too) pulls from. Between loops a worker first spins on the
// generation for kSpin (a decode step runs a dozen short loops with gaps of tens of
// microseconds, and waking a sleeping thread costs about that much, more in a VM), then
// sleeps on a condition variable. The generation is bumped under the mutex, so a worker that
// checks it under the mutex before sleeping cannot miss a wake-up.
constexpr auto kSpin = std::chrono::microseconds(200);

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    std::this_thread::yield();
#endif
}

struct ThreadPool::State {
    std::mutex mutex;
    std::condition_variable wake, done;
    std::vector<std::thread> workers;
    bool stopping = false;                     // guarded by mutex
    std::atomic<unsigned long> generation{0};  // written under mutex
    std::atomic<int> active{0};                // workers still inside the current loop
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

    // Spins until `ready()` holds or kSpin passes; returns whether it held.
    template <class Ready>
    static bool spin_until(Ready ready) {
        const auto deadline = std::chrono::steady_clock::now() + kSpin;
        for (int i = 1;; ++i) {
            if (ready()) return true;
            cpu_relax();
            if (i % 64 == 0 && std::chrono::steady_clock::now() > deadline) return false;
        }
    }

    void worker() {
        unsigned long seen = 0;
        for (;;) {
            const auto published = [&] {
                return generation.load(std::memory_order_acquire) != seen;
            };
            if (!spin_until(published)) {
                std::unique_lock lock(mutex);
                wake.wait(lock, published);
            }
            {
                std::lock_guard lock(mutex);
                if (stopping) return;
                seen = generation.load(std::memory_order_acquire);
            }
            run_chunks();
            if (active.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard lock(mutex);
                done.notify_one();
            }
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
        state_->generation.fetch_add(1, std::memory_order_release);
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
        s.active.store(static_cast<int>(s.workers.size()), std::memory_order_relaxed);
        s.generation.fetch_add(1, std::memory_order_release);
    }
    s.wake.notify_all();
    s.run_chunks();
    const auto finished = [&] { return s.active.load(std::memory_order_acquire) == 0; };
    if (State::spin_until(finished)) return;
    std::unique_lock lock(s.mutex);
    s.done.wait(lock, finished);
}

}  // namespace gossamer::engine::cpu
