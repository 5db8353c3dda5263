// The last few multi-page objects decompressed, so that reading the neighbours of a page just
// read (swap readahead, sequential reads) costs a copy instead of another whole-frame
// decompression. Buffers live in one anonymous mapping, faulted in on first use (or at
// creation in never-fault mode).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <span>

#include "mapped_region.hpp"
#include "shared_objects.hpp"
#include "trueno/page.hpp"
#include "trueno/result.hpp"

namespace trueno::store {

class GroupCache {
public:
    static constexpr unsigned kEntries = 4;
    static constexpr std::size_t kPagesBytes = SharedObjects::kMaxMembers * kPageSize;
    static constexpr std::size_t kEntryBytes = kPagesBytes + SharedObjects::kMaxPayload;

    GroupCache() {
        if (auto region = MappedRegion::map(kEntries * kEntryBytes)) buffers_ = std::move(region.value());
    }
    // Faults the buffers in (1 MiB), once: before the first group is made, or when a store
    // that has groups is taken over, so that reads of group members never fault. A store
    // without groups never pays for it.
    bool populate() {
        if (populated_.load(std::memory_order_acquire)) return true;
        std::lock_guard guard(populate_mutex_);
        if (populated_.load(std::memory_order_relaxed)) return true;
        if (!buffers_.mapped() || !buffers_.populate(0, buffers_.size())) return false;
        populated_.store(true, std::memory_order_release);
        return true;
    }

    // Page `member` of the object with this serial into out. On a miss, fill(payload, pages)
    // must gather the object's payload into `payload` and decompress it into `pages` (members
    // pages long); what it returns is returned, and only a success is cached.
    template <typename Fill>
    Status read(std::uint64_t serial, std::uint32_t member, MutablePageView out, Fill&& fill) {
        if (!buffers_.mapped()) return make_error(ENOMEM, "no memory for the group cache");
        for (unsigned i = 0; i < kEntries; ++i) {
            Entry& e = entries_[i];
            std::lock_guard guard(e.mutex);
            if (e.serial == serial) {
                std::memcpy(out.data(), pages(i).data() + member * kPageSize, kPageSize);
                return {};
            }
        }
        const unsigned victim = next_.fetch_add(1, std::memory_order_relaxed) % kEntries;
        Entry& e = entries_[victim];
        std::lock_guard guard(e.mutex);
        e.serial = 0; // the buffers are about to change
        auto status = fill(payload(victim), pages(victim));
        if (!status) return status;
        e.serial = serial;
        std::memcpy(out.data(), pages(victim).data() + member * kPageSize, kPageSize);
        return {};
    }

private:
    struct Entry {
        std::mutex mutex;
        std::uint64_t serial = 0; // 0: empty (object serials start at 1)
    };
    std::span<std::byte> pages(unsigned i) { return {buffers_.data() + i * kEntryBytes, kPagesBytes}; }
    std::span<std::byte> payload(unsigned i) {
        return {buffers_.data() + i * kEntryBytes + kPagesBytes, SharedObjects::kMaxPayload};
    }

    MappedRegion buffers_;
    std::mutex populate_mutex_;
    std::atomic<bool> populated_{false};
    std::array<Entry, kEntries> entries_;
    std::atomic<unsigned> next_{0};
};

} // namespace trueno::store
