// Launchers placed in their cgroups ahead of time (launch_pool.h).
#include "sandbox/launch_pool.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#if defined(__SANITIZE_ADDRESS__)
#define GOSSAMER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GOSSAMER_ASAN 1
#endif
#endif
#ifdef GOSSAMER_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

namespace gossamer::sandbox {

// Shared by a launcher and the thread that claims it (the launcher runs in our memory).
struct LauncherSlot {
    std::uint32_t state;  // futex word: kIdle -> kGo or kStop (us), kGo -> kDone (launcher)
    pid_t parent;         // this process: a launcher whose parent changed gives up
    unsigned long flags;  // for the init's clone
    const ChildPlan* plan;
    int fds[kChildFdCount];
    long result;  // the init's pid, or -errno
    int pidfd;
    const void* stack_bottom;  // the launcher's stack, which the init runs on
    std::size_t stack_size;
};

namespace {

constexpr std::uint32_t kIdle = 0, kGo = 1, kDone = 2, kStop = 3, kCloning = 4;
constexpr std::size_t kStackBytes = 256 << 10;  // the init runs on a copy of this stack

#if defined(__x86_64__) || defined(__aarch64__)
constexpr bool kSupported = true;

// In the init: AddressSanitizer tracks the stack bounds of the thread that created the
// launcher, and this is another stack; say so, or it warns at every noreturn call (and then
// fails to map memory under the sandbox's RLIMIT_AS).
void announce_stack([[maybe_unused]] const LauncherSlot* slot) {
#ifdef GOSSAMER_ASAN
    void* fake_stack = nullptr;
    __sanitizer_start_switch_fiber(&fake_stack, slot->stack_bottom, slot->stack_size);
    __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
}

// A system call that never touches errno: a launcher shares the thread-local storage (so
// errno) of the pool thread that created it, which keeps running meanwhile.
__attribute__((no_sanitize("address", "undefined"))) long raw_syscall(long number, long a = 0,
                                                                      long b = 0, long c = 0,
                                                                      long d = 0, long e = 0,
                                                                      long f = 0) {
#if defined(__x86_64__)
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#else
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
#endif
}

__attribute__((no_sanitize("address", "undefined"))) long as_arg(const void* pointer) {
    return static_cast<long>(reinterpret_cast<std::uintptr_t>(pointer));
}

// The launcher: runs in our address space on its own stack, concurrently with our threads.
// It waits for its slot's word, clones the init (the pidfd lands in our shared descriptor
// table) and exits. Not instrumented: sanitizer runtimes keep per-thread state it shares.
__attribute__((no_sanitize("address", "undefined"))) int launcher_main(void* arg) {
    auto* slot = static_cast<LauncherSlot*>(arg);
    const std::uint64_t all_signals = ~0ull;
    raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, as_arg(&all_signals), 0, sizeof all_signals);
    raw_syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);  // dies with the pool's thread
    if (raw_syscall(SYS_getppid) != slot->parent) return 0;
    std::uint32_t state;
    while ((state = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE)) == kIdle)
        raw_syscall(SYS_futex, as_arg(&slot->state), FUTEX_WAIT_PRIVATE, kIdle);
    if (state != kGo) return 0;
    __atomic_store_n(&slot->state, kCloning, __ATOMIC_RELEASE);
    // x86-64: clone(flags, stack, parent_tid, child_tid, tls); aarch64 swaps the last two.
    // The pidfd goes to parent_tid; stack 0: the init continues on a copy of this stack.
    const long pid =
        raw_syscall(SYS_clone, static_cast<long>(slot->flags), 0, as_arg(&slot->pidfd));
    if (pid == 0) {  // the init, in a copy of our memory
        announce_stack(slot);
        child_main(*slot->plan, slot->fds);
    }
    slot->result = pid;
    __atomic_store_n(&slot->state, kDone, __ATOMIC_RELEASE);
    return 0;
}
#else
constexpr bool kSupported = false;
int launcher_main(void*) {
    return 0;
}
#endif

void wake(LauncherSlot* slot, std::uint32_t state) {
    __atomic_store_n(&slot->state, state, __ATOMIC_RELEASE);
    ::syscall(SYS_futex, &slot->state, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

void reap(pid_t pid) {
    while (::waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
    }
}

}  // namespace

bool launch_pool_supported() {
    return kSupported;
}

// ---- PooledLauncher ---------------------------------------------------------------------

PooledLauncher::~PooledLauncher() {
    if (pid_ > 0) {  // never started: let it return (or kill it if it is not listening)
        wake(slot_, kStop);
        reap(pid_);
    }
    if (mapping_) ::munmap(mapping_, mapping_size_);
    // cgroups_ (when not taken) is removed now that its only process has exited
}

std::unique_ptr<RunCgroups> PooledLauncher::take_cgroups(const Limits& limits) {
    cgroups_->apply_limits(limits);
    return std::move(cgroups_);
}

long PooledLauncher::start(const ChildPlan& plan, const int (&fds)[kChildFdCount],
                           unsigned long flags, int& pidfd) {
    slot_->plan = &plan;
    for (int k = 0; k < kChildFdCount; ++k) slot_->fds[k] = fds[k];
    slot_->flags = flags | CLONE_PARENT | CLONE_PIDFD;
    slot_->pidfd = -1;
    slot_->result = -ECHILD;
    wake(slot_, kGo);
    // The launcher exits right after its clone: once reaped, the slot holds the result
    // (and it no longer counts in a pids cgroup when the command starts).
    reap(std::exchange(pid_, -1));
    const std::uint32_t state = __atomic_load_n(&slot_->state, __ATOMIC_ACQUIRE);
    if (state == kCloning) return -EIO;  // died in its clone: an init may exist, unknown
    if (state != kDone) return -ECHILD;  // died before: nothing was cloned
    pidfd = slot_->pidfd;
    return slot_->result;
}

// ---- LaunchPool -------------------------------------------------------------------------

LaunchPool::LaunchPool(CgroupLayout layout, Options options)
    : layout_(std::move(layout)), options_(options) {
    std::string why;
    if (!kSupported)
        why = "not supported on this architecture";
    else if (options_.size == 0)
        why = "size 0";
    else if (layout_.v1_memory.empty())
        why = "no cgroup v1 memory hierarchy";
    else if (v2_usable(layout_))
        why = "cgroup v2 is delegated: clone3(CLONE_INTO_CGROUP) is used instead";
    if (!why.empty()) {
        stats_.disabled = true;
        stats_.why_disabled = why;
        return;
    }
    thread_ = std::thread([this] { refill_loop(); });
}

LaunchPool::~LaunchPool() {
    shutdown();
}

void LaunchPool::shutdown() {
    std::call_once(shutdown_once_, [this] {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        ready_cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    });
}

std::unique_ptr<PooledLauncher> LaunchPool::make_one(std::string& error) {
    std::unique_ptr<PooledLauncher> one(new PooledLauncher);
    one->cgroups_ = std::make_unique<RunCgroups>();
    if (!one->cgroups_->prepare_v1(layout_, options_.v1_pids)) {
        error = "cannot create a cgroup under " + layout_.v1_memory + ": " + std::strerror(errno);
        return nullptr;
    }
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    one->mapping_size_ = 2 * page + kStackBytes;
    void* mapping = ::mmap(nullptr, one->mapping_size_, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (mapping == MAP_FAILED) {
        error = std::string("mmap(launcher stack): ") + std::strerror(errno);
        return nullptr;
    }
    one->mapping_ = mapping;
    auto* base = static_cast<char*>(mapping);
    ::mprotect(base + page, page, PROT_NONE);  // between the slot and the stack's end
    one->slot_ = new (base)
        LauncherSlot{kIdle, ::getpid(), 0, nullptr, {}, 0, -1, base + 2 * page, kStackBytes};
    const pid_t pid = ::clone(launcher_main, base + one->mapping_size_,
                              CLONE_VM | CLONE_FILES | SIGCHLD, one->slot_);
    if (pid < 0) {
        error = std::string("clone(launcher): ") + std::strerror(errno);
        return nullptr;
    }
    one->pid_ = pid;
    // the slow part, off every launch's path; then check the kernel really placed it
    if (!one->cgroups_->attach(pid) || !one->cgroups_->holds(pid)) {
        error = "cannot move a launcher into " + one->cgroups_->dirs().front();
        return nullptr;  // the destructor stops and reaps it, then removes the cgroups
    }
    return one;
}

void LaunchPool::refill_loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (stats_.disabled || ready_.size() >= options_.size) {
            wake_.wait(lock);
            continue;
        }
        lock.unlock();
        std::string error;
        auto one = make_one(error);
        lock.lock();
        if (one) {
            ready_.push_back(std::move(one));
            ++stats_.made;
            failures_in_a_row_ = 0;
            ready_cv_.notify_all();
            continue;
        }
        ++stats_.failed;
        if (++failures_in_a_row_ >= 3) {
            stats_.disabled = true;
            stats_.why_disabled = error;
            ready_cv_.notify_all();
        } else {
            wake_.wait_for(lock, std::chrono::milliseconds(100));
        }
    }
    // The idle launchers end here, on their parent thread, before it exits.
    auto idle = std::move(ready_);
    ready_.clear();
    lock.unlock();
    idle.clear();
}

std::unique_ptr<PooledLauncher> LaunchPool::claim(bool v1_pids, const Limits& limits) {
    // The slow path makes no memory cgroup without a memory limit; neither do we.
    if (v1_pids != options_.v1_pids || !limits.memory_bytes || (v1_pids && !limits.pids))
        return nullptr;
    std::lock_guard lock(mutex_);
    if (stats_.disabled || stopping_) return nullptr;
    if (ready_.empty()) {
        ++stats_.missed;
        return nullptr;
    }
    auto one = std::move(ready_.front());
    ready_.pop_front();
    ++stats_.claimed;
    wake_.notify_all();
    return one;
}

bool LaunchPool::wait_ready(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return ready_cv_.wait_for(lock, timeout, [&] {
        return ready_.size() >= count || stats_.disabled || stopping_;
    }) && ready_.size() >= count;
}

LaunchPool::Stats LaunchPool::stats() const {
    std::lock_guard lock(mutex_);
    Stats stats = stats_;
    stats.ready = ready_.size();
    return stats;
}

std::vector<pid_t> LaunchPool::idle_pids() const {
    std::lock_guard lock(mutex_);
    std::vector<pid_t> pids;
    for (const auto& one : ready_) pids.push_back(one->pid());
    return pids;
}

LaunchPool* default_launch_pool() {
    // Destroyed at exit (static destructor): idle launchers stopped, their cgroups removed.
    static const std::unique_ptr<LaunchPool> pool = []() -> std::unique_ptr<LaunchPool> {
        const char* env = std::getenv("GOSSAMER_SANDBOX_POOL");
        if (env && std::string_view(env) == "0") return nullptr;
        const CgroupLayout layout = detect_cgroups();
        if (!kSupported || layout.v1_memory.empty() || v2_usable(layout)) return nullptr;
        return std::make_unique<LaunchPool>(layout);
    }();
    return pool.get();
}

}  // namespace gossamer::sandbox
