// Compaction of the backing device: blocks left sparse by rewrites and discards of
// written-back pages are emptied by moving their live objects, packed, into new blocks.
// A round takes up to kRoundBlocks sparse blocks (at most three quarters full), finds the objects
// in them from the slot table, reads and checks them, writes them packed (as a writeback pass does)
// and switches each slot that still points where it was read from. A slot that changed meanwhile
// keeps what it has; its new place is given back when the round ends.
#include "compressed_page_store.hpp"

#include <algorithm>
#include <cstring>
#include <spdlog/spdlog.h>

namespace trueno {

bool backing_fragmented(const BackingUsage& usage) {
    const std::uint64_t needed =
        (usage.live_bytes + store::kBackingBlockBytes - 1) / store::kBackingBlockBytes;
    if (usage.used_blocks <= needed)
        return false;
    const std::uint64_t spare = usage.used_blocks - needed;
    return spare >= 16 && spare * 4 >= usage.used_blocks;
}

} // namespace trueno

namespace trueno::store {

namespace {

// Sparse blocks per round: their blocks are held in memory while the objects move (1 MiB a
// round, 2 MiB at most with the blocks objects span into), and a round scans the whole slot
// table once.
constexpr std::size_t kRoundBlocks = 256;
constexpr auto kRelaxed = std::memory_order_relaxed;
// A block whose live bytes are at most this is sparse. Emptying blocks of fill f writes f
// blocks for each block freed: 3 at most. What stays is over three quarters full, so that the
// device is no longer fragmented (backing_fragmented: a quarter of its blocks spare) after.
constexpr std::uint32_t kSparseBytes = kBackingBlockBytes * 3 / 4;
// Rounds in one call, so that a large device's compaction ends (each round frees blocks or
// the call stops early).
constexpr unsigned kMaxRounds = 64;

struct Moving {
    std::uint64_t index = 0;
    std::uint64_t value = 0;
    std::uint32_t kind = 0;
    std::vector<std::byte> bytes;
};

bool in(const std::vector<std::uint64_t>& sorted, std::uint64_t block) {
    return std::binary_search(sorted.begin(), sorted.end(), block);
}

} // namespace

BackingUsage CompressedPageStore::backing_usage() const {
    const Backing* b = backing();
    if (b == nullptr)
        return {};
    return {b->blocks.used_blocks(), b->blocks.live_bytes()};
}

Result<BackingCompaction> CompressedPageStore::compact_backing() {
    std::lock_guard pass(pass_mutex_);
    BackingCompaction report;
    Backing* b = backing();
    if (b == nullptr)
        return report;
    if (!b->device)
        return make_error(EIO, "the backing device " + b->path + " is not open");
    const std::uint64_t used_before = b->blocks.used_blocks();
    std::vector<std::uint64_t> stuck; // blocks holding a damaged object: not repacked again
    for (unsigned round = 0; round < kMaxRounds; ++round) {
        const std::uint64_t used = b->blocks.used_blocks();
        if (auto status = compact_backing_round(*b, kRoundBlocks, stuck, report); !status)
            return status.error();
        // Done when a round frees nothing more (nothing sparse left, or only objects that
        // could not move).
        if (b->blocks.used_blocks() >= used || report.limit_reached || report.device_full)
            break;
    }
    const std::uint64_t used_after = b->blocks.used_blocks();
    report.blocks_freed = used_before > used_after ? used_before - used_after : 0;
    return report;
}

Status CompressedPageStore::compact_backing_round(Backing& backing, std::size_t max_blocks,
                                                  std::vector<std::uint64_t>& stuck,
                                                  BackingCompaction& report) {
    std::vector<std::uint64_t> sparse =
        backing.blocks.sparse_blocks(kSparseBytes, max_blocks + stuck.size());
    std::erase_if(sparse, [&](std::uint64_t block) { return in(stuck, block); });
    if (sparse.size() > max_blocks)
        sparse.resize(max_blocks);
    if (sparse.size() < 2)
        return {}; // one block's objects would need a block again
    // The objects living in them, from the slot table (the truth; BackingBlocks has counts only).
    std::vector<Moving> moving;
    for (std::uint64_t index = 0; index < page_count(); ++index) {
        Slot& slot = slots_[index];
        if (!(SlotTable::flags(slot).load(kRelaxed) & slot_flags::kBacked))
            continue;
        SlotGuard guard(slot);
        const std::uint32_t kind = SlotTable::kind(slot);
        if (!(kind & slot_flags::kBacked))
            continue;
        const auto parts =
            backing_parts(backing_location(slot.value, kind & slot_flags::kSizeMask));
        if (in(sparse, parts[0].block) || (parts[1].bytes != 0 && in(sparse, parts[1].block)))
            moving.push_back({index, slot.value, kind, {}});
    }
    // Worth it only if their objects need fewer blocks than they are in now (the last,
    // partly filled block of an earlier compaction alone is not).
    std::uint64_t bytes = 0;
    for (const Moving& m : moving)
        bytes += m.kind & slot_flags::kSizeMask;
    if ((bytes + kBackingBlockBytes - 1) / kBackingBlockBytes >= sparse.size())
        return {};

    // Read each block once (objects share them), then each object's bytes and check.
    std::vector<std::uint64_t> needed;
    for (const Moving& m : moving)
        for (const auto& part :
             backing_parts(backing_location(m.value, m.kind & slot_flags::kSizeMask)))
            if (part.bytes != 0)
                needed.push_back(part.block);
    std::sort(needed.begin(), needed.end());
    needed.erase(std::unique(needed.begin(), needed.end()), needed.end());
    std::vector<std::byte> data(needed.size() * kBackingBlockBytes);
    alignas(4096) std::array<std::byte, kBackingBlockBytes> block;
    for (std::size_t k = 0; k < needed.size(); ++k) {
        if (auto read = backing.device->read_block(needed[k], block); !read) {
            spdlog::error("backing compaction: {}", read.error().message);
            return make_error(EIO, read.error().message);
        }
        std::memcpy(data.data() + k * kBackingBlockBytes, block.data(), kBackingBlockBytes);
        ++report.blocks_read;
    }
    auto block_data = [&](std::uint64_t b) {
        const auto k = static_cast<std::size_t>(std::lower_bound(needed.begin(), needed.end(), b) -
                                                needed.begin());
        return data.data() + k * kBackingBlockBytes;
    };
    std::erase_if(moving, [&](Moving& m) {
        const BackingLocation at = backing_location(m.value, m.kind & slot_flags::kSizeMask);
        const auto parts = backing_parts(at);
        m.bytes.resize(at.size);
        std::memcpy(m.bytes.data(), block_data(parts[0].block) + parts[0].offset, parts[0].bytes);
        if (parts[1].bytes != 0)
            std::memcpy(m.bytes.data() + parts[0].bytes, block_data(parts[1].block),
                        parts[1].bytes);
        if (backing_check_of(m.bytes, m.index) == backing_check(m.value))
            return false;
        // Its reads fail (EIO) wherever it is; moving it would only hide where it went wrong.
        // Its blocks stay out of the later rounds.
        ++report.damaged;
        for (const auto& part : parts)
            if (part.bytes != 0)
                stuck.insert(std::upper_bound(stuck.begin(), stuck.end(), part.block), part.block);
        return true;
    });

    std::vector<std::uint32_t> sizes(moving.size());
    std::vector<std::span<const std::byte>> objects(moving.size());
    for (std::size_t i = 0; i < moving.size(); ++i) {
        sizes[i] = static_cast<std::uint32_t>(moving[i].bytes.size());
        objects[i] = moving[i].bytes;
    }
    const BackingPlan plan = backing.blocks.plan(sizes);
    if (std::count(plan.placed.begin(), plan.placed.end(), std::nullopt) != 0)
        report.device_full = true;
    const std::size_t allowed = limit_allows(plan.blocks.size(), report.limit_reached);
    std::vector<bool> written;
    const Status failure = write_planned_blocks(backing, plan, objects, allowed, written);
    report.blocks_written +=
        static_cast<std::uint64_t>(std::count(written.begin(), written.end(), true));

    for (std::size_t i = 0; i < moving.size(); ++i) {
        if (!plan.placed[i] || !placed_and_written(plan, written, *plan.placed[i]))
            continue;
        const Moving& m = moving[i];
        Slot& slot = slots_[m.index];
        SlotGuard guard(slot);
        const std::uint32_t kind = SlotTable::kind(slot);
        if (!(kind & slot_flags::kBacked) || slot.value != m.value ||
            (kind & slot_flags::kSizeMask) != (m.kind & slot_flags::kSizeMask)) {
            ++report.raced;
            continue;
        }
        // New place first, then the old one let go: the bookkeeping never shows the object
        // nowhere. The check is the same (the same bytes for the same page).
        backing.blocks.commit(*plan.placed[i]);
        SlotTable::set_content(slot, kind, backing_value(*plan.placed[i], backing_check(m.value)),
                               slot.access_time);
        (void)backing.blocks.release(backing_location(m.value, m.kind & slot_flags::kSizeMask));
        ++report.objects;
    }
    backing.blocks.finish(plan);
    return failure;
}

} // namespace trueno::store
