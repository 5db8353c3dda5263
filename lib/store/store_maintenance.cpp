// What the refill thread does for the store while writes find the reserve ready: under
// pressure a write whose size class had no populated room took a slot of a larger class (the
// whole reserve then serves swap writes, see SizeClassAllocator::allocate); once memory allows,
// each such object moves back to its own class, and the pages the larger classes no longer
// need stop counting in mem_used_total. Kernel zram's zsmalloc has no such detour: its
// objects always sit in their own class.
#include <cstring>

#include "compressed_page_store.hpp"

namespace trueno::store {

namespace {

// Slots looked at per maintenance run: the scan goes on from where it stopped, so a large
// device is covered over several runs without holding the refill thread for long.
constexpr std::uint64_t kScanPerRun = 1 << 16;
constexpr std::uint64_t kMovesPerRun = 4096;

} // namespace

bool CompressedPageStore::borrowed(std::uint64_t index) {
    if (index >= page_count()) return false;
    Slot& slot = slots_[index];
    SlotGuard guard(slot);
    const std::uint32_t kind = SlotTable::kind(slot);
    if (!(kind & slot_flags::kObject)) return false;
    const std::size_t size = kind & slot_flags::kSizeMask;
    return allocator_->class_size(slot.value) >
           SizeClassAllocator::size_of_class(SizeClassAllocator::class_for_size(size));
}

void CompressedPageStore::maintain() {
    // Nothing borrowed since a full scan found no borrowed object: nothing to move.
    if (allocator_->borrows() != rehome_seen_borrows_) rehome_borrowed(kMovesPerRun);
    allocator_->trim_empty_pages();
}

std::uint64_t CompressedPageStore::rehome_borrowed(std::uint64_t budget) {
    const std::uint64_t borrows_before = allocator_->borrows();
    const std::uint64_t pages = page_count();
    std::uint64_t moved = 0;
    std::uint64_t left = 0; // borrowed objects seen and not moved
    std::uint64_t scanned = 0;
    bool room = true;
    for (; scanned < std::min(kScanPerRun, pages) && moved < budget && room; ++scanned) {
        const std::uint64_t index = rehome_cursor_;
        rehome_cursor_ = rehome_cursor_ + 1 < pages ? rehome_cursor_ + 1 : 0;
        Slot& slot = slots_[index];
        Handle from = 0;
        {
            // The whole move under the slot's lock: the object can neither change nor be freed
            // (and its handle reused) while it is copied. Allocating here takes a class lock
            // inside a slot lock, the order the write path never reverses (compaction only
            // try-locks slots under a class lock).
            SlotGuard guard(slot);
            const std::uint32_t kind = SlotTable::kind(slot);
            if (!(kind & slot_flags::kObject)) continue;
            const std::size_t size = kind & slot_flags::kSizeMask;
            const std::size_t own = SizeClassAllocator::size_of_class(SizeClassAllocator::class_for_size(size));
            if (allocator_->class_size(slot.value) <= own) continue;
            auto to = allocator_->allocate_in_own_class(size, index);
            if (!to) {
                room = false; // its own class has no populated room now: later
                ++left;
                continue;
            }
            std::memcpy(allocator_->address(*to), allocator_->address(slot.value), size);
            from = slot.value;
            SlotTable::set_content(slot, kind, *to, slot.access_time);
        }
        allocator_->free(from);
        ++moved;
    }
    // Scans that found nothing to move, back to back, over the whole device: remember the
    // borrow count of when they began, so later runs skip the scan until something borrows.
    if (moved != 0 || left != 0) {
        rehome_clean_scanned_ = 0;
    } else {
        if (rehome_clean_scanned_ == 0) rehome_clean_since_ = borrows_before;
        rehome_clean_scanned_ += scanned;
        if (rehome_clean_scanned_ >= pages) rehome_seen_borrows_ = rehome_clean_since_;
    }
    return moved;
}

} // namespace trueno::store
