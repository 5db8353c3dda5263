// The last few multi-page objects decompressed, so that reading the neighbours of a page just
// read (swap readahead, sequential reads) costs a copy instead of another whole-frame
// decompression. The buffers (1 MiB) come from the heap, written through at once, the first time
// they are needed: before the first group is made, when a store that has groups is taken over,
// or at the first read of a member. From the heap because the daemon keeps freed memory in its
// heap (keep_heap_in_place): at a take-over they reuse the standby's reserve there instead of
// asking a machine short of memory for 1 MiB more (an anonymous mapping did: kill-loop).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <span>

#include "shared_objects.hpp"
#include "trueno/page.hpp"
#include "trueno/result.hpp"

namespace trueno::store {

class GroupCache {
public:
    static constexpr unsigned kEntries = 4;
    static constexpr std::size_t kPagesBytes = SharedObjects::kMaxMembers * kPageSize;
    static constexpr std::size_t kEntryBytes = kPagesBytes + SharedObjects::kMaxPayload;

    // Allocates the buffers and writes them through, once; a store without groups never pays
    // for them. False when there is no memory for them.
    bool populate() {
        if (populated_.load(std::memory_order_acquire)) return true;
        std::lock_guard guard(populate_mutex_);
        if (populated_.load(std::memory_order_relaxed)) return true;
        std::unique_ptr<std::byte[]> buffers(new (std::nothrow) std::byte[kEntries * kEntryBytes]);
        if (!buffers) return false;
        // Written, not only allocated: heap pages never touched are not there yet.
        std::memset(buffers.get(), 0, kEntries * kEntryBytes);
        buffers_ = std::move(buffers);
        populated_.store(true, std::memory_order_release);
        return true;
    }

    // Page `member` of the object with this serial into out. On a miss, fill(payload, pages)
    // must gather the object's payload into `payload` and decompress it into `pages` (members
    // pages long); what it returns is returned, and only a success is cached.
    template <typename Fill>
    Status read(std::uint64_t serial, std::uint32_t member, MutablePageView out, Fill&& fill) {
        if (!populate()) return make_error(ENOMEM, "no memory for the group cache");
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
    std::span<std::byte> pages(unsigned i) { return {buffers_.get() + i * kEntryBytes, kPagesBytes}; }
    std::span<std::byte> payload(unsigned i) {
        return {buffers_.get() + i * kEntryBytes + kPagesBytes, SharedObjects::kMaxPayload};
    }

    std::unique_ptr<std::byte[]> buffers_; // set once, by populate(), under populate_mutex_
    std::mutex populate_mutex_;
    std::atomic<bool> populated_{false};
    std::array<Entry, kEntries> entries_;
    std::atomic<unsigned> next_{0};
};

} // namespace trueno::store
