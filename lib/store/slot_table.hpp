// One 16-byte entry per page of the device: what is stored for it and a bit lock, as kernel
// zram's table. The table lives in the store's arena, so untouched entries cost nothing
// and start as zero (= empty, unlocked), and it outlives the process when the arena does: it is
// the single source of truth a new process rebuilds everything else from. Every change of what
// a slot holds is one 16-byte store (set_content), so a process killed at any instruction
// leaves each slot either as it was or as it became, never half of each.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "word_lock.hpp"

// ThreadSanitizer builds (gcc defines __SANITIZE_THREAD__, clang has the feature test).
#if defined(__SANITIZE_THREAD__)
#define TRUENO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TRUENO_TSAN 1
#endif
#endif

namespace trueno::store {

struct alignas(16) Slot {
    std::uint32_t flags;       // kLocked and kind bits, compressed size in the low bits
    std::uint32_t access_time; // seconds since the store was created
    std::uint64_t value;       // allocator handle, fill word (same-filled) or shared object id
};
static_assert(sizeof(Slot) == 16);

namespace slot_flags {
inline constexpr std::uint32_t kLocked = 1u << 31;
inline constexpr std::uint32_t kSame = 1u << 30;   // value is the fill word
inline constexpr std::uint32_t kHuge = 1u << 29;   // stored raw, 4096 bytes
inline constexpr std::uint32_t kIdle = 1u << 28;
inline constexpr std::uint32_t kObject = 1u << 27; // value is an allocator handle
inline constexpr std::uint32_t kSizeMask = (1u << 13) - 1;
// Which codec compressed the object: 0 = the store's algorithm, else a recompression codec
// (one per recomp algorithm generation, see RecompCodecs).
inline constexpr unsigned kCodecShift = 13;
inline constexpr std::uint32_t kCodecMask = 0x3fu << kCodecShift;
// Recompression was tried and did not shrink the object (skipped until rewritten).
inline constexpr std::uint32_t kIncompressible = 1u << 19;
// value is a SharedObjects id: a deduplicated page, or with kGroupMember a page of a
// multi-page object whose member number is in the size bits.
inline constexpr std::uint32_t kShared = 1u << 26;
inline constexpr std::uint32_t kGroupMember = 1u << 25;
// Found unusable when the store was attached (a handle outside the store, an object claimed
// twice): reads fail with EIO until the page is written or discarded again.
inline constexpr std::uint32_t kDamaged = 1u << 24;
// Written back (layout version 2): value is the object's place on the backing device
// (backing_blocks.hpp), the size bits its size; kHuge and the codec bits say how it decodes.
inline constexpr std::uint32_t kBacked = 1u << 23;
} // namespace slot_flags

// A view of the table in the arena (the store owns the memory).
class SlotTable {
public:
    SlotTable() = default;
    SlotTable(std::byte* memory, std::uint64_t count) : slots_(reinterpret_cast<Slot*>(memory)), count_(count) {}

    std::uint64_t size() const { return count_; }
    std::size_t bytes() const { return count_ * sizeof(Slot); }
    Slot& operator[](std::uint64_t index) const { return slots_[index]; }

    static std::atomic_ref<std::uint32_t> flags(Slot& slot) {
        return std::atomic_ref<std::uint32_t>(slot.flags);
    }
    // The slot's lock: a WordLock on kLocked (see word_lock.hpp for the contract; set_kind and
    // set_content keep the bit set, as it requires).
    using Lock = WordLock<slot_flags::kLocked>;
    static void lock(Slot& slot) { Lock::lock(slot.flags); }
    static bool try_lock(Slot& slot) { return Lock::try_lock(slot.flags); }
    static void unlock(Slot& slot) { Lock::unlock(slot.flags); }
    // The flag word while holding the lock (without the lock bit); set_kind keeps the lock.
    static std::uint32_t kind(Slot& slot) {
        return flags(slot).load(std::memory_order_relaxed) & ~slot_flags::kLocked;
    }
    static void set_kind(Slot& slot, std::uint32_t value) {
        flags(slot).store(value | slot_flags::kLocked, std::memory_order_relaxed);
    }
    // Replaces a locked slot's kind bits, value and access time in one 16-byte store, keeping
    // the lock. Whatever the slot will point to (an object's bytes) was written before: the
    // compiler may not sink those writes below this store, and x86 keeps stores in order.
    static void set_content(Slot& slot, std::uint32_t kind, std::uint64_t value, std::uint32_t access_time) {
        const Slot next{kind | slot_flags::kLocked, access_time, value};
        std::atomic_signal_fence(std::memory_order_release);
        // Waiters (WordLock) load and fetch_or the flags word while we hold the lock. On x86 that
        // is harmless (a locked RMW never splits a store to its cache line and writes back the
        // locked word it read), but to ThreadSanitizer a plain store racing atomic accesses is a
        // data race. Under it the store is a 16-byte atomic, so it still reports any access
        // made without the lock.
#if defined(__x86_64__) && !defined(TRUENO_TSAN)
        __m128i bits;
        std::memcpy(&bits, &next, sizeof bits);
        _mm_store_si128(reinterpret_cast<__m128i*>(&slot), bits);
#else
        unsigned __int128 bits;
        std::memcpy(&bits, &next, sizeof bits);
        __atomic_store_n(reinterpret_cast<unsigned __int128*>(&slot), bits, __ATOMIC_RELEASE);
#endif
    }

private:
    Slot* slots_ = nullptr;
    std::uint64_t count_ = 0;
};

// Holds one slot's lock for a scope.
class SlotGuard {
public:
    explicit SlotGuard(Slot& slot) : slot_(slot) { SlotTable::lock(slot_); }
    ~SlotGuard() { SlotTable::unlock(slot_); }
    SlotGuard(const SlotGuard&) = delete;
    SlotGuard& operator=(const SlotGuard&) = delete;

private:
    Slot& slot_;
};

} // namespace trueno::store
