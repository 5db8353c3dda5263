// Objects that several slots refer to: multi-page objects (runs of cold pages compressed
// together in one frame) and deduplicated pages (one object, many identical pages).
//
// An object's bytes live in the size-class allocator as a chain of chunks of at most a page
// each. Chunk 0 starts with a header that lists the other chunks and the member pages, so
// every byte an object costs counts in mem_used_total, as kernel zram counts zsmalloc pages.
// The table keeps 16 bytes per object id (in the store's arena, faulted in as ids are used, like
// the slot table): chunk 0's handle, a reference count and a lock bit. Ids are recycled through
// a free list threaded through the table itself, so dropping a reference never allocates.
// Only chunk 0's handle and the chunks themselves are trusted after the process that wrote them
// died: reference counts, flags and the free list are rebuilt from the slots that refer to
// objects (begin_adoption, adopt, finish_adoption).
//
// Chunks are owned, for compaction, by (id, chunk index) encoded with kOwnerBit; the store
// forwards those moves here.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "size_class_allocator.hpp"
#include "store_layout.hpp"
#include "trueno/page.hpp"
#include "trueno/result.hpp"

namespace trueno::store {

class SharedObjects {
public:
    // Owners at or above this bit are object chunks; page indices stay far below it.
    static constexpr std::uint64_t kOwnerBit = std::uint64_t{1} << 63;
    static constexpr std::uint32_t kMaxMembers = 32;
    // The largest payload an object may have: its members stored raw, plus codec slack.
    static constexpr std::size_t kMaxPayload = kMaxMembers * kPageSize + 4096;

    // What chunk 0's header says about an object.
    struct Info {
        std::uint64_t serial = 0;       // unique per object for the store's life (cache key)
        std::uint32_t payload_size = 0; // compressed bytes
        std::uint32_t members = 0;      // pages compressed together (1 for a deduplicated page)
        std::uint32_t codec = 0;        // codec id: 0 = the store's algorithm, else recomp
        bool raw = false;               // payload is the page itself (a huge page)
        std::uint64_t first_page = 0;   // member m is page first_page + page_offset[m]
    };

    // Bytes an object of this payload takes from the allocator, header and rounding included.
    static std::size_t allocated_bytes(std::size_t payload, std::size_t members);

    // `table` holds capacity entries of 16 bytes (zeros when new); next_serial lives with it.
    SharedObjects(SizeClassAllocator& allocator, std::byte* table, std::uint64_t capacity,
                  PersistentCounter& next_serial);
    ~SharedObjects();
    SharedObjects(const SharedObjects&) = delete;
    SharedObjects& operator=(const SharedObjects&) = delete;

    // Stores payload as a new object with one reference (the creator's; drop it with put()
    // once the members are installed). member_pages are the pages in member order (all within
    // 2^32 pages of the first); codec and raw say how to decode the payload.
    // ENOMEM at the memory limit, ENOSPC when every id is in use.
    Result<std::uint32_t> create(std::span<const std::byte> payload,
                                 std::span<const std::uint64_t> member_pages, std::uint32_t codec,
                                 bool raw);

    void get(std::uint32_t id); // the caller already holds a reference (or a slot that does)
    // A reference to an object the caller may not hold one of (an id from take_sparse()):
    // taken only if the id is still in use; the object may be a newer one on a reused id.
    bool try_get(std::uint32_t id);
    // Drops a reference; the last one frees the object.
    struct Dropped {
        std::uint32_t refs_left;
        std::uint32_t members;
        std::uint32_t payload_size;
    };
    Dropped put(std::uint32_t id);
    std::uint32_t refs(std::uint32_t id) const;

    // Header facts and, when payload is not empty (at least info.payload_size bytes), the
    // payload itself gathered from the chunks. The caller holds a reference.
    Info read(std::uint32_t id, std::span<std::byte> payload);
    // Member m's page index.
    std::uint64_t member_page(std::uint32_t id, std::uint32_t member);

    // Multi-page objects that lost at least half of their members are split candidates: a
    // flag in the entry (set on the I/O path, so no allocation), collected by a scan.
    void mark_sparse(std::uint32_t id);
    std::vector<std::uint32_t> take_sparse(); // clears the flags it reports

    // Compaction of a chunk: try-locks the object, checks the chunk is still at `from`.
    bool try_move(std::uint64_t owner, Handle from, Handle to, std::span<const std::byte> source,
                  std::span<std::byte> target);

    std::uint64_t live_objects() const { return live_.load(std::memory_order_relaxed); }
    std::uint64_t capacity() const { return capacity_; }

    // Taking over a store. begin_adoption() forgets what the table said about ids below
    // high_water (every id the slots refer to); inspect() checks that an id's object lies
    // inside the store; adopt() makes it live with `refs` references (the slots that refer to
    // it) and gives its chunks to the allocator; finish_adoption() frees the ids not adopted.
    void begin_adoption(std::uint32_t high_water);
    Result<Info> inspect(std::uint32_t id) const;
    Status adopt(std::uint32_t id, std::uint32_t refs);
    void finish_adoption(std::uint64_t max_serial);

private:
    struct Entry {
        std::uint64_t head;  // chunk 0's handle; on the free list: next free id + 1 (0 = end)
        std::uint32_t refs;  // atomic via atomic_ref
        std::uint32_t flags; // kLocked | kInUse | kSparse
    };
    static_assert(sizeof(Entry) == 16);

    static constexpr std::size_t kTailStep = 256;
    // The allocation for a chunk with `remaining` bytes of the object left to place.
    static std::size_t chunk_allocation(std::size_t members, std::size_t remaining);

    Entry& entry(std::uint32_t id) const { return table_[id]; }
    void lock(Entry& e) const;
    bool try_lock(Entry& e) const;
    void unlock(Entry& e) const;
    void free_chunks(Entry& e); // under e's lock
    std::byte* header(const Entry& e) const { return allocator_.address(e.head); }

    SizeClassAllocator& allocator_;
    Entry* table_;
    std::uint64_t capacity_;
    std::mutex ids_mutex_;       // the free list and high-water mark
    std::uint32_t free_head_ = 0; // first free id + 1 (0 = none)
    std::uint32_t high_water_ = 0;
    PersistentCounter& next_serial_;
    std::atomic<std::uint64_t> live_{0};
};

} // namespace trueno::store
