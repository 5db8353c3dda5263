// How a store lays itself out in its arena (layout version 1). Everything a new process needs
// to serve the device's pages again lives in the arena, as offsets, never pointers:
//
//   [header, 64 KiB][slot table][shared-object table][blob area][size class 0] ... [class 255]
//
// The slot table is the single source of truth for what the device holds. The allocator's
// bookkeeping, shared objects' reference counts and the statistics derived from the slots are
// rebuilt from it when a store is attached (store_attach.cpp); the header keeps only what the
// slots cannot tell: the device's parameters and settings, the codec generations and the
// counters of events (failed reads, discards ...).
//
// A version this binary does not know is refused, never reinterpreted: any change to these
// structs or to what the slot bits mean is a new kLayoutVersion. Version 2 adds writeback (the
// header's backing record and counters, the slots' kBacked). A store stays at version 1, which
// older daemons take over, until a backing device is set for it.
#pragma once

#include "trueno/codec.hpp"
#include "trueno/page.hpp"
#include "trueno/result.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace trueno::store {

inline constexpr std::array<char, 8> kArenaMagic = {'T', 'R', 'U', 'E', 'N', 'O', 'Z', 'R'};
inline constexpr std::uint32_t kLayoutVersion = 2;
inline constexpr std::uint32_t kLayoutVersionWithoutWriteback = 1;
inline constexpr std::size_t kHeaderBytes = 64 * 1024;
inline constexpr std::size_t kClassCount = kPageSize / 16;
inline constexpr std::size_t kSegmentBytes = std::size_t{16} << 20;
inline constexpr std::size_t kBlobBytes = std::size_t{256} << 20; // dictionaries
inline constexpr unsigned kMaxGenerations = 63;                   // recompression codec ids 1..63

// A 64-bit counter in the arena, updated atomically (atomic_ref: the arena holds plain words).
struct PersistentCounter {
    std::uint64_t word;

    std::uint64_t load(std::memory_order order = std::memory_order_relaxed) const {
        return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(word)).load(order);
    }
    void store(std::uint64_t v, std::memory_order order = std::memory_order_relaxed) {
        std::atomic_ref<std::uint64_t>(word).store(v, order);
    }
    std::uint64_t fetch_add(std::uint64_t n, std::memory_order order = std::memory_order_relaxed) {
        return std::atomic_ref<std::uint64_t>(word).fetch_add(n, order);
    }
    std::uint64_t add(std::uint64_t n) { return fetch_add(n); }
    void raise_to(std::uint64_t v) { // keeps the maximum
        std::atomic_ref<std::uint64_t> ref(word);
        std::uint64_t seen = ref.load(std::memory_order_relaxed);
        while (v > seen && !ref.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
        }
    }
};
static_assert(sizeof(PersistentCounter) == 8);

// A codec as stored: name, level and a dictionary kept in the blob area (never re-read from
// its file: pages must decode with the very bytes they were compressed with).
struct CodecRecord {
    std::array<char, 32> algorithm;
    std::int32_t level;
    std::uint32_t has_level;
    std::uint64_t dict_offset; // from the start of the blob area
    std::uint64_t dict_bytes;  // 0: none
    std::array<char, 192> dict_path;
};

struct GenerationRecord {
    std::uint32_t priority;
    std::uint32_t reserved;
    CodecRecord codec;
};

// Fixed when the store is made.
struct ArenaGeometry {
    std::uint64_t arena_bytes;
    std::uint64_t pages;
    std::uint64_t max_objects;
    std::uint64_t slots_offset;
    std::uint64_t objects_offset;
    std::uint64_t object_capacity; // shared-object ids
    std::uint64_t blobs_offset;
    std::uint64_t blobs_bytes;
    std::array<std::uint64_t, kClassCount> class_offset;
    std::array<std::uint64_t, kClassCount> class_segments; // kSegmentBytes each
};

struct StoreIdentity {
    CodecRecord codec; // the device's comp_algorithm and algorithm_params
    std::uint64_t disksize;
    std::uint32_t streams;
    std::uint32_t reserved;
    std::int64_t created_seconds; // CLOCK_MONOTONIC; slots' access times count from it
};

struct ArenaHeader {
    std::array<char, 8> magic;
    std::uint32_t layout_version;
    std::uint32_t header_bytes;
    std::uint64_t checksum; // xxh3 of geometry and identity
    ArenaGeometry geometry;
    StoreIdentity identity;

    // Settings that change while the device lives.
    PersistentCounter limit_pages;
    std::uint32_t policy_current; // which policy text is current; the other is written first
    std::uint32_t reserved0;
    std::array<std::array<char, 512>, 2> policy_text;
    std::uint32_t generation_count; // records below it are complete (published last)
    std::array<std::uint32_t, 4> current_generation;
    std::uint32_t reserved1;
    std::array<GenerationRecord, kMaxGenerations> generations;
    PersistentCounter blobs_used;

    // What the slots cannot tell.
    PersistentCounter failed_reads;
    PersistentCounter failed_writes;
    PersistentCounter invalid_io;
    PersistentCounter notify_free;
    PersistentCounter huge_pages_since;
    PersistentCounter pages_compacted;
    PersistentCounter max_used_pages;
    PersistentCounter next_serial; // multi-page object serials (the group cache's keys)
    PersistentCounter attaches;    // how many times a new process took the store over

    // Version 2: writeback. All zero in a version 1 store.
    std::array<char, 256> backing_path; // "" = none
    std::uint64_t backing_identity;     // st_rdev (block device) or st_ino (file) when set
    std::uint64_t backing_blocks;       // its size in 4 KiB blocks when set
    PersistentCounter bd_reads;         // pages read back from it
    PersistentCounter bd_writes;        // blocks written to it
    PersistentCounter writeback_limit;  // blocks still allowed while the limit is enabled
    std::uint32_t writeback_limit_enable;
    std::uint32_t writeback_policy_current; // which text is current; the other is written first
    std::array<std::array<char, 256>, 2> writeback_policy_text;
    std::array<std::uint64_t, 32> reserved2; // zero: room for later settings of version 2
};
static_assert(sizeof(ArenaHeader) <= kHeaderBytes);
// A version 1 header ends where version 2's fields begin.
inline constexpr std::size_t kHeaderBytesVersion1 = offsetof(ArenaHeader, backing_path);

// Where everything goes for a device of `pages` pages holding up to `max_objects` objects;
// ram_bytes caps each size class's region (a class can never hold more than the RAM).
ArenaGeometry plan_arena(std::uint64_t pages, std::uint64_t max_objects, std::uint64_t ram_bytes);

// The geometry and identity's checksum.
std::uint64_t header_checksum(const ArenaHeader& header);

// Checks what a header says before anything else in the arena is trusted: magic, version,
// checksum, and that every region lies inside an arena of `arena_bytes`. The error says what is
// wrong, for a message that leaves the device waiting for a daemon that understands it.
Status check_header(const ArenaHeader& header, std::size_t arena_bytes);

// CodecRecord <-> what the codec registry takes. The dictionary's bytes are copied into the
// blob area by the caller (store).
CodecRecord codec_record(std::string_view algorithm, const CodecParams& params,
                         std::uint64_t dict_offset);
template <std::size_t N> std::string record_text(const std::array<char, N>& text) {
    std::size_t n = 0;
    while (n < N && text[n] != '\0')
        ++n;
    return std::string(text.data(), n);
}
template <std::size_t N> void set_record_text(std::array<char, N>& out, std::string_view text) {
    out.fill('\0');
    const std::size_t n = std::min(text.size(), N - 1);
    for (std::size_t i = 0; i < n; ++i)
        out[i] = text[i];
}

} // namespace trueno::store
