#include "size_class_allocator.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

namespace trueno::store {

namespace {

constexpr std::uint64_t kFreeSlot = std::numeric_limits<std::uint64_t>::max();
constexpr unsigned kClassShift = 56;
constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kClassShift) - 1;
constexpr std::size_t kPagesPerSegment = SizeClassAllocator::kSegmentBytes / kPageSize;
// Emptied pages stay mapped (and counted) until this many gather in a class, so a free that
// is followed by an allocation in the same place costs no syscall and no page fault.
constexpr std::size_t kMinEmptiedBeforeRelease = 4;

Handle make_handle(std::size_t class_index, std::uint64_t slot) {
    return (static_cast<std::uint64_t>(class_index) << kClassShift) | slot;
}

} // namespace

struct SizeClassAllocator::Segment {
    MappedRegion region;
    std::vector<std::uint16_t> live;   // objects touching each page
    std::vector<std::uint8_t> resident; // page touched and not given back
    std::uint64_t live_objects = 0;
};

// Segment index -> segment, in blocks made on first use, so a class of a very large device
// costs memory only for the segments it really has. Bases are read without the class lock.
class SegmentDirectory {
public:
    static constexpr std::uint64_t kBlock = 512;
    struct Entry {
        std::atomic<std::byte*> base{nullptr};
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
    std::byte* base(std::uint64_t index) const {
        return blocks_[index / kBlock].load(std::memory_order_acquire)[index % kBlock].base.load(
            std::memory_order_acquire);
    }
    // Under the class lock. Null when the block was never made.
    Entry* find(std::uint64_t index) const {
        Entry* block = blocks_[index / kBlock].load(std::memory_order_relaxed);
        return block == nullptr ? nullptr : &block[index % kBlock];
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

private:
    std::uint64_t capacity_;
    std::vector<std::atomic<Entry*>> blocks_;       // what readers see
    std::vector<std::unique_ptr<Entry[]>> owned_;   // the same blocks, owned
};

struct SizeClassAllocator::SizeClass {
    SizeClass(std::size_t object_size, std::uint64_t max_objects)
        : size(object_size), slots_per_segment(kSegmentBytes / object_size),
          directory((max_objects + slots_per_segment - 1) / slots_per_segment) {}
    Segment* segment(std::uint64_t index) const {
        auto* entry = directory.find(index);
        return entry == nullptr ? nullptr : entry->segment.get();
    }

    std::mutex lock;
    const std::size_t size;
    const std::uint64_t slots_per_segment;
    SegmentDirectory directory;
    std::vector<std::uint64_t> owners;     // per slot below top: owner, or kFreeSlot
    std::vector<std::uint64_t> free_slots; // every free slot below top; popped from the back
    std::uint64_t top = 0;                 // slots [0, top) have been handed out at some time
    std::vector<std::uint64_t> emptied;    // segment * kPagesPerSegment + page, lost last object
    std::uint64_t resident_pages = 0;
};

std::size_t SizeClassAllocator::class_count() { return kPageSize / kClassStep; }
std::size_t SizeClassAllocator::size_of_class(std::size_t class_index) {
    return (class_index + 1) * kClassStep;
}
std::size_t SizeClassAllocator::class_for_size(std::size_t size) {
    return (size + kClassStep - 1) / kClassStep - 1;
}

SizeClassAllocator::SizeClassAllocator(std::uint64_t max_objects) {
    classes_.reserve(class_count());
    for (std::size_t i = 0; i < class_count(); ++i) {
        classes_.push_back(std::make_unique<SizeClass>(size_of_class(i), max_objects));
    }
}

SizeClassAllocator::~SizeClassAllocator() = default;

bool SizeClassAllocator::reserve_pages(std::uint64_t pages) {
    std::uint64_t current = used_pages_.load(std::memory_order_relaxed);
    std::uint64_t next = 0;
    do {
        next = current + pages;
        const std::uint64_t limit = limit_pages_.load(std::memory_order_relaxed);
        if (limit != 0 && next > limit) return false;
    } while (!used_pages_.compare_exchange_weak(current, next, std::memory_order_relaxed));
    std::uint64_t peak = max_used_pages_.load(std::memory_order_relaxed);
    while (next > peak &&
           !max_used_pages_.compare_exchange_weak(peak, next, std::memory_order_relaxed)) {
    }
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
    auto& entry = cls.directory.get(index);
    auto& segment = entry.segment;
    if (!segment) {
        auto region = MappedRegion::map(kSegmentBytes);
        if (!region) return region.error();
        auto fresh = std::make_unique<Segment>();
        fresh->region = std::move(region.value());
        fresh->live.assign(kPagesPerSegment, 0);
        fresh->resident.assign(kPagesPerSegment, 0);
        entry.base.store(fresh->region.data(), std::memory_order_release);
        segment = std::move(fresh);
    }
    return segment.get();
}

std::uint64_t SizeClassAllocator::new_pages_for(const SizeClass& cls, std::uint64_t slot) const {
    const Segment& segment = *cls.segment(slot / cls.slots_per_segment);
    const std::uint64_t offset = (slot % cls.slots_per_segment) * cls.size;
    std::uint64_t pages = 0;
    for (std::uint64_t p = offset / kPageSize; p <= (offset + cls.size - 1) / kPageSize; ++p)
        pages += segment.resident[p] == 0 ? 1 : 0;
    return pages;
}

void SizeClassAllocator::place(SizeClass& cls, std::uint64_t slot, std::uint64_t owner) {
    Segment& segment = *cls.segment(slot / cls.slots_per_segment);
    const std::uint64_t offset = (slot % cls.slots_per_segment) * cls.size;
    for (std::uint64_t p = offset / kPageSize; p <= (offset + cls.size - 1) / kPageSize; ++p) {
        ++segment.live[p];
        if (segment.resident[p] == 0) {
            segment.resident[p] = 1;
            ++cls.resident_pages;
        }
    }
    ++segment.live_objects;
    cls.owners[slot] = owner;
}

void SizeClassAllocator::remove(SizeClass& cls, std::uint64_t slot) {
    const std::uint64_t index = slot / cls.slots_per_segment;
    Segment& segment = *cls.segment(index);
    const std::uint64_t offset = (slot % cls.slots_per_segment) * cls.size;
    for (std::uint64_t p = offset / kPageSize; p <= (offset + cls.size - 1) / kPageSize; ++p) {
        if (--segment.live[p] == 0) cls.emptied.push_back(index * kPagesPerSegment + p);
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
            return segment != nullptr && segment->live[p] == 0 && segment->resident[p] != 0;
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
        if (segment->region.release(first * kPageSize, (end - first) * kPageSize)) {
            for (std::uint64_t p = first; p < end; ++p) segment->resident[p] = 0;
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
    std::lock_guard guard(cls.lock);
    const bool reuse = !cls.free_slots.empty();
    const std::uint64_t slot = reuse ? cls.free_slots.back() : cls.top;
    auto segment = segment_for_slot(cls, slot);
    if (!segment) return segment.error();
    const std::uint64_t needed = new_pages_for(cls, slot);
    if (needed != 0 && !reserve_pages(needed))
        return make_error(ENOMEM, "memory limit reached");
    if (reuse) {
        cls.free_slots.pop_back();
    } else {
        cls.owners.push_back(kFreeSlot);
        ++cls.top;
    }
    place(cls, slot, owner);
    return make_handle(class_index, slot);
}

void SizeClassAllocator::free(Handle handle) {
    SizeClass& cls = *classes_[handle >> kClassShift];
    const std::uint64_t slot = handle & kSlotMask;
    std::lock_guard guard(cls.lock);
    remove(cls, slot);
    cls.free_slots.push_back(slot);
    if (cls.emptied.size() >= std::max<std::uint64_t>(kMinEmptiedBeforeRelease,
                                                      cls.resident_pages / 32))
        release_empty_pages(cls);
}

std::byte* SizeClassAllocator::address(Handle handle) const {
    const SizeClass& cls = *classes_[handle >> kClassShift];
    const std::uint64_t slot = handle & kSlotMask;
    return cls.directory.base(slot / cls.slots_per_segment) +
           (slot % cls.slots_per_segment) * cls.size;
}

std::size_t SizeClassAllocator::class_size(Handle handle) const {
    return classes_[handle >> kClassShift]->size;
}

std::uint64_t SizeClassAllocator::compact_class(SizeClass& cls, std::size_t class_index,
                                                ObjectOwners& owners) {
    std::lock_guard guard(cls.lock);
    std::vector<std::uint64_t> holes = cls.free_slots;
    std::sort(holes.begin(), holes.end());
    std::uint64_t high = cls.top; // candidates to move are below `high`
    for (std::size_t h = 0; h < holes.size(); ++h) {
        const std::uint64_t hole = holes[h];
        while (high > hole + 1 && cls.owners[high - 1] == kFreeSlot) --high;
        if (high <= hole + 1) break;
        const std::uint64_t source = --high;
        auto segment = segment_for_slot(cls, hole);
        if (!segment) break;
        const std::uint64_t needed = new_pages_for(cls, hole);
        if (needed != 0 && !reserve_pages(needed)) break;
        const std::uint64_t owner = cls.owners[source];
        const Handle from = make_handle(class_index, source);
        const Handle to = make_handle(class_index, hole);
        if (owners.try_move(owner, from, to, {address(from), cls.size}, {address(to), cls.size})) {
            place(cls, hole, owner);
            remove(cls, source);
        } else {
            unreserve_pages(needed);
            --h; // the hole stays free: try it with the next object down
        }
    }
    // Shrink the class to its highest live object and rebuild the free list lowest-last, so
    // allocation refills from the bottom.
    std::uint64_t top = cls.top;
    while (top > 0 && cls.owners[top - 1] == kFreeSlot) --top;
    cls.top = top;
    cls.owners.resize(top);
    cls.free_slots.clear();
    for (std::uint64_t s = top; s-- > 0;)
        if (cls.owners[s] == kFreeSlot) cls.free_slots.push_back(s);
    std::uint64_t released = release_empty_pages(cls);
    for (std::uint64_t s = 0; s < cls.directory.capacity(); ++s) {
        if (s % SegmentDirectory::kBlock == 0 && cls.directory.find(s) == nullptr) {
            s += SegmentDirectory::kBlock - 1; // block never made: nothing in it
            continue;
        }
        auto& entry = *cls.directory.find(s);
        auto& segment = entry.segment;
        if (segment && segment->live_objects == 0) {
            // No object lives here, so no reader can be looking: safe to unmap. Pages still
            // counted resident (emptied but below the release threshold) go with it.
            std::uint64_t resident = 0;
            for (std::uint8_t r : segment->resident) resident += r;
            cls.resident_pages -= resident;
            unreserve_pages(resident);
            released += resident;
            entry.base.store(nullptr, std::memory_order_release);
            segment.reset();
        }
    }
    return released;
}

std::uint64_t SizeClassAllocator::compact(ObjectOwners& owners) {
    std::uint64_t released = 0;
    for (std::size_t i = 0; i < classes_.size(); ++i) released += compact_class(*classes_[i], i, owners);
    pages_compacted_.fetch_add(released, std::memory_order_relaxed);
    return released;
}

void SizeClassAllocator::reset_counters() {
    pages_compacted_.store(0, std::memory_order_relaxed);
    reset_max_used_pages();
}

} // namespace trueno::store
