// Which 4 KiB blocks of a backing device hold written-back objects, and where a batch of new
// objects goes. Objects are packed: several per block where they fit, and one that does not
// fit continues into the next block, so a page that compressed 3:1 costs a third of a block
// (kernel zram writes one object per block). A block is
// written once, whole, and is reused only when every object in it is gone: a live block is
// never rewritten in place, so a process killed mid-write leaves every slot pointing at bytes
// that are still there. Blocks left sparse by discards and rewrites are emptied by repacking
// their live objects (the store's writeback compaction), chosen by sparse_blocks().
//
// The slot table is the truth (a slot says block, offset and size); this is rebuilt from it
// after a take-over (add_live). Thread safe: the I/O path releases objects while a writeback
// pass packs and commits.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

namespace trueno::store {

inline constexpr std::uint32_t kBackingBlockBytes = 4096;

struct BackingLocation {
    std::uint64_t block = 0;
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
};

// A slot's 64-bit value for a written-back object: a 16-bit check of the object's bytes (and
// its page's index), the block (36 bits: 256 TiB of 4 KiB blocks) and the offset in it (12
// bits); the size is in the slot's size bits. The check makes a device that returns wrong
// bytes (zeros from a truncated file, a block written for another page) a read error, never a
// page silently wrong: a raw page has no codec to notice it.
inline constexpr unsigned kBackingBlockBits = 36;
inline constexpr std::uint64_t kMaxBackingBlocks = std::uint64_t{1} << kBackingBlockBits;
inline std::uint64_t backing_value(const BackingLocation& at, std::uint16_t check) {
    return std::uint64_t{check} << 48 | (at.block & (kMaxBackingBlocks - 1)) << 12 | at.offset;
}
inline BackingLocation backing_location(std::uint64_t value, std::uint32_t size) {
    return {(value >> 12) & (kMaxBackingBlocks - 1), static_cast<std::uint32_t>(value & 0xfff),
            size};
}
inline std::uint16_t backing_check(std::uint64_t value) {
    return static_cast<std::uint16_t>(value >> 48);
}
// The check of an object's bytes as written for page `index`.
std::uint16_t backing_check_of(std::span<const std::byte> object, std::uint64_t index);

// An object's bytes in each block it lies in: one block, or the tail of one and the head of
// the next (an object placed at the end of a block goes on in the one after it, when the plan
// had that one too). The second part has 0 bytes when there is none.
struct BackingPart {
    std::uint64_t block = 0;
    std::uint32_t offset = 0;
    std::uint32_t bytes = 0;
};
inline std::array<BackingPart, 2> backing_parts(const BackingLocation& at) {
    const std::uint32_t first = std::min<std::uint32_t>(at.size, kBackingBlockBytes - at.offset);
    return {BackingPart{at.block, at.offset, first}, BackingPart{at.block + 1, 0, at.size - first}};
}
// Blocks an object lies in: 1 or 2.
inline unsigned backing_span(const BackingLocation& at) {
    return at.offset + at.size > kBackingBlockBytes ? 2 : 1;
}

// Where a batch's objects go: objects[i] -> placed[i] (nullopt: no free block was left for it)
// and the blocks taken, each to be written whole.
struct BackingPlan {
    std::vector<std::optional<BackingLocation>> placed;
    std::vector<std::uint64_t> blocks;
};

// Whether every block `at` lies in is among the plan's blocks that were written (written[k]
// for plan.blocks[k]).
bool placed_and_written(const BackingPlan& plan, const std::vector<bool>& written,
                        const BackingLocation& at);

class BackingBlocks {
public:
    // Devices beyond kMaxBackingBlocks use only that many.
    explicit BackingBlocks(std::uint64_t block_count)
        : block_count_(std::min(block_count, kMaxBackingBlocks)) {}

    std::uint64_t block_count() const { return block_count_; }

    // Takes free blocks (lowest first) and packs objects of these sizes (each 1..4096 bytes)
    // into them, largest first, each into the first taken block with room, or, when none has,
    // across the end of the newest one into a next one that follows it on the device. The
    // blocks are reserved until finish(): not handed out again, and not free while nothing
    // lives in them.
    BackingPlan plan(std::span<const std::uint32_t> sizes);
    // An object of a plan now lives where it was placed (its slot points there).
    void commit(const BackingLocation& at);
    // The plan's blocks stop being reserved; those that nothing was committed to are free again.
    void finish(const BackingPlan& plan);
    // An object's slot let go of it (rewritten, discarded, written back again elsewhere).
    // Returns false for a location that holds no live object (a damaged slot's value).
    bool release(const BackingLocation& at);

    // Take-over: a slot found pointing here. False if the location is impossible (outside the
    // device, or the block's bytes would overflow): the caller marks the slot damaged. Once
    // every slot is added, end_rebuild() lists the blocks nothing lives in as free.
    bool add_live(const BackingLocation& at);
    void end_rebuild();

    // Blocks holding live objects, and the bytes of those objects.
    std::uint64_t used_blocks() const;
    std::uint64_t live_bytes() const;
    // Blocks in use whose live bytes are at most `max_live_bytes`: worth repacking. At most
    // `limit` of them, lowest first.
    std::vector<std::uint64_t> sparse_blocks(std::uint32_t max_live_bytes, std::size_t limit) const;

private:
    struct Block {
        std::uint16_t objects = 0;
        std::uint16_t bytes = 0; // live bytes, up to 4096
    };
    std::optional<std::uint64_t> take_free(); // lock held
    // Lock held; block has no objects and is not reserved. Never allocates (take_free keeps
    // the free list's capacity at the block count).
    void give_back(std::uint64_t block);

    mutable std::mutex lock_;
    const std::uint64_t block_count_;
    // Per block below the high-water mark (blocks are taken lowest first, so this grows with
    // what is used, not with the device). A reserved block has the top bit of objects set.
    std::vector<Block> blocks_;
    std::vector<std::uint64_t> free_; // emptied blocks below the high-water mark, as a min-heap
    std::uint64_t used_blocks_ = 0;
    std::uint64_t live_bytes_ = 0;
};

} // namespace trueno::store
