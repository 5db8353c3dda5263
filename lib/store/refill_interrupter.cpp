#include "refill_interrupter.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

namespace trueno::store {

namespace {

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

void RefillInterrupter::enter_thread() {
    if (signal_ == 0)
        return;
    // Threads inherit their creator's mask: a blocked signal would stay pending and wake
    // nothing.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal_);
    if (pthread_sigmask(SIG_UNBLOCK, &set, nullptr) != 0)
        return;
    pid_ = ::getpid();
    tid_.store(::gettid(), std::memory_order_release);
}

void RefillInterrupter::leave_thread() {
    // A signal sent after this reaches at worst another thread of this process reusing the
    // id, whose handler does nothing.
    tid_.store(0, std::memory_order_release);
}

void RefillInterrupter::populating(bool now) {
    populating_since_ns_.store(now ? now_ns() : 0, std::memory_order_relaxed);
}

bool RefillInterrupter::interrupt_if_stalled() {
    const pid_t tid = tid_.load(std::memory_order_acquire);
    if (tid == 0)
        return false;
    const std::int64_t since = populating_since_ns_.load(std::memory_order_relaxed);
    if (since == 0)
        return false;
    const std::int64_t now = now_ns();
    if (now - since < stalled_after_ns_)
        return false;
    std::int64_t last = last_interrupt_ns_.load(std::memory_order_relaxed);
    if (now - last < stalled_after_ns_)
        return false;
    // One of the waiting writers sends it.
    if (!last_interrupt_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed))
        return false;
    if (::tgkill(pid_, tid, signal_) != 0)
        return false;
    interrupts_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

} // namespace trueno::store
