// One 16-byte entry per page of the device: what is stored for it and a bit spinlock, as
// kernel zram's table. The table lives in an anonymous mapping, so untouched entries cost
// nothing and start as zero (= empty, unlocked).
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "mapped_region.hpp"
#include "trueno/result.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace trueno::store {

struct Slot {
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
} // namespace slot_flags

class SlotTable {
public:
    static Result<SlotTable> create(std::uint64_t count) {
        auto region = MappedRegion::map(count * sizeof(Slot));
        if (!region) return region.error();
        return SlotTable(std::move(region.value()), count);
    }

    std::uint64_t size() const { return count_; }
    // Faults the whole table in now (16 bytes per page, as kernel zram's table), so touching
    // an entry on the I/O path never needs new memory.
    bool populate() { return region_.populate(0, region_.size()); }
    Slot& operator[](std::uint64_t index) const {
        return reinterpret_cast<Slot*>(region_.data())[index];
    }

    static std::atomic_ref<std::uint32_t> flags(Slot& slot) {
        return std::atomic_ref<std::uint32_t>(slot.flags);
    }
    static void lock(Slot& slot) {
        auto f = flags(slot);
        for (;;) {
            if ((f.fetch_or(slot_flags::kLocked, std::memory_order_acquire) & slot_flags::kLocked) == 0)
                return;
            for (unsigned spins = 0; f.load(std::memory_order_relaxed) & slot_flags::kLocked; ++spins) {
                if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
                    _mm_pause();
#endif
                } else {
                    std::this_thread::yield(); // holder may be descheduled (2 CPUs, many threads)
                }
            }
        }
    }
    static bool try_lock(Slot& slot) {
        return (flags(slot).fetch_or(slot_flags::kLocked, std::memory_order_acquire) &
                slot_flags::kLocked) == 0;
    }
    static void unlock(Slot& slot) {
        flags(slot).fetch_and(~slot_flags::kLocked, std::memory_order_release);
    }
    // The flag word while holding the lock (without the lock bit); set_kind keeps the lock.
    static std::uint32_t kind(Slot& slot) {
        return flags(slot).load(std::memory_order_relaxed) & ~slot_flags::kLocked;
    }
    static void set_kind(Slot& slot, std::uint32_t value) {
        flags(slot).store(value | slot_flags::kLocked, std::memory_order_relaxed);
    }

private:
    SlotTable(MappedRegion region, std::uint64_t count) : region_(std::move(region)), count_(count) {}
    MappedRegion region_;
    std::uint64_t count_;
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
