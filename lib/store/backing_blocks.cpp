#include "backing_blocks.hpp"

#include <algorithm>
#include <functional>
#include <numeric>
#include <xxhash.h>

namespace trueno::store {

namespace {

constexpr std::uint16_t kReserved = 0x8000;
constexpr std::uint16_t kCountMask = 0x7fff;

} // namespace

std::uint16_t backing_check_of(std::span<const std::byte> object, std::uint64_t index) {
    return static_cast<std::uint16_t>(XXH3_64bits_withSeed(object.data(), object.size(), index));
}

std::optional<std::uint64_t> BackingBlocks::take_free() {
    if (!free_.empty()) {
        std::pop_heap(free_.begin(), free_.end(), std::greater<>{});
        const std::uint64_t block = free_.back();
        free_.pop_back();
        return block;
    }
    if (blocks_.size() >= block_count_)
        return std::nullopt;
    blocks_.emplace_back();
    // Room in the free list for every block there is, so that give_back (on an I/O thread, for a
    // rewrite or a discard) never allocates: it holds at most one entry per block.
    if (free_.capacity() < blocks_.size())
        free_.reserve(blocks_.capacity());
    return blocks_.size() - 1;
}

void BackingBlocks::give_back(std::uint64_t block) {
    free_.push_back(block);
    std::push_heap(free_.begin(), free_.end(), std::greater<>{});
}

BackingPlan BackingBlocks::plan(std::span<const std::uint32_t> sizes) {
    BackingPlan out;
    out.placed.resize(sizes.size());
    std::vector<std::size_t> order(sizes.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return sizes[a] > sizes[b]; });

    std::vector<std::uint32_t> filled; // bytes used in each of out.blocks
    std::lock_guard guard(lock_);
    for (std::size_t i : order) {
        const std::uint32_t size = sizes[i];
        if (size == 0 || size > kBackingBlockBytes)
            continue;
        std::size_t at = 0;
        while (at < filled.size() && filled[at] + size > kBackingBlockBytes)
            ++at;
        if (at == filled.size()) {
            auto block = take_free();
            if (!block)
                continue; // the device is full: this one stays in RAM
            blocks_[*block].objects = kReserved;
            out.blocks.push_back(*block);
            filled.push_back(0);
            // The block right after the plan's previous newest one: the object fills that
            // one's tail and goes on here (a block's objects are a prefix, its tail is free).
            const std::size_t before = out.blocks.size() - 2;
            if (out.blocks.size() >= 2 && out.blocks.back() == out.blocks[before] + 1 &&
                filled[before] < kBackingBlockBytes) {
                out.placed[i] = BackingLocation{out.blocks[before], filled[before], size};
                filled.back() = size - (kBackingBlockBytes - filled[before]);
                filled[before] = kBackingBlockBytes;
                continue;
            }
        }
        out.placed[i] = BackingLocation{out.blocks[at], filled[at], size};
        filled[at] += size;
    }
    return out;
}

void BackingBlocks::commit(const BackingLocation& at) {
    std::lock_guard guard(lock_);
    for (const auto& part : backing_parts(at)) {
        if (part.bytes == 0)
            continue;
        Block& b = blocks_[part.block];
        if ((b.objects & kCountMask) == 0)
            ++used_blocks_;
        ++b.objects;
        b.bytes = static_cast<std::uint16_t>(b.bytes + part.bytes);
    }
    live_bytes_ += at.size;
}

void BackingBlocks::finish(const BackingPlan& plan) {
    std::lock_guard guard(lock_);
    for (std::uint64_t block : plan.blocks) {
        Block& b = blocks_[block];
        b.objects &= kCountMask;
        if (b.objects == 0)
            give_back(block);
    }
}

bool BackingBlocks::release(const BackingLocation& at) {
    std::lock_guard guard(lock_);
    const auto parts = backing_parts(at);
    for (const auto& part : parts) {
        if (part.bytes == 0)
            continue;
        if (part.block >= blocks_.size())
            return false;
        const Block& b = blocks_[part.block];
        if ((b.objects & kCountMask) == 0 || b.bytes < part.bytes)
            return false;
    }
    for (const auto& part : parts) {
        if (part.bytes == 0)
            continue;
        Block& b = blocks_[part.block];
        --b.objects;
        b.bytes = static_cast<std::uint16_t>(b.bytes - part.bytes);
        if ((b.objects & kCountMask) == 0) {
            --used_blocks_;
            if (!(b.objects & kReserved))
                give_back(part.block);
        }
    }
    live_bytes_ -= at.size;
    return true;
}

bool BackingBlocks::add_live(const BackingLocation& at) {
    if (at.size == 0 || at.size > kBackingBlockBytes || at.offset >= kBackingBlockBytes)
        return false;
    const auto parts = backing_parts(at);
    std::lock_guard guard(lock_);
    for (const auto& part : parts) {
        if (part.bytes == 0)
            continue;
        if (part.block >= block_count_)
            return false;
        if (part.block >= blocks_.size())
            blocks_.resize(part.block + 1);
        if (blocks_[part.block].bytes + part.bytes > kBackingBlockBytes)
            return false;
    }
    for (const auto& part : parts) {
        if (part.bytes == 0)
            continue;
        Block& b = blocks_[part.block];
        if (b.objects == 0)
            ++used_blocks_;
        ++b.objects;
        b.bytes = static_cast<std::uint16_t>(b.bytes + part.bytes);
    }
    live_bytes_ += at.size;
    return true;
}

void BackingBlocks::end_rebuild() {
    std::lock_guard guard(lock_);
    free_.clear();
    free_.reserve(blocks_.capacity());
    for (std::uint64_t block = 0; block < blocks_.size(); ++block)
        if (blocks_[block].objects == 0)
            free_.push_back(block);
    std::make_heap(free_.begin(), free_.end(), std::greater<>{});
}

std::uint64_t BackingBlocks::used_blocks() const {
    std::lock_guard guard(lock_);
    return used_blocks_;
}

std::uint64_t BackingBlocks::live_bytes() const {
    std::lock_guard guard(lock_);
    return live_bytes_;
}

std::vector<std::uint64_t> BackingBlocks::sparse_blocks(std::uint32_t max_live_bytes,
                                                        std::size_t limit) const {
    std::vector<std::uint64_t> out;
    std::lock_guard guard(lock_);
    for (std::uint64_t block = 0; block < blocks_.size() && out.size() < limit; ++block) {
        const Block& b = blocks_[block];
        if ((b.objects & kReserved) || b.objects == 0)
            continue;
        if (b.bytes <= max_live_bytes)
            out.push_back(block);
    }
    return out;
}

bool placed_and_written(const BackingPlan& plan, const std::vector<bool>& written,
                        const BackingLocation& at) {
    for (const auto& part : backing_parts(at)) {
        if (part.bytes == 0)
            continue;
        const auto k = static_cast<std::size_t>(
            std::find(plan.blocks.begin(), plan.blocks.end(), part.block) - plan.blocks.begin());
        if (k >= written.size() || !written[k])
            return false;
    }
    return true;
}

} // namespace trueno::store
