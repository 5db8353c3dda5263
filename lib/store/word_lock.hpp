// A lock that is one bit of a plain 32-bit word, for the per-slot and per-shared-object locks
// that live in the store's arena (a later process may attach the arena, so the words must stay
// plain memory, accessed through std::atomic_ref).
//
// Contract:
// - The lock is the bit `Bit` of the word; the other bits belong to whoever holds the lock. The
//   holder may rewrite the whole word (even with a wider plain store, as set_content does) as
//   long as every such write keeps `Bit` set. Nobody else writes the word except by trying to
//   lock it (fetch_or of `Bit`, which changes nothing while it is held).
// - lock() acquires (memory_order_acquire), unlock() releases (memory_order_release), so what
//   the holder wrote is visible to the next holder.
// - Contended, lock() spins briefly and then sleeps on a futex (atomic_ref::wait) instead of
//   spinning or yielding: a waiter at SCHED_FIFO must not starve a holder running at SCHED_IDLE
//   (the recompressor), which only gets a CPU when the waiter gives it up.
// - Waiters are counted in a small process-local table hashed by address, not in a bit of the
//   word: a holder's whole-word store would erase such a bit and lose the wakeup. unlock()
//   makes the futex wake call only when that count says someone may sleep; uncontended, it is
//   one atomic operation and one load of a counter no one writes.
// - A bit left set by a process that died holding the lock is released by whoever takes the
//   arena over with unlock() (or a plain store of the word): waiters and their counts are
//   process-local, so none can be left from that process.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace trueno::store {

template <std::uint32_t Bit> class WordLock {
    static_assert(Bit != 0 && (Bit & (Bit - 1)) == 0, "the lock is one bit");

public:
    static void lock(std::uint32_t& word) {
        std::atomic_ref<std::uint32_t> w(word);
        if ((w.fetch_or(Bit, std::memory_order_acquire) & Bit) == 0)
            return;
        lock_contended(word);
    }
    static bool try_lock(std::uint32_t& word) {
        return (std::atomic_ref<std::uint32_t>(word).fetch_or(Bit, std::memory_order_acquire) &
                Bit) == 0;
    }
    static void unlock(std::uint32_t& word) {
        std::atomic_ref<std::uint32_t> w(word);
        // seq_cst, with the load below: either this clear comes before a waiter's check of the
        // word (it does not sleep) or the waiter's count comes before this load (we wake it).
        w.fetch_and(~Bit, std::memory_order_seq_cst);
        if (waiters(&word).load(std::memory_order_seq_cst) != 0)
            w.notify_one(); // the next holder's unlock wakes the next sleeper
    }

private:
    // Spinning longer than this only burns the CPU the holder may need (2 CPUs, many threads).
    static constexpr unsigned kSpins = 128;
    static constexpr std::size_t kWaiterBuckets = 64;

    struct alignas(64) Bucket {
        std::atomic<std::uint32_t> count{0};
    };

    // Sleepers per hash of the word's address. Collisions only cost a needless wake call.
    static std::atomic<std::uint32_t>& waiters(const std::uint32_t* word) {
        static std::array<Bucket, kWaiterBuckets> buckets;
        const auto address = reinterpret_cast<std::uintptr_t>(word);
        return buckets[((address >> 4) ^ (address >> 12)) % kWaiterBuckets].count;
    }

    static void pause() {
#if defined(__x86_64__) || defined(__i386__)
        _mm_pause();
#endif
    }

    [[gnu::noinline]] static void lock_contended(std::uint32_t& word) {
        std::atomic_ref<std::uint32_t> w(word);
        for (unsigned spins = 0; spins < kSpins; ++spins) {
            pause();
            if ((w.load(std::memory_order_relaxed) & Bit) == 0 &&
                (w.fetch_or(Bit, std::memory_order_acquire) & Bit) == 0)
                return;
        }
        auto& count = waiters(&word);
        for (;;) {
            count.fetch_add(1, std::memory_order_seq_cst);
            const std::uint32_t seen = w.load(std::memory_order_seq_cst);
            // Sleeps only while the word is still `seen` (the kernel compares): an unlock or
            // any change by the holder in between returns at once.
            if ((seen & Bit) != 0)
                w.wait(seen, std::memory_order_relaxed);
            count.fetch_sub(1, std::memory_order_relaxed);
            if ((w.fetch_or(Bit, std::memory_order_acquire) & Bit) == 0)
                return;
        }
    }
};

} // namespace trueno::store
