// Statistics with kernel zram's exact meaning and text format (mm_stat, io_stat).
#pragma once

#include <cstdint>
#include <string>

namespace trueno {

// /sys/block/zramN/mm_stat, field for field.
struct MmStat {
    std::uint64_t orig_data_size = 0;  // bytes stored, same-filled pages included
    std::uint64_t compr_data_size = 0; // bytes after compression
    std::uint64_t mem_used_total = 0;  // bytes of memory taken from the OS for the store
    std::uint64_t mem_limit = 0;       // bytes, 0 = none
    std::uint64_t mem_used_max = 0;    // peak of mem_used_total
    std::uint64_t same_pages = 0;      // same-filled pages (no allocation)
    std::uint64_t pages_compacted = 0; // pages freed by compaction
    std::uint64_t huge_pages = 0;      // pages stored uncompressed now
    std::uint64_t huge_pages_since = 0; // pages stored uncompressed since set-up
};

// /sys/block/zramN/io_stat.
struct IoStat {
    std::uint64_t failed_reads = 0;
    std::uint64_t failed_writes = 0;
    std::uint64_t invalid_io = 0;
    std::uint64_t notify_free = 0;
};

// /sys/block/zramN/bd_stat, in 4 KiB units: pages held on the backing device, pages read
// from it, blocks written to it (the kernel writes one page per block; this store packs
// several, so writes can be fewer than the pages written back).
struct BdStat {
    std::uint64_t count = 0;
    std::uint64_t reads = 0;
    std::uint64_t writes = 0;
};

// Ours, beyond the kernel: multi-page objects and deduplication (the object_stat attribute).
struct ObjectStat {
    std::uint64_t grouped_pages = 0; // pages held in multi-page objects
    std::uint64_t groups = 0;        // multi-page objects
    std::uint64_t dedup_pages = 0;   // pages sharing another page's object (not counting the first)
    std::uint64_t shared_objects = 0; // objects shared by deduplicated pages
    // Pages whose data an object made by a recompression codec holds (a group's members and
    // the pages sharing a deduplicated object each count).
    std::uint64_t recompressed_pages = 0;
};

// "%8llu %8llu %8llu %8llu %8llu\n", the fields in ObjectStat's order.
std::string format_object_stat(const ObjectStat& s);

// The kernel's text: "%8llu %8llu %8llu %8lu %8ld %8llu %8lu %8llu %8llu\n".
std::string format_mm_stat(const MmStat& s);
// The kernel's text: "%8llu %8llu %8llu %8llu\n".
std::string format_io_stat(const IoStat& s);
// The kernel's text: "%8llu %8llu %8llu\n".
std::string format_bd_stat(const BdStat& s);

} // namespace trueno
