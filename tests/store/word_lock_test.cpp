// WordLock (the slot and shared-object lock): mutual exclusion with the holder rewriting its word,
// and waiters that sleep rather than spin while a SCHED_IDLE holder works, so it makes progress.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <ctime>
#include <thread>
#include <vector>

#include "word_lock.hpp"

namespace {

constexpr std::uint32_t kBit = 1u << 31;
using Lock = trueno::store::WordLock<kBit>;

// The lowest CPU priority this process may give a thread: SCHED_IDLE, else nice 19.
void become_idle() {
    sched_param none{};
    if (::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &none) != 0)
        (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 19);
}

std::chrono::nanoseconds thread_cpu() {
    std::timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

// Burns this thread's CPU for `cpu` (not wall time: an idle thread may wait long for a CPU).
void work(std::chrono::nanoseconds cpu) {
    const auto until = thread_cpu() + cpu;
    while (thread_cpu() < until) {
    }
}

} // namespace

TEST_CASE("word lock: waiters sleep while a SCHED_IDLE holder works, then each gets the lock",
          "[store][lock]") {
    alignas(16) std::uint32_t word = 0;
    std::atomic<bool> held{false};
    std::atomic<int> acquired{0};
    constexpr int kWaiters = 4; // more than the CPUs of a small machine
    std::vector<std::chrono::nanoseconds> waiter_cpu(kWaiters);
    std::vector<std::chrono::nanoseconds> waiter_wall(kWaiters);

    std::thread holder([&] {
        become_idle();
        Lock::lock(word);
        held.store(true);
        // Long enough for every waiter to be blocked; it needs CPU the waiters must leave it.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        work(std::chrono::milliseconds(50));
        Lock::unlock(word);
    });
    while (!held.load())
        std::this_thread::yield();
    std::vector<std::thread> waiters;
    for (int i = 0; i < kWaiters; ++i)
        waiters.emplace_back([&, i] {
            const auto wall = std::chrono::steady_clock::now();
            const auto cpu = thread_cpu();
            Lock::lock(word);
            waiter_cpu[i] = thread_cpu() - cpu;
            waiter_wall[i] = std::chrono::steady_clock::now() - wall;
            acquired.fetch_add(1);
            Lock::unlock(word);
        });
    holder.join();
    for (auto& t : waiters)
        t.join();
    CHECK(acquired.load() == kWaiters);
    for (int i = 0; i < kWaiters; ++i) {
        INFO("waiter " << i << ": " << waiter_cpu[i].count() / 1000 << " us of CPU in "
                       << waiter_wall[i].count() / 1000 << " us of waiting");
        // Spinning or yielding, it would have used its CPU for most of the wait.
        CHECK(waiter_cpu[i] < std::chrono::milliseconds(10));
    }
}

TEST_CASE("word lock: mutual exclusion with a SCHED_IDLE contender and a holder rewriting its word",
          "[store][lock]") {
    alignas(16) std::uint32_t word = 0;
    std::atomic<bool> inside{false};
    std::atomic<int> overlaps{0};
    std::uint64_t counter = 0; // plain: the lock alone orders its updates
    constexpr int kThreads = 5;
    constexpr int kRounds = 3000;
    std::atomic<int> idle_rounds{0};

    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            if (t == 0)
                become_idle();
            for (int round = 0; round < kRounds; ++round) {
                Lock::lock(word);
                if (inside.exchange(true))
                    overlaps.fetch_add(1);
                ++counter;
                // The holder's own bits change under the lock (as set_content does), the lock
                // bit kept: no waiter may be lost by it.
                std::atomic_ref<std::uint32_t>(word).store(
                    kBit | static_cast<std::uint32_t>(counter & 0xffff), std::memory_order_relaxed);
                if (round % 64 == 0)
                    work(std::chrono::microseconds(20)); // now and then a longer hold
                inside.store(false);
                Lock::unlock(word);
                if (t == 0)
                    idle_rounds.fetch_add(1);
            }
        });
    for (auto& t : threads)
        t.join();
    CHECK(overlaps.load() == 0);
    CHECK(counter == std::uint64_t{kThreads} * kRounds);
    CHECK(idle_rounds.load() == kRounds);
    CHECK((word & kBit) == 0);
    CHECK((word & 0xffff) == (counter & 0xffff));
}
