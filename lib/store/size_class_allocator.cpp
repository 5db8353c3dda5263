#include "size_class_allocator.hpp"
#include "page_ranges.hpp"
#include "trueno/thread_name.hpp"

#include "page_map.hpp"
#include "thread_cpu_time.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

namespace trueno::store {

namespace {

constexpr std::uint64_t kFreeSlot = std::numeric_limits<std::uint64_t>::max();
constexpr unsigned kClassShift = 56;
constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kClassShift) - 1;
constexpr std::size_t kPagesPerSegment = SizeClassAllocator::kSegmentBytes / kPageSize;
// Emptied pages stay mapped (and counted) until this many gather in a class, so a free that
// is followed by an allocation in the same place costs no syscall and no page fault.
constexpr std::size_t kMinEmptiedBeforeRelease = 4;
// Page states (page_map.hpp).
constexpr std::uint8_t kAbsent = kPageAbsent;
constexpr std::uint8_t kResident = kPageResident;
constexpr std::uint8_t kReserved = kPageReserved;
static_assert(kPagesPerSegment == PageMap::kPages);
// A class that runs dry doubles its window, up to this many times the configured one (and at
// least kMaxWindowPages), within the budget on the sum of all windows.
constexpr std::uint32_t kMaxWindowGrowth = 32;
constexpr std::uint32_t kMaxWindowPages = 256;
// A class with no miss for this many maintenance runs (of kMaintenancePeriod each: 10 s) halves
// its window, down to the configured one, and its excess reserve goes back: the reserve follows
// the write rate up and down instead of keeping a burst's size for ever.
constexpr std::uint32_t kQuietRunsBeforeShrink = 40;
// The top class (whole pages) never shrinks below this: it is where every other class borrows
// when its own reserve runs dry, so it is the emergency pool for the moment the refiller
// cannot keep up (256 KiB).
constexpr std::uint32_t kEmergencyPages = 64;
constexpr std::uint64_t kEmergencyShareOfBudget = 4;
// The refill thread's tick while writes use the reserve; with nothing to do it backs off,
// doubling up to kIdleRefillPeriod (writes that run a class's reserve half down, or dry, wake
// it at once). Waking every 2 ms whatever happened cost it more CPU than its refills did
// (measured in the VM under TCG: 500 wake-ups a second, about 7 s of a 90 s load).
constexpr auto kRefillPeriod = std::chrono::milliseconds(2);
constexpr auto kIdleRefillPeriod = std::chrono::milliseconds(64);
// Page ranges one refill of a class plans at most (the rest waits for the next pass).
constexpr std::size_t kMaxPlannedRanges = 1024;
// Pages the refiller populates before it publishes them. Under pressure one page's fault may
// wait a second in reclaim (the kernel throttles direct reclaim without __GFP_FS for up to a
// second): what it has populated by then is already there for the writes waiting.
constexpr std::uint64_t kPublishPages = 4;
// While classes that ran dry (and the top class, where they borrow) wait, each gets at most
// this many pages a turn, so one class's window does not keep the refiller from the others.
constexpr std::uint64_t kDryTurnPages = 16;
// Any class's turn when none is waiting.
constexpr std::uint64_t kTurnPages = 64;
// How long an allocation that found no populated memory waits for the refiller.
constexpr auto kMissWait = std::chrono::milliseconds(5);
// Pages one compaction of a class populates at most for its moves (256 MiB; the rest waits
// for the next compaction).
constexpr std::size_t kMaxCompactionPages = 65536;
// How many free slots an allocation looks at for one on a populated page.
constexpr std::size_t kFreeSlotsLookedAt = 16;
// How often the refill thread looks for maintenance work (moving borrowed objects back).
constexpr auto kMaintenancePeriod = std::chrono::milliseconds(250);

// The top class's window: the one pool every write can use (a whole page fits any object),
// so the one that carries writes through a refiller stalled in reclaim. Measured in the VM at
// the kernel's default watermarks: with 8 pages in every class and 64 here, writes were refused
// while 8.9 MB of reserve sat populated in classes too small for them. A quarter of the budget.
std::uint32_t emergency_pages(std::uint32_t pages_per_class, std::uint64_t budget_pages) {
    return static_cast<std::uint32_t>(
        std::max<std::uint64_t>({pages_per_class, kEmergencyPages, budget_pages / kEmergencyShareOfBudget}));
}

// Room for `needed` slots and an eighth more (at least 64), for owners and free_slots.
std::size_t grown_capacity(std::size_t needed) { return needed + std::max<std::size_t>(needed / 8, 64); }

// An empty vector whose capacity (at least `needed`) is already faulted in (written once by
// resize), so push_backs up to it neither allocate nor fault. Made outside the class lock.
template <typename T>
std::vector<T> populated_capacity(std::size_t needed) {
    std::vector<T> fresh;
    fresh.resize(needed);
    fresh.clear(); // keeps the capacity
    return fresh;
}

// The calling thread's CPU time (user and system), in microseconds.
std::uint64_t thread_cpu_us() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(thread_cpu_time()).count());
}

Handle make_handle(std::size_t class_index, std::uint64_t slot) {
    return (static_cast<std::uint64_t>(class_index) << kClassShift) | slot;
}

} // namespace

struct SizeClassAllocator::Segment {
    std::size_t offset = 0; // of its first byte in the arena
    PageMap pages;          // objects touching each page, and its state
    std::uint64_t live_objects = 0;
    // Pages that lost their last object since trim_empty_pages last walked this segment: it
    // walks only segments with some (or every segment of a class flagged trim_every_segment).
    std::uint32_t emptied_since_trim = 0;
};

// Segment index -> the segment's bookkeeping, in blocks made on first use, so a class of a
// very large device costs memory only for the segments it really has.
class SegmentDirectory {
public:
    // 64 entries (512 bytes) a block: every class of every device has one from the start.
    static constexpr std::uint64_t kBlock = 64;
    struct Entry {
        std::unique_ptr<SizeClassAllocator::Segment> segment;
    };

    explicit SegmentDirectory(std::uint64_t capacity)
        : capacity_(capacity), blocks_((capacity + kBlock - 1) / kBlock),
          owned_((capacity + kBlock - 1) / kBlock) {
        for (auto& block : blocks_) block.store(nullptr);
    }
    SegmentDirectory(const SegmentDirectory&) = delete;
    SegmentDirectory& operator=(const SegmentDirectory&) = delete;

    std::uint64_t capacity() const { return capacity_; }
    // Under the class lock. Null when the block was never made.
    Entry* find(std::uint64_t index) const {
        Entry* block = blocks_[index / kBlock].load(std::memory_order_relaxed);
        return block == nullptr ? nullptr : &block[index % kBlock];
    }
    // Installs a block made elsewhere (under the class lock, where the block is missing).
    void adopt_block(std::uint64_t index, std::unique_ptr<Entry[]> block) {
        auto& owned = owned_[index / kBlock];
        owned = std::move(block);
        blocks_[index / kBlock].store(owned.get(), std::memory_order_release);
    }
    Entry& get(std::uint64_t index) {
        auto& owned = owned_[index / kBlock];
        if (!owned) {
            owned = std::make_unique<Entry[]>(kBlock);
            blocks_[index / kBlock].store(owned.get(), std::memory_order_release);
        }
        return owned[index % kBlock];
    }
    std::size_t block_count() const { return blocks_.size(); }
    // Heap held: the block tables and the blocks made.
    std::uint64_t bytes() const {
        std::uint64_t made = 0;
        for (const auto& block : owned_) made += block ? kBlock * sizeof(Entry) : 0;
        return blocks_.size() * (sizeof(blocks_[0]) + sizeof(owned_[0])) + made;
    }

private:
    std::uint64_t capacity_;
    std::vector<std::atomic<Entry*>> blocks_;       // what readers see
    std::vector<std::unique_ptr<Entry[]>> owned_;   // the same blocks, owned
};

struct SizeClassAllocator::SizeClass {
    SizeClass(std::size_t object_size, std::size_t offset, std::uint64_t segments)
        : size(object_size), slots_per_segment(kSegmentBytes / object_size), region_offset(offset),
          directory(segments) {}
    Segment* segment(std::uint64_t index) const {
        auto* entry = directory.find(index);
        return entry == nullptr ? nullptr : entry->segment.get();
    }

    std::mutex lock;
    const std::size_t size;
    const std::uint64_t slots_per_segment;
    const std::size_t region_offset; // of segment 0 in the arena
    SegmentDirectory directory;
    std::vector<std::uint64_t> owners;     // per slot below top: owner, or kFreeSlot
    std::vector<std::uint64_t> free_slots; // every free slot below top; popped from the back
    std::uint64_t top = 0;                 // slots [0, top) have been handed out at some time
    std::vector<std::uint64_t> emptied;    // segment * kPagesPerSegment + page, lost last object
    std::uint64_t resident_pages = 0;
    // Never-fault mode: pages to keep populated beyond top, kReserved pages held, and whether
    // an allocation found nothing populated since the last refill.
    std::uint32_t window = 0;
    std::uint32_t base_window = 0; // the window it shrinks back to
    std::uint64_t reserved_pages = 0;
    bool missed = false;
    bool missed_since_trim = false; // for the window's decay (trim_empty_pages)
    // The next trim walks every segment, not only those where pages emptied: the window
    // shrank, or a take-over kept the dead process's reserve.
    bool trim_every_segment = false;
    std::uint32_t quiet_trims = 0;
};

std::size_t SizeClassAllocator::class_count() { return kPageSize / kClassStep; }
std::size_t SizeClassAllocator::size_of_class(std::size_t class_index) {
    return (class_index + 1) * kClassStep;
}
std::size_t SizeClassAllocator::class_for_size(std::size_t size) {
    return (size + kClassStep - 1) / kClassStep - 1;
}

SizeClassAllocator::SizeClassAllocator(Arena& arena, const ArenaGeometry& geometry, Counters counters)
    : arena_(arena), counters_(counters) {
    static_assert(kClassCount == kPageSize / kClassStep);
    classes_.reserve(class_count());
    for (std::size_t i = 0; i < class_count(); ++i) {
        classes_.push_back(std::make_unique<SizeClass>(size_of_class(i), geometry.class_offset[i],
                                                       geometry.class_segments[i]));
    }
}

SizeClassAllocator::~SizeClassAllocator() = default;

bool SizeClassAllocator::reserve_pages(std::uint64_t pages) {
    std::uint64_t current = used_pages_.load(std::memory_order_relaxed);
    std::uint64_t next = 0;
    do {
        next = current + pages;
        const std::uint64_t limit = counters_.limit_pages.load();
        if (limit != 0 && next > limit) return false;
    } while (!used_pages_.compare_exchange_weak(current, next, std::memory_order_relaxed));
    counters_.max_used_pages.raise_to(next);
    return true;
}

void SizeClassAllocator::unreserve_pages(std::uint64_t pages) {
    used_pages_.fetch_sub(pages, std::memory_order_relaxed);
}

Result<SizeClassAllocator::Segment*> SizeClassAllocator::segment_for_slot(SizeClass& cls,
                                                                          std::uint64_t slot) {
    const std::uint64_t index = slot / cls.slots_per_segment;
    if (index >= cls.directory.capacity())
        return make_error(ENOMEM, "size class " + std::to_string(cls.size) + " is full");
    auto& segment = cls.directory.get(index).segment;
    if (!segment) segment = make_segment(cls, index);
    return segment.get();
}

std::unique_ptr<SizeClassAllocator::Segment> SizeClassAllocator::make_segment(const SizeClass& cls,
                                                                              std::uint64_t index) const {
    auto fresh = std::make_unique<Segment>();
    fresh->offset = cls.region_offset + index * kSegmentBytes;
    return fresh;
}

std::uint64_t SizeClassAllocator::new_pages_for(const SizeClass& cls, std::uint64_t slot) const {
    const Segment& segment = *cls.segment(slot / cls.slots_per_segment);
    const std::uint64_t offset = (slot % cls.slots_per_segment) * cls.size;
    std::uint64_t pages = 0;
    for (std::uint64_t p = offset / kPageSize; p <= (offset + cls.size - 1) / kPageSize; ++p)
        pages += segment.pages.state(p) != kResident ? 1 : 0;
    return pages;
}

void SizeClassAllocator::place(SizeClass& cls, std::uint64_t slot, std::uint64_t owner) {
    Segment& segment = *cls.segment(slot / cls.slots_per_segment);
    const std::uint64_t offset = (slot % cls.slots_per_segment) * cls.size;
    for (std::uint64_t p = offset / kPageSize; p <= (offset + cls.size - 1) / kPageSize; ++p) {
        // Never-fault mode only places on populated pages, which have their chunk: making one
        // here (it allocates) is for plain mode, where faults are allowed anyway.
        segment.pages.make_chunk(p);
        ++segment.pages.live_at(p);
        std::uint8_t& state = segment.pages.state_at(p);
        if (state != kResident) {
            if (state == kReserved) {
                --cls.reserved_pages;
                reserve_pages_.fetch_sub(1, std::memory_order_relaxed);
            }
            state = kResident;
            ++cls.resident_pages;
        }
    }
    ++segment.live_objects;
    cls.owners[slot] = owner;
}

void SizeClassAllocator::remove(SizeClass& cls, std::uint64_t slot, bool note_emptied) {
    const std::uint64_t index = slot / cls.slots_per_segment;
    Segment& segment = *cls.segment(index);
    const std::uint64_t offset = (slot % cls.slots_per_segment) * cls.size;
    for (std::uint64_t p = offset / kPageSize; p <= (offset + cls.size - 1) / kPageSize; ++p) {
        if (--segment.pages.live_at(p) != 0) continue;
        ++segment.emptied_since_trim;
        if (note_emptied) cls.emptied.push_back(index * kPagesPerSegment + p);
    }
    --segment.live_objects;
    cls.owners[slot] = kFreeSlot;
}

std::uint64_t SizeClassAllocator::release_empty_pages(SizeClass& cls) {
    std::sort(cls.emptied.begin(), cls.emptied.end());
    cls.emptied.erase(std::unique(cls.emptied.begin(), cls.emptied.end()), cls.emptied.end());
    std::uint64_t released = 0;
    // Runs of adjacent empty pages go back in one madvise each.
    std::size_t i = 0;
    while (i < cls.emptied.size()) {
        const std::uint64_t id = cls.emptied[i];
        Segment* segment = cls.segment(id / kPagesPerSegment);
        std::uint64_t page = id % kPagesPerSegment;
        auto releasable = [&](std::uint64_t p) {
            return segment != nullptr && segment->pages.live(p) == 0 && segment->pages.state(p) == kResident;
        };
        if (!releasable(page)) {
            ++i;
            continue;
        }
        const std::uint64_t first = page;
        std::uint64_t end = page;
        while (i < cls.emptied.size() && cls.emptied[i] / kPagesPerSegment == id / kPagesPerSegment &&
               cls.emptied[i] % kPagesPerSegment == end && releasable(end)) {
            ++end;
            ++i;
        }
        // Pages the OS would not take back stay resident and counted: mem_used stays honest.
        if (arena_.release(segment->offset + first * kPageSize, (end - first) * kPageSize)) {
            for (std::uint64_t p = first; p < end; ++p) segment->pages.state_at(p) = kAbsent;
            released += end - first;
        }
    }
    cls.emptied.clear();
    cls.resident_pages -= released;
    unreserve_pages(released);
    return released;
}

Result<Handle> SizeClassAllocator::allocate(std::size_t size, std::uint64_t owner) {
    if (size == 0 || size > kPageSize)
        return make_error(EINVAL, "object size " + std::to_string(size) + " out of range");
    const std::size_t class_index = class_for_size(size);
    SizeClass& cls = *classes_[class_index];
    if (reserve_window_ != 0) {
        // A miss waits (bounded, without the class lock) for one refill pass: without memory
        // pressure that pass succeeds and the write goes through; under pressure the write
        // fails soon instead of faulting.
        const std::uint64_t passes = refill_passes_.load(std::memory_order_acquire);
        const std::uint64_t progress = refill_progress_.load(std::memory_order_acquire);
        Result<Handle> first = make_error(ENOMEM, "reserve empty");
        {
            std::lock_guard guard(cls.lock);
            first = allocate_populated(cls, class_index, owner);
            if (first) return first;
        }
        // A class that ran dry borrows a slot of a larger class: the whole reserve, not one
        // class's share, then takes swap writes while the refiller is itself in reclaim that
        // waits for those very writes (measured in the VM: one dry class froze the guest).
        if (auto handle = allocate_populated_above(class_index, owner)) {
            borrows_.fetch_add(1, std::memory_order_relaxed);
            return handle;
        }
        if (!refiller_.joinable()) return first;
        reserve_waits_.fetch_add(1, std::memory_order_relaxed);
        {
            std::unique_lock lock(wake_mutex_);
            refilled_.wait_for(lock, kMissWait, [&] {
                return refill_passes_.load(std::memory_order_acquire) > passes + 1 ||
                       refill_progress_.load(std::memory_order_acquire) != progress;
            });
        }
        {
            std::lock_guard guard(cls.lock);
            if (auto second = allocate_populated(cls, class_index, owner)) return second;
        }
        // The pages the refiller published may be a larger class's.
        if (auto handle = allocate_populated_above(class_index, owner)) {
            borrows_.fetch_add(1, std::memory_order_relaxed);
            return handle;
        }
        reserve_refusals_.fetch_add(1, std::memory_order_relaxed);
        return make_error(ENOMEM, "reserve empty"); // short: no heap allocation (SSO)
    }
    std::lock_guard guard(cls.lock);
    const bool reuse = !cls.free_slots.empty();
    const std::uint64_t slot = reuse ? cls.free_slots.back() : cls.top;
    auto segment = segment_for_slot(cls, slot);
    if (!segment) return segment.error();
    const std::uint64_t needed = new_pages_for(cls, slot);
    if (needed != 0 && !reserve_pages(needed))
        return make_error(ENOMEM, "limit reached"); // short: no heap allocation (SSO)
    if (reuse) {
        cls.free_slots.pop_back();
    } else {
        if (cls.owners.size() == cls.owners.capacity()) cls.owners.reserve(grown_capacity(cls.owners.size() + 1));
        cls.owners.push_back(kFreeSlot);
        ++cls.top;
    }
    place(cls, slot, owner);
    return make_handle(class_index, slot);
}

Result<Handle> SizeClassAllocator::allocate_in_own_class(std::size_t size, std::uint64_t owner) {
    if (reserve_window_ == 0) return allocate(size, owner);
    if (size == 0 || size > kPageSize)
        return make_error(EINVAL, "object size " + std::to_string(size) + " out of range");
    const std::size_t class_index = class_for_size(size);
    SizeClass& cls = *classes_[class_index];
    std::lock_guard guard(cls.lock);
    return allocate_populated(cls, class_index, owner, /*note_miss=*/false);
}

void SizeClassAllocator::free(Handle handle) {
    SizeClass& cls = *classes_[handle >> kClassShift];
    const std::uint64_t slot = handle & kSlotMask;
    std::lock_guard guard(cls.lock);
    // Never-fault mode: the page stays for reuse (compact() finds empty pages itself) and
    // free_slots has populated capacity for every slot below top.
    remove(cls, slot, reserve_window_ == 0);
    if (cls.free_slots.size() == cls.free_slots.capacity()) // plain mode only (see above)
        cls.free_slots.reserve(grown_capacity(cls.free_slots.size() + 1));
    cls.free_slots.push_back(slot);
    if (reserve_window_ != 0) return;
    if (cls.emptied.size() >= std::max<std::uint64_t>(kMinEmptiedBeforeRelease,
                                                      cls.resident_pages / 32))
        release_empty_pages(cls);
}

std::byte* SizeClassAllocator::address(Handle handle) const {
    const SizeClass& cls = *classes_[handle >> kClassShift];
    const std::uint64_t slot = handle & kSlotMask;
    return arena_.data() + cls.region_offset + (slot / cls.slots_per_segment) * kSegmentBytes +
           (slot % cls.slots_per_segment) * cls.size;
}

std::size_t SizeClassAllocator::class_size(Handle handle) const {
    return classes_[handle >> kClassShift]->size;
}

void SizeClassAllocator::plan_hole_pages(SizeClass& cls, std::span<const std::uint64_t> holes,
                                         std::vector<std::uint64_t>& planned) {
    // Under cls.lock, into planned's capacity. As the moves will go: the highest objects into
    // the lowest holes. A hole in a segment given back whole stays empty: making segments is
    // left to allocations.
    std::uint64_t high = cls.top;
    for (std::uint64_t hole : holes) {
        if (hole >= cls.top || cls.owners[hole] != kFreeSlot) continue;
        Segment* segment = cls.segment(hole / cls.slots_per_segment);
        if (segment == nullptr) continue;
        while (high > hole + 1 && cls.owners[high - 1] == kFreeSlot) --high;
        if (high <= hole + 1) return;
        --high;
        const std::uint64_t offset = (hole % cls.slots_per_segment) * cls.size;
        const std::uint64_t first_id = hole / cls.slots_per_segment * kPagesPerSegment;
        for (std::uint64_t p = offset / kPageSize; p <= (offset + cls.size - 1) / kPageSize; ++p) {
            const std::uint64_t id = first_id + p; // holes ascend: a repeat is the last one
            if (segment->pages.state(p) != kAbsent || (!planned.empty() && planned.back() == id))
                continue;
            if (!segment->pages.has_chunk(p)) continue; // no bookkeeping to mark it with: stays empty
            if (planned.size() == planned.capacity()) return;
            planned.push_back(id);
            if (reserve_window_ == 0) {
                // Plain mode: allocations may use absent pages too, so the page is claimed now
                // and populated without changing it (MADV_POPULATE_WRITE). Only compaction and
                // the refiller, both under refill_mutex_, make pages kReserved: one that is
                // still kReserved afterwards has been populated.
                segment->pages.state_at(p) = kReserved;
                ++cls.reserved_pages;
                reserve_pages_.fetch_add(1, std::memory_order_relaxed);
            }
        }
    }
}

void SizeClassAllocator::populate_planned(SizeClass& cls, std::vector<std::uint64_t>& planned,
                                          std::unique_lock<std::mutex>& guard) {
    // Called and returns with cls.lock held; drops it while the pages fault in (and maybe
    // reclaim). Never-fault mode: the pages are kAbsent, which nothing but this thread (under
    // refill_mutex_) changes and allocations skip, so writing to them is safe (as in
    // refill_class).
    const bool never_fault = reserve_window_ != 0;
    constexpr std::uint64_t kFailed = std::uint64_t{1} << 63; // page ids are far below
    guard.unlock();
    for (std::size_t i = 0; i < planned.size();) {
        std::size_t end = i + 1; // a run of adjacent pages in one segment: one call
        while (end < planned.size() && planned[end] == planned[end - 1] + 1 &&
               planned[end] / kPagesPerSegment == planned[i] / kPagesPerSegment)
            ++end;
        const std::size_t offset = cls.region_offset +
                                   planned[i] / kPagesPerSegment * kSegmentBytes +
                                   planned[i] % kPagesPerSegment * kPageSize;
        const std::size_t bytes = (end - i) * kPageSize;
        bool done = true;
        if (never_fault) arena_.touch_unused(offset, bytes);
        else done = arena_.populate(offset, bytes);
        if (!done)
            for (std::size_t k = i; k < end; ++k) planned[k] |= kFailed;
        i = end;
    }
    guard.lock();
    for (std::uint64_t id : planned) {
        const bool failed = (id & kFailed) != 0;
        id &= ~kFailed;
        Segment* segment = cls.segment(id / kPagesPerSegment); // only compaction unmaps
        std::uint8_t& state = segment->pages.state_at(id % kPagesPerSegment); // planned: has a chunk
        if (never_fault && state == kAbsent) {
            state = kReserved;
            ++cls.reserved_pages;
            reserve_pages_.fetch_add(1, std::memory_order_relaxed);
        } else if (!never_fault && failed && state == kReserved) {
            state = kAbsent; // not populated after all: no object goes there
            --cls.reserved_pages;
            reserve_pages_.fetch_sub(1, std::memory_order_relaxed);
        }
    }
}

std::uint64_t SizeClassAllocator::give_back_empty(SizeClass& cls,
                                                  std::vector<std::unique_ptr<Segment>>& retired) {
    // Under cls.lock. Whole segments without objects (their bookkeeping moved into retired's
    // capacity, freed by the caller after the lock), and runs of pages without objects: those
    // counted, and in plain mode those compaction populated and did not use. This finds every
    // empty page, so the list free() keeps is done with.
    const bool never_fault = reserve_window_ != 0;
    cls.emptied.clear();
    std::uint64_t released = 0;
    for (std::uint64_t s = 0; s < cls.directory.capacity(); ++s) {
        if (s % SegmentDirectory::kBlock == 0 && cls.directory.find(s) == nullptr) {
            s += SegmentDirectory::kBlock - 1; // block never made: nothing in it
            continue;
        }
        auto& segment = cls.directory.find(s)->segment;
        if (!segment) continue;
        if (segment->live_objects == 0 && retired.size() < retired.capacity() &&
            arena_.release(segment->offset, kSegmentBytes)) {
            // No object lives here, so no reader can be looking: the whole segment goes back.
            const std::uint64_t resident = segment->pages.count(kResident);
            const std::uint64_t reserved = segment->pages.count(kReserved);
            cls.reserved_pages -= reserved;
            reserve_pages_.fetch_sub(reserved, std::memory_order_relaxed);
            cls.resident_pages -= resident;
            unreserve_pages(resident);
            released += resident;
            retired.push_back(std::move(segment));
            continue;
        }
        auto releasable = [&](std::uint64_t p) {
            const std::uint8_t state = segment->pages.state(p);
            return segment->pages.live(p) == 0 &&
                   (state == kResident || (!never_fault && state == kReserved));
        };
        for (std::uint64_t p = 0; p < kPagesPerSegment;) {
            if (!releasable(p)) {
                ++p;
                continue;
            }
            const std::uint64_t first = p;
            while (p < kPagesPerSegment && releasable(p)) ++p;
            // Pages the OS would not take back stay resident and counted: mem_used stays honest.
            if (!arena_.release(segment->offset + first * kPageSize, (p - first) * kPageSize))
                continue;
            for (std::uint64_t q = first; q < p; ++q) {
                std::uint8_t& state = segment->pages.state_at(q);
                if (state == kResident) {
                    --cls.resident_pages;
                    unreserve_pages(1);
                    ++released;
                } else {
                    --cls.reserved_pages;
                    reserve_pages_.fetch_sub(1, std::memory_order_relaxed);
                }
                state = kAbsent;
            }
        }
    }
    return released;
}

std::uint64_t SizeClassAllocator::compact_class(SizeClass& cls, std::size_t class_index,
                                                ObjectOwners& owners) {
    // Under refill_mutex_ (compact()). I/O threads that must not fault take cls.lock too: under
    // it nothing here allocates, makes a segment or touches a page not populated. The memory
    // for the pass is made first, sized under the lock; what no longer fits (the class changed
    // meanwhile) waits for the next compaction.
    std::size_t free_count = 0;
    std::size_t segment_count = 0;
    {
        std::lock_guard guard(cls.lock);
        free_count = cls.free_slots.size();
        for (std::uint64_t s = 0; s < cls.directory.capacity(); ++s) {
            if (s % SegmentDirectory::kBlock == 0 && cls.directory.find(s) == nullptr) {
                s += SegmentDirectory::kBlock - 1; // block never made: nothing in it
                continue;
            }
            segment_count += cls.segment(s) != nullptr ? 1 : 0;
        }
    }
    std::vector<std::uint64_t> holes = populated_capacity<std::uint64_t>(free_count);
    // Pages (segment * kPagesPerSegment + page) given back under holes to be filled: populated
    // before the moves, without the lock.
    std::vector<std::uint64_t> planned =
        populated_capacity<std::uint64_t>(std::min(2 * free_count, kMaxCompactionPages));
    std::vector<std::unique_ptr<Segment>> retired; // freed after the lock (declared before it)
    retired.reserve(segment_count);

    std::unique_lock guard(cls.lock);
    // Lowest first (free_slots is lowest-last): if more came meanwhile, the highest are left out.
    for (auto it = cls.free_slots.rbegin();
         it != cls.free_slots.rend() && holes.size() < holes.capacity(); ++it)
        holes.push_back(*it);
    std::sort(holes.begin(), holes.end()); // in place: no allocation
    plan_hole_pages(cls, holes, planned);
    if (!planned.empty()) populate_planned(cls, planned, guard);

    std::uint64_t high = cls.top; // candidates to move are below `high`
    // Writers allocating in this class wait for its lock: let them in every few moves, with
    // a free list that no longer offers the holes already filled.
    constexpr unsigned kMovesPerBatch = 32;
    unsigned moves = 0;
    auto rebuild_free_slots = [&] {
        // No more free slots below top than the list held (each move fills one and frees one):
        // within its capacity.
        cls.free_slots.clear();
        for (std::uint64_t s = cls.top; s-- > 0;)
            if (cls.owners[s] == kFreeSlot) cls.free_slots.push_back(s);
    };
    for (std::size_t h = 0; h < holes.size(); ++h) {
        const std::uint64_t hole = holes[h];
        if (hole >= cls.top || cls.owners[hole] != kFreeSlot) continue; // taken meanwhile
        // On a page given back and not populated above: the object stays where it is rather
        // than fault in the copy.
        if (!populated(cls, hole)) continue;
        while (high > hole + 1 && cls.owners[high - 1] == kFreeSlot) --high;
        if (high <= hole + 1) break;
        const std::uint64_t source = --high;
        const std::uint64_t needed = new_pages_for(cls, hole);
        if (needed != 0 && !reserve_pages(needed)) break;
        const std::uint64_t owner = cls.owners[source];
        const Handle from = make_handle(class_index, source);
        const Handle to = make_handle(class_index, hole);
        if (owners.try_move(owner, from, to, {address(from), cls.size}, {address(to), cls.size})) {
            place(cls, hole, owner);
            remove(cls, source, /*note_emptied=*/false); // give_back_empty finds its pages
        } else {
            unreserve_pages(needed);
            --h; // the hole stays free: try it with the next object down
        }
        if (++moves % kMovesPerBatch == 0) {
            rebuild_free_slots();
            guard.unlock();
            guard.lock();
        }
    }
    // Shrink the class to its highest live object and rebuild the free list lowest-last, so
    // allocation refills from the bottom.
    std::uint64_t top = cls.top;
    while (top > 0 && cls.owners[top - 1] == kFreeSlot) --top;
    cls.top = top;
    cls.owners.resize(top); // smaller: keeps its capacity
    rebuild_free_slots();
    const std::uint64_t released = give_back_empty(cls, retired);
    guard.unlock(); // before the retired segments are freed
    return released;
}

std::uint64_t SizeClassAllocator::compact(ObjectOwners& owners) {
    std::lock_guard refill(refill_mutex_); // the refiller populates segments compaction may unmap
    std::uint64_t released = 0;
    for (std::size_t i = 0; i < classes_.size(); ++i) released += compact_class(*classes_[i], i, owners);
    want_refill_everywhere();
    reserve_used_.store(true, std::memory_order_relaxed); // compaction may have taken reserve
    counters_.pages_compacted.add(released);
    return released;
}

void SizeClassAllocator::enable_reserve(std::uint32_t pages_per_class, bool background,
                                        std::function<void()> thread_setup,
                                        std::uint64_t budget_pages, bool first_fill_on_thread) {
    if (pages_per_class == 0 || reserve_window_ != 0) return;
    reserve_window_ = pages_per_class;
    reserve_budget_ = budget_pages;
    std::uint64_t total = 0;
    for (auto& cls : classes_) {
        cls->base_window = cls.get() == classes_.back().get() ? emergency_pages(pages_per_class, budget_pages)
                                                               : pages_per_class;
        cls->window = cls->base_window;
        total += cls->window;
    }
    windows_total_.store(total, std::memory_order_relaxed);
    plan_ranges_ = populated_capacity<PageRange>(kMaxPlannedRanges);
    plan_segments_ = populated_capacity<std::uint64_t>(kMaxPlannedRanges);
    plan_chunks_ = populated_capacity<std::uint64_t>(kMaxPlannedRanges);
    want_refill_everywhere();
    if (background && first_fill_on_thread) {
        // The refill thread's first pass, at once. At a take-over under memory pressure the
        // first fill waited 269 s for 1080 kB (the kill-loop VM at 256 MB) while 14 MB of
        // adopted reserve sat ready and every swap request waited for the take-over.
        reserve_used_.store(true, std::memory_order_relaxed);
        wake_pending_.store(true, std::memory_order_relaxed);
    } else {
        refill_now(); // the first reserve exists before the first write
    }
    if (background)
        refiller_ = std::jthread([this, setup = std::move(thread_setup)](std::stop_token stop) {
            name_this_thread("tz-refill");
            try {
                if (setup)
                    setup();
            } catch (...) {
                failures_.note_current("the thread setup"); // it refills all the same
            }
            refill_loop(stop);
        });
}

bool SizeClassAllocator::populated(const SizeClass& cls, std::uint64_t slot) const {
    const Segment* segment = cls.segment(slot / cls.slots_per_segment);
    if (segment == nullptr) return false;
    const std::uint64_t offset = (slot % cls.slots_per_segment) * cls.size;
    for (std::uint64_t p = offset / kPageSize; p <= (offset + cls.size - 1) / kPageSize; ++p)
        if (segment->pages.state(p) == kAbsent) return false;
    return true;
}

Result<Handle> SizeClassAllocator::allocate_populated_above(std::size_t class_index,
                                                            std::uint64_t owner) {
    for (std::size_t larger = class_index + 1; larger < classes_.size(); ++larger) {
        SizeClass& cls = *classes_[larger];
        std::lock_guard guard(cls.lock);
        if (auto handle = allocate_populated(cls, larger, owner, false)) return handle;
    }
    return make_error(ENOMEM, "reserve empty");
}

Result<Handle> SizeClassAllocator::allocate_populated(SizeClass& cls, std::size_t class_index,
                                                      std::uint64_t owner, bool note_miss) {
    // Under cls.lock. Touches only populated memory: segment pages, and owners/free_slots
    // within capacity the refiller populated.
    // A free slot on a page given back is no use here; one a little further down may be.
    if (!cls.free_slots.empty() && !populated(cls, cls.free_slots.back())) {
        const std::size_t n = cls.free_slots.size();
        for (std::size_t i = n - 1; i-- > n - std::min<std::size_t>(n, kFreeSlotsLookedAt);)
            if (populated(cls, cls.free_slots[i])) {
                std::swap(cls.free_slots[i], cls.free_slots.back());
                break;
            }
    }
    bool reuse = !cls.free_slots.empty() && populated(cls, cls.free_slots.back());
    if (!reuse && (cls.owners.size() == cls.owners.capacity() || !populated(cls, cls.top))) {
        if (!note_miss) return make_error(ENOMEM, "reserve empty");
        cls.missed = true;
        cls.missed_since_trim = true;
        grow_window(cls);
        want_refill(class_index);
        reserve_misses_.fetch_add(1, std::memory_order_relaxed);
        reserve_used_.store(true, std::memory_order_relaxed);
        wake_refill();
        return make_error(ENOMEM, "reserve empty"); // short: no heap allocation (SSO)
    }
    const std::uint64_t slot = reuse ? cls.free_slots.back() : cls.top;
    const std::uint64_t needed = new_pages_for(cls, slot);
    if (needed != 0 && !reserve_pages(needed)) return make_error(ENOMEM, "limit reached"); // short: no heap allocation (SSO)
    if (reuse) {
        cls.free_slots.pop_back();
    } else {
        cls.owners.push_back(kFreeSlot);
        ++cls.top;
    }
    place(cls, slot, owner);
    want_refill(class_index);
    reserve_used_.store(true, std::memory_order_relaxed);
    if (cls.reserved_pages < cls.window / 2) wake_refill();
    return make_handle(class_index, slot);
}

void SizeClassAllocator::grow_window(SizeClass& cls) {
    if (cls.window >= std::max(cls.base_window * kMaxWindowGrowth, kMaxWindowPages)) return;
    const std::uint64_t before = windows_total_.fetch_add(cls.window, std::memory_order_relaxed);
    if (reserve_budget_ != 0 && before + cls.window > reserve_budget_) {
        windows_total_.fetch_sub(cls.window, std::memory_order_relaxed);
        return; // dry classes borrow from larger ones instead
    }
    cls.window *= 2;
}

void SizeClassAllocator::wake_refill() {
    // The lock only when the flag goes up (once per refill-thread wake-up, not per write):
    // the refill thread checks the flag under it, so this wake-up cannot fall between its check
    // and its sleep and be lost for a whole (backed-off) period. The refill thread holds it only
    // to check and to sleep, never while it faults or takes a class lock.
    if (!wake_pending_.exchange(true, std::memory_order_relaxed)) {
        std::lock_guard lock(wake_mutex_);
        wake_.notify_one();
    }
}

void SizeClassAllocator::stop_reserve() {
    if (!refiller_.joinable()) return;
    refiller_.request_stop();
    wake_.notify_all();
    refiller_.join();
}

std::uint64_t SizeClassAllocator::trim_empty_pages() {
    if (reserve_window_ == 0) return 0;
    std::lock_guard refill(refill_mutex_); // no refill plans kAbsent pages meanwhile
    std::uint64_t released = 0;
    // Capacity made before any class lock: nothing is allocated (nothing faults) under one.
    std::vector<std::pair<std::size_t, std::size_t>> ranges; // arena offset, bytes
    ranges.reserve(4096);
    for (auto& owned : classes_) {
        SizeClass& cls = *owned;
        ranges.clear();
        {
            std::lock_guard guard(cls.lock);
            shrink_quiet_window(cls);
            const bool walk_all = std::exchange(cls.trim_every_segment, false);
            // Reserve pages the refiller keeps ahead of top: [top, top + the window's slots).
            const std::uint64_t ahead_end = cls.top + (std::uint64_t{cls.window} * kPageSize + cls.size - 1) / cls.size + 1;
            for (std::uint64_t index = 0; index < cls.directory.capacity(); ++index) {
                if (index % SegmentDirectory::kBlock == 0 && cls.directory.find(index) == nullptr) {
                    index += SegmentDirectory::kBlock - 1; // block never made
                    continue;
                }
                Segment* segment = cls.segment(index);
                if (segment == nullptr) continue;
                // Nothing to do in a segment where no page emptied since the last walk, unless
                // the class's window shrank (its reserve beyond the window may be on any page).
                // Every emptied page below is made reserve or given back: the count starts again.
                if (segment->emptied_since_trim == 0 && !walk_all) continue;
                segment->emptied_since_trim = 0;
                segments_trimmed_.fetch_add(1, std::memory_order_relaxed);
                for (std::uint64_t p = 0; p < kPagesPerSegment; ++p) {
                    if (!segment->pages.has_chunk(p)) {
                        p += PageMap::kChunkPages - 1; // no chunk: every page absent
                        continue;
                    }
                    if (segment->pages.live(p) != 0 || segment->pages.state(p) == kAbsent) continue;
                    const std::size_t offset = segment->offset + p * kPageSize;
                    const bool extends = !ranges.empty() && ranges.back().first + ranges.back().second == offset;
                    const bool room = extends || ranges.size() < ranges.capacity();
                    std::uint8_t& state = segment->pages.state_at(p); // not absent: has a chunk
                    if (state == kReserved) {
                        // Reserve beyond the window (it shrank, or pages emptied into it) goes
                        // back, except the pages the refiller would populate again at once.
                        const std::uint64_t first_slot = index * cls.slots_per_segment + p * kPageSize / cls.size;
                        const bool ahead = first_slot + 1 >= cls.top && first_slot < ahead_end;
                        if (cls.reserved_pages <= cls.window || ahead || !room) continue;
                        --cls.reserved_pages;
                        reserve_pages_.fetch_sub(1, std::memory_order_relaxed);
                    } else {
                        --cls.resident_pages;
                        unreserve_pages(1);
                        if (cls.reserved_pages < cls.window || !room) {
                            // Kept populated for the next objects, no longer counted as used.
                            state = kReserved;
                            ++cls.reserved_pages;
                            reserve_pages_.fetch_add(1, std::memory_order_relaxed);
                            continue;
                        }
                    }
                    // Marked absent first: no allocation uses it while it goes back.
                    state = kAbsent;
                    if (extends) ranges.back().second += kPageSize;
                    else ranges.emplace_back(offset, kPageSize);
                }
            }
        }
        for (const auto& [offset, bytes] : ranges) {
            if (arena_.release(offset, bytes)) released += bytes / kPageSize;
        }
    }
    counters_.pages_compacted.add(released);
    return released;
}

void SizeClassAllocator::shrink_quiet_window(SizeClass& cls) {
    if (cls.missed_since_trim) {
        cls.missed_since_trim = false;
        cls.quiet_trims = 0;
        return;
    }
    if (cls.window <= cls.base_window || ++cls.quiet_trims < kQuietRunsBeforeShrink) return;
    cls.quiet_trims = 0;
    const std::uint32_t smaller = std::max(cls.base_window, cls.window / 2);
    windows_total_.fetch_sub(cls.window - smaller, std::memory_order_relaxed);
    cls.window = smaller;
    cls.trim_every_segment = true; // the reserve now beyond the window goes back
}

void SizeClassAllocator::refill_loop(std::stop_token stop) noexcept {
    auto last_maintenance = std::chrono::steady_clock::now();
    std::uint64_t misses_then = reserve_misses();
    std::chrono::milliseconds period = kRefillPeriod;
    while (!stop.stop_requested()) {
        // Nothing thrown may leave this thread (std::terminate would take the daemon holding
        // the machine's swap with it): a pass that fails (memory exhausted, most likely) is
        // counted and tried again on the next period.
        try {
            std::unique_lock lock(wake_mutex_);
            wake_.wait_for(lock, stop, period, [this] { return wake_pending_.load(std::memory_order_relaxed); });
        } catch (...) {
            failures_.note_current("waiting for work");
        }
        wake_pending_.store(false, std::memory_order_relaxed);
        // An idle store costs a flag check per period, not a walk over every class.
        const bool used = !stop.stop_requested() && reserve_used_.exchange(false, std::memory_order_relaxed);
        period = used ? kRefillPeriod : std::min(period * 2, kIdleRefillPeriod);
        if (used) {
            const std::uint64_t cpu = thread_cpu_us();
            try {
                refill_now();
            } catch (...) {
                failures_.note_current("a refill pass");
                reserve_used_.store(true, std::memory_order_relaxed); // again next period
            }
            refill_runs_.fetch_add(1, std::memory_order_relaxed);
            refill_cpu_us_.fetch_add(thread_cpu_us() - cpu, std::memory_order_relaxed);
        }
        // Maintenance only while writes find the reserve ready: no miss since the last run.
        const auto now = std::chrono::steady_clock::now();
        if (maintenance_ && !stop.stop_requested() && now - last_maintenance >= kMaintenancePeriod) {
            last_maintenance = now;
            const std::uint64_t misses = reserve_misses();
            if (misses == misses_then) {
                const std::uint64_t cpu = thread_cpu_us();
                try {
                    maintenance_();
                } catch (...) {
                    failures_.note_current("maintenance"); // runs again next maintenance period
                }
                maintenance_cpu_us_.fetch_add(thread_cpu_us() - cpu, std::memory_order_relaxed);
            }
            misses_then = misses;
        }
        {
            // Waiting allocations look again even after a failed pass (and fail fast).
            std::lock_guard lock(wake_mutex_);
            refill_passes_.fetch_add(1, std::memory_order_release);
        }
        refilled_.notify_all();
    }
}

void SizeClassAllocator::refill_now() {
    std::lock_guard refill(refill_mutex_);
    // Under pressure each page the refiller takes may wait in reclaim, so the classes writes
    // wait for come first. Turns of a few pages each, published as they come: the top class first (every class
    // borrows there, and only there for a whole page), then the dry ones, then the rest; again
    // from the top until every window is full, so a class that runs dry meanwhile is served
    // within a turn, not after every other class's window.
    // Only classes an allocation, a miss or a compaction marked since their last visit are
    // visited: a pass that walked all 256 classes' locks every refill period cost the refill
    // thread more CPU than compression cost a queue thread (measured in the VM under TCG).
    const std::size_t top = classes_.size() - 1;
    auto turn = [&](std::size_t index, std::uint64_t pages) {
        if (!take_refill_wanted(index)) return false;
        class_visits_.fetch_add(1, std::memory_order_relaxed);
        const bool truncated = refill_class(*classes_[index], pages);
        if (truncated) want_refill(index); // the rest at its next turn
        return truncated;
    };
    for (bool more = true; more;) {
        more = turn(top, kDryTurnPages);
        for_each_refill_wanted([&](std::size_t index) {
            bool dry = false;
            {
                std::lock_guard guard(classes_[index]->lock);
                dry = classes_[index]->missed;
            }
            if (dry) more = turn(index, kDryTurnPages) || more;
        });
        for_each_refill_wanted([&](std::size_t index) { more = turn(index, kTurnPages) || more; });
    }
}

void SizeClassAllocator::want_refill(std::size_t class_index) {
    refill_wanted_[class_index / 64].fetch_or(std::uint64_t{1} << (class_index % 64), std::memory_order_relaxed);
}

void SizeClassAllocator::want_refill_everywhere() {
    for (std::size_t i = 0; i < classes_.size(); ++i) want_refill(i);
}

bool SizeClassAllocator::take_refill_wanted(std::size_t class_index) {
    // Cleared before the class is looked at: an allocation after this marks it again.
    const std::uint64_t bit = std::uint64_t{1} << (class_index % 64);
    return (refill_wanted_[class_index / 64].fetch_and(~bit, std::memory_order_relaxed) & bit) != 0;
}

template <typename Visit>
void SizeClassAllocator::for_each_refill_wanted(Visit&& visit) {
    for (std::size_t word = 0; word < refill_wanted_.size(); ++word) {
        std::uint64_t bits = refill_wanted_[word].load(std::memory_order_relaxed);
        while (bits != 0) {
            const auto bit = static_cast<std::size_t>(std::countr_zero(bits));
            bits &= bits - 1;
            visit(word * 64 + bit);
        }
    }
}

bool SizeClassAllocator::refill_class(SizeClass& cls, std::uint64_t page_limit) {
    // Plan under the lock, take memory (which may fault and reclaim) without it, publish under
    // it again. Only this thread turns kAbsent pages into anything while the plan is out, and
    // allocations never use kAbsent pages, so the plan stays valid.
    using Range = PageRange;
    // Planned into capacity made before the lock (no allocation under it: a fault there would
    // reclaim with the class lock held, while the swap writes reclaim makes need that lock).
    auto needs_refill = [&] {
        const bool ready = (!cls.free_slots.empty() && populated(cls, cls.free_slots.back())) ||
                           (cls.owners.capacity() > cls.top && populated(cls, cls.top));
        return !ready || cls.missed || cls.reserved_pages < cls.window || cls.owners.capacity() <= cls.top ||
               cls.free_slots.capacity() < cls.owners.capacity();
    };
    {
        std::lock_guard guard(cls.lock);
        if (!needs_refill()) return false;
    }
    // The plan's vectors are the refiller's own (refill_mutex_ is held), made once: a pass
    // visits every class, and under pressure most of them plan something.
    std::vector<Range>& ranges = plan_ranges_;
    std::vector<std::uint64_t>& missing_segments = plan_segments_;
    ranges.clear();
    missing_segments.clear();
    // Page-map chunks of existing segments that planned pages lack (segment * chunks + chunk).
    std::vector<std::uint64_t>& missing_chunks = plan_chunks_;
    missing_chunks.clear();
    auto note_missing_chunk = [&](std::uint64_t index, std::uint64_t page) {
        const std::uint64_t key = index * PageMap::kChunks + page / PageMap::kChunkPages;
        if (std::find(missing_chunks.begin(), missing_chunks.end(), key) == missing_chunks.end() &&
            missing_chunks.size() < missing_chunks.capacity())
            missing_chunks.push_back(key);
    };
    std::size_t slots_wanted = 0;
    {
        std::lock_guard guard(cls.lock);
        if (!needs_refill()) return false;
        cls.missed = false;
        const std::uint64_t window_slots =
            (std::uint64_t{cls.window} * kPageSize + cls.size - 1) / cls.size + 1;
        auto want_slot_range = [&](std::uint64_t first, std::uint64_t count) {
            for (std::uint64_t slot = first; slot < first + count;) {
                const std::uint64_t index = slot / cls.slots_per_segment;
                if (index >= cls.directory.capacity()) return;
                const std::uint64_t last = std::min(first + count, (index + 1) * cls.slots_per_segment) - 1;
                const std::uint64_t from = (slot % cls.slots_per_segment) * cls.size / kPageSize;
                const std::uint64_t to = ((last % cls.slots_per_segment) * cls.size + cls.size - 1) / kPageSize + 1;
                const Segment* segment = cls.segment(index);
                auto plan = [&](Range range) {
                    if (ranges.size() < ranges.capacity()) ranges.push_back(range);
                };
                if (segment == nullptr) {
                    if (std::find(missing_segments.begin(), missing_segments.end(), index) ==
                            missing_segments.end() &&
                        missing_segments.size() < missing_segments.capacity())
                        missing_segments.push_back(index);
                    plan({index, from, to});
                } else {
                    for (std::uint64_t p = from; p < to; ++p) {
                        if (segment->pages.state(p) != kAbsent) continue;
                        if (!segment->pages.has_chunk(p)) note_missing_chunk(index, p);
                        plan({index, p, p + 1});
                    }
                }
                slot = last + 1;
            }
        };
        want_slot_range(cls.top, window_slots);
        // Free slots on pages given back (by compaction) get their pages again.
        const std::size_t n = cls.free_slots.size();
        for (std::size_t i = n - std::min<std::size_t>(n, window_slots); i < n; ++i)
            if (!populated(cls, cls.free_slots[i])) want_slot_range(cls.free_slots[i], 1);
        slots_wanted = cls.top + window_slots;
        if (cls.owners.capacity() >= slots_wanted && cls.free_slots.capacity() >= cls.owners.capacity())
            slots_wanted = 0;
    }
    // Each page once: pages are published as they are populated, and populating one again
    // would write over an object placed on it meanwhile (page_ranges.hpp).
    merge_page_ranges(ranges);

    // At most page_limit pages this turn: what is left is planned again at the next.
    bool truncated = false;
    if (page_limit != 0) {
        std::uint64_t pages = 0;
        std::size_t keep = 0;
        for (; keep < ranges.size() && pages < page_limit; ++keep) {
            const std::uint64_t n = ranges[keep].end_page - ranges[keep].first_page;
            if (pages + n > page_limit) ranges[keep].end_page = ranges[keep].first_page + (page_limit - pages);
            pages += ranges[keep].end_page - ranges[keep].first_page;
        }
        truncated = keep < ranges.size() || pages >= page_limit;
        ranges.resize(keep); // smaller: no allocation
    }

    // Segments and metadata made ahead, outside the lock.
    std::vector<std::pair<std::uint64_t, std::unique_ptr<Segment>>> fresh_segments;
    std::vector<std::unique_ptr<SegmentDirectory::Entry[]>> fresh_blocks;
    for (std::uint64_t index : missing_segments) {
        fresh_segments.emplace_back(index, make_segment(cls, index));
        fresh_blocks.push_back(std::make_unique<SegmentDirectory::Entry[]>(SegmentDirectory::kBlock));
    }
    // Page-map chunks too: a fresh segment is this thread's alone until published; an existing
    // one gets chunks made here and installed under the lock.
    for (const Range& range : ranges)
        for (auto& [i, segment] : fresh_segments)
            if (i == range.segment)
                for (std::uint64_t p = range.first_page; p < range.end_page; ++p) segment->pages.make_chunk(p);
    std::vector<std::unique_ptr<PageMap::Chunk>> fresh_chunks;
    fresh_chunks.reserve(missing_chunks.size());
    for (std::size_t k = 0; k < missing_chunks.size(); ++k) fresh_chunks.push_back(std::make_unique<PageMap::Chunk>());
    std::vector<std::uint64_t> owners;
    std::vector<std::uint64_t> free_slots;
    if (slots_wanted != 0) {
        // An eighth more than wanted, not double: the two vectors take 16 bytes a slot, most of
        // the heap a store takes, and a copy every eighth of a class's growth costs little.
        // Only the one that is short grows: free_slots follows owners' capacity.
        const std::size_t capacity = cls.owners.capacity() >= slots_wanted ? cls.owners.capacity()
                                                                           : grown_capacity(slots_wanted);
        if (capacity > cls.owners.capacity()) owners = populated_capacity<std::uint64_t>(capacity);
        if (capacity > cls.free_slots.capacity()) free_slots = populated_capacity<std::uint64_t>(capacity);
    }
    // Segments, chunks and vectors go in first (no page of theirs is usable yet: the planned
    // pages are kAbsent); the old vectors, swapped into the locals, are freed after the lock.
    {
        std::lock_guard guard(cls.lock);
        for (auto& [index, segment] : fresh_segments) {
            if (cls.directory.find(index) == nullptr) {
                // Block made here with memory taken outside the lock; get() then finds it.
                cls.directory.adopt_block(index, std::move(fresh_blocks.back()));
                fresh_blocks.pop_back();
            }
            auto& entry = cls.directory.get(index);
            if (!entry.segment) entry.segment = std::move(segment);
        }
        for (std::size_t k = 0; k < missing_chunks.size(); ++k) {
            Segment* segment = cls.segment(missing_chunks[k] / PageMap::kChunks);
            if (segment != nullptr)
                segment->pages.adopt_chunk(missing_chunks[k] % PageMap::kChunks * PageMap::kChunkPages,
                                           fresh_chunks[k]);
        }
        if (owners.capacity() > cls.owners.capacity()) {
            owners.assign(cls.owners.begin(), cls.owners.end());
            cls.owners.swap(owners);
        }
        if (free_slots.capacity() > cls.free_slots.capacity()) {
            free_slots.assign(cls.free_slots.begin(), cls.free_slots.end());
            cls.free_slots.swap(free_slots);
        }
    }
    // Then the pages, published a few at a time: under pressure one fault may wait a second.
    // Segments are stable meanwhile: only compaction unmaps, and it holds refill_mutex_.
    auto publish = [&](Segment& segment, std::uint64_t first, std::uint64_t end) {
        std::uint64_t reserved = 0;
        {
            std::lock_guard guard(cls.lock);
            for (std::uint64_t p = first; p < end; ++p) {
                if (!segment.pages.has_chunk(p)) continue; // its chunk could not be made: not marked
                std::uint8_t& state = segment.pages.state_at(p);
                if (state == kAbsent) {
                    state = kReserved;
                    ++reserved;
                }
            }
            cls.reserved_pages += reserved;
        }
        if (reserved == 0) return;
        reserve_pages_.fetch_add(reserved, std::memory_order_relaxed);
        note_refill_progress();
        if (publish_observer_) publish_observer_();
    };
    const auto populating = std::chrono::steady_clock::now();
    std::uint64_t touched = 0;
    for (const Range& range : ranges) {
        Segment* segment = cls.segment(range.segment);
        if (segment == nullptr) continue;
        for (std::uint64_t first = range.first_page; first < range.end_page; first += kPublishPages) {
            const std::uint64_t end = std::min(range.end_page, first + kPublishPages);
            // These pages are kAbsent: no object is on them and allocations skip them, so
            // writing to them is safe (see MappedRegion::touch_unused for why not madvise).
            arena_.touch_unused(segment->offset + first * kPageSize, (end - first) * kPageSize);
            touched += end - first;
            publish(*segment, first, end);
        }
    }
    if (touched != 0) {
        const auto us = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                        std::chrono::steady_clock::now() - populating)
                                                        .count());
        refilled_pages_.fetch_add(touched, std::memory_order_relaxed);
        refill_busy_us_.fetch_add(us, std::memory_order_relaxed);
        if (us > slowest_refill_us_.load(std::memory_order_relaxed))
            slowest_refill_us_.store(us, std::memory_order_relaxed); // one writer: refill_mutex_ is held
    }
    return truncated;
}

void SizeClassAllocator::note_refill_progress() {
    {
        std::lock_guard lock(wake_mutex_); // a waiter between its check and its sleep sees it
        refill_progress_.fetch_add(1, std::memory_order_release);
    }
    refilled_.notify_all();
}

StoreBookkeeping SizeClassAllocator::bookkeeping() const {
    StoreBookkeeping report;
    for (const auto& owned : classes_) {
        SizeClass& cls = *owned;
        std::lock_guard guard(cls.lock);
        for (std::uint64_t index = 0; index < cls.directory.capacity(); ++index) {
            const Segment* segment = cls.segment(index);
            if (segment == nullptr) continue;
            ++report.segments;
            report.page_map_bytes += sizeof(Segment) + segment->pages.bytes();
        }
        report.owner_bytes += cls.owners.capacity() * sizeof(cls.owners[0]);
        report.free_list_bytes += (cls.free_slots.capacity() + cls.emptied.capacity()) * sizeof(std::uint64_t);
        report.directory_bytes += cls.directory.bytes();
    }
    return report;
}

void SizeClassAllocator::reset_counters() {
    counters_.pages_compacted.store(0);
    reset_max_used_pages();
}

bool SizeClassAllocator::valid(Handle handle) const {
    const std::size_t class_index = handle >> kClassShift;
    if (class_index >= classes_.size()) return false;
    const SizeClass& cls = *classes_[class_index];
    return (handle & kSlotMask) / cls.slots_per_segment < cls.directory.capacity();
}

Status SizeClassAllocator::adopt(Handle handle, std::uint64_t owner) {
    if (!valid(handle) || owner == kFreeSlot) return make_error(EINVAL, "handle outside the store");
    SizeClass& cls = *classes_[handle >> kClassShift];
    const std::uint64_t slot = handle & kSlotMask;
    std::lock_guard guard(cls.lock);
    if (slot < cls.owners.size() && cls.owners[slot] != kFreeSlot)
        return make_error(EEXIST, "object claimed twice");
    auto segment = segment_for_slot(cls, slot);
    if (!segment) return segment.error();
    if (slot >= cls.owners.size()) {
        if (slot >= cls.owners.capacity()) cls.owners.reserve(grown_capacity(slot + 1));
        cls.owners.resize(slot + 1, kFreeSlot);
    }
    cls.top = std::max(cls.top, slot + 1);
    // Counted by finish_adoption(), once per page.
    Segment& s = **segment;
    const std::uint64_t offset = (slot % cls.slots_per_segment) * cls.size;
    for (std::uint64_t p = offset / kPageSize; p <= (offset + cls.size - 1) / kPageSize; ++p) {
        s.pages.make_chunk(p);
        ++s.pages.live_at(p);
    }
    ++s.live_objects;
    cls.owners[slot] = owner;
    return {};
}

void SizeClassAllocator::finish_adoption(bool keep_populated) {
    std::uint64_t used = 0;
    std::uint64_t kept = 0;
    std::vector<unsigned char> in_core(kPagesPerSegment); // mincore's answer for one segment
    for (auto& owned : classes_) {
        SizeClass& cls = *owned;
        std::lock_guard guard(cls.lock);
        cls.trim_every_segment = true; // what exceeds the windows of the dead process's reserve
        cls.free_slots.clear();
        cls.free_slots.reserve(cls.owners.capacity()); // as the refiller keeps it: every slot may be freed
        for (std::uint64_t s = cls.top; s-- > 0;)
            if (cls.owners[s] == kFreeSlot) cls.free_slots.push_back(s); // lowest last
        // Pages that hold an object stay (and are counted). With keep_populated, so do empty
        // pages of the class's segments that are resident: the dead process's reserve and the
        // pages it emptied, now this process's reserve (trim_empty_pages gives back what
        // exceeds the windows once writes no longer find the reserve dry). A daemon restarted
        // under memory pressure must not give that memory back only to ask for it again at
        // once: the writes that waited for it arrive all together and need it. Everything else
        // in the class's region goes back (a half-written page is harmless either way: no
        // object refers to it).
        std::uint64_t gap_start = 0; // arena page index relative to the region
        auto release_to = [&](std::uint64_t end) {
            if (end > gap_start) arena_.release(cls.region_offset + gap_start * kPageSize, (end - gap_start) * kPageSize);
        };
        // A class with no object left may still have the dead process's reserve at its start.
        if (keep_populated && cls.segment(0) == nullptr &&
            ::mincore(arena_.data() + cls.region_offset, kSegmentBytes, in_core.data()) == 0 &&
            std::any_of(in_core.begin(), in_core.end(), [](unsigned char c) { return (c & 1) != 0; }))
            (void)segment_for_slot(cls, 0);
        for (std::uint64_t index = 0; index < cls.directory.capacity(); ++index) {
            Segment* segment = cls.segment(index);
            if (segment == nullptr) continue;
            const bool probed = keep_populated &&
                                ::mincore(arena_.data() + segment->offset, kSegmentBytes, in_core.data()) == 0;
            for (std::uint64_t p = 0; p < kPagesPerSegment; ++p) {
                const bool object = segment->pages.live(p) != 0;
                if (!object && !(probed && (in_core[p] & 1))) continue;
                const std::uint64_t page = index * kPagesPerSegment + p;
                release_to(page);
                gap_start = page + 1;
                segment->pages.make_chunk(p); // taking over: allocating is allowed here
                if (object) {
                    segment->pages.state_at(p) = kResident;
                    ++cls.resident_pages;
                    ++used;
                } else {
                    segment->pages.state_at(p) = kReserved;
                    ++cls.reserved_pages;
                    ++kept;
                }
            }
        }
        release_to(cls.directory.capacity() * kPagesPerSegment);
    }
    used_pages_.store(used, std::memory_order_relaxed);
    reserve_pages_.store(kept, std::memory_order_relaxed);
    counters_.max_used_pages.raise_to(used);
}

} // namespace trueno::store
