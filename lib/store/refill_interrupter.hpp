// Cuts short the kernel's throttle of the refill thread's reclaim, for the writes waiting on it.
//
// The refill thread populates store memory by faulting it in. It is an I/O flusher, so its
// allocations carry no __GFP_FS, and when free memory falls below half the min watermarks
// the kernel throttles such a direct reclaimer in an interruptible wait of up to a second
// (throttle_direct_reclaim, mm/vmscan.c) until kswapd frees memory. Under swap pressure kswapd
// frees memory by writing to this very store, whose writes wait for the refiller: the second
// passes, the writes are refused. A signal ends that wait at once and the fault reclaims
// what the completed writes left clean (pages in the swap cache need no I/O to free).
//
// Contract:
// - The process installs a handler for the signal (a no-op, SA_RESTART) before the refill
//   thread exists; with signal 0, or with no handler (the default action ignores SIGURG),
//   nothing is interrupted.
// - The refill thread calls enter_thread() first (it records the thread and unblocks the
//   signal there) and leave_thread() last; it holds a Step (populating(true), then false)
//   around each step of populating pages.
// - interrupt_if_stalled() (any thread, lock-free) sends the signal when the refill thread
//   has been in one populating step for at least `stalled_after`, and not more often than
//   once per `stalled_after`; it returns whether it sent it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <sys/types.h>

namespace trueno::store {

class RefillInterrupter {
public:
    static constexpr std::chrono::milliseconds kStalledAfter{2};

    explicit RefillInterrupter(std::chrono::nanoseconds stalled_after = kStalledAfter)
        : stalled_after_ns_(stalled_after.count()) {}

    // Before the refill thread exists.
    void set_signal(int signal) { signal_ = signal; }
    int signal() const { return signal_; }
    void enter_thread();
    void leave_thread();
    void populating(bool now);
    // populating(true) for its lifetime: a step that throws leaves no stale start behind.
    class [[nodiscard]] Step {
    public:
        explicit Step(RefillInterrupter& owner) : owner_(owner) { owner_.populating(true); }
        ~Step() { owner_.populating(false); }
        Step(const Step&) = delete;
        Step& operator=(const Step&) = delete;

    private:
        RefillInterrupter& owner_;
    };
    bool interrupt_if_stalled();
    // Signals sent since the store was made or taken over.
    std::uint64_t interrupts() const { return interrupts_.load(std::memory_order_relaxed); }

private:
    int signal_ = 0;
    const std::int64_t stalled_after_ns_;
    pid_t pid_ = 0;
    std::atomic<pid_t> tid_{0};
    std::atomic<std::int64_t> populating_since_ns_{0}; // 0: not populating
    std::atomic<std::int64_t> last_interrupt_ns_{0};
    std::atomic<std::uint64_t> interrupts_{0};
};

} // namespace trueno::store
