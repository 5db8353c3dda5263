// The page store: page index -> compressed object, for a device of a given size. It is what
// the service's block device reads and writes; what kernel zram's slot table plus zsmalloc are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trueno/codec.hpp"
#include "trueno/page.hpp"
#include "trueno/result.hpp"
#include "trueno/stats.hpp"
#include "trueno/store_bookkeeping.hpp"

namespace trueno {

class ThreadPool;

// The kernel's recompress attribute: which pages to recompress with a secondary algorithm.
struct RecompressOptions {
    enum class Type { all, idle, huge, huge_idle }; // kernel: no type = every page
    Type type = Type::idle;
    std::uint64_t threshold = 0; // only objects of at least this many bytes (0 = any size)
    std::uint64_t max_pages = 0; // stop after trying this many pages (0 = no limit)
    unsigned priority = 1;       // which recomp_algorithm (1..kMaxRecompPriority)
    bool idle_scheduling = false; // run this call's thread as SCHED_IDLE while it works
    // Multi-page objects: > 1 compresses runs of up to this many neighbouring matching pages
    // together as one object (zstd only; at most kMaxGroupPages). 1 = page by page.
    unsigned group_pages = 1;
    // Before recompressing, share identical matching pages (xxh3 hash plus a full compare):
    // one stored object, reference counted.
    bool dedup = false;
};

inline constexpr unsigned kMaxGroupPages = 32;

inline constexpr unsigned kMaxRecompPriority = 3; // as the kernel's ZRAM_MAX_COMPS - 1

// What one recompress() call did.
struct RecompressReport {
    std::uint64_t tried = 0;        // pages that matched and were recompressed
    std::uint64_t kept = 0;         // ... whose result landed in a smaller size class
    std::uint64_t raced = 0;        // ... dropped because the page changed meanwhile
    std::uint64_t bytes_before = 0; // compressed bytes of the kept pages before
    std::uint64_t bytes_after = 0;  // ... and after
    double cpu_seconds = 0;         // CPU time of the calling thread during the call
    std::uint64_t grouped = 0;      // pages that went into multi-page objects
    std::uint64_t groups = 0;       // multi-page objects made
    std::uint64_t deduplicated = 0; // pages that now share another page's object
    std::uint64_t split = 0;        // sparse multi-page objects split back into single pages
};

// The kernel's writeback attribute: which pages go to the backing device.
struct WritebackOptions {
    enum class Type { any, idle, huge, huge_idle, incompressible };
    Type type = Type::idle;
    // Only pages in [first_page, last_page] (the 6.16 page_index= and page_indexes= forms);
    // with Type::any, every stored object in the range.
    std::uint64_t first_page = 0;
    std::uint64_t last_page = ~std::uint64_t{0};
    // Ours: only pages not read or written for at least this long (0: any age). The automatic
    // policy goes by age itself, not by the idle marks others set.
    std::uint64_t min_age_seconds = 0;
    // Ours: stop after writing this many blocks (0: no limit), a budget beside writeback_limit.
    std::uint64_t max_blocks = 0;
};

// What one writeback() call did.
struct WritebackReport {
    std::uint64_t pages = 0;    // pages now on the backing device
    std::uint64_t blocks = 0;   // 4 KiB blocks written for them
    std::uint64_t bytes = 0;    // compressed bytes those pages took in RAM (and now on the device)
    std::uint64_t raced = 0;    // pages that changed while their block was written (stay in RAM)
    bool limit_reached = false; // writeback_limit ran out
    bool budget_reached = false; // max_blocks were written
    bool device_full = false;   // no free block was left
};

// The backing device's blocks holding written-back objects, and those objects' bytes.
struct BackingUsage {
    std::uint64_t used_blocks = 0;
    std::uint64_t live_bytes = 0;
};
// Whether repacking the backing device is worth its writes: its live bytes, packed whole, would
// free at least a quarter of the blocks in use, and at least 16 blocks. Rewrites and discards
// of written-back pages leave blocks sparse; a block is reused only once empty.
bool backing_fragmented(const BackingUsage& usage);

// What one compact_backing() call did.
struct BackingCompaction {
    std::uint64_t objects = 0;        // objects moved into new blocks
    std::uint64_t blocks_read = 0;    // blocks read to move them
    std::uint64_t blocks_written = 0; // new blocks written
    std::uint64_t blocks_freed = 0;   // blocks in use before, less after
    std::uint64_t raced = 0;          // rewritten or discarded meanwhile: not moved
    std::uint64_t damaged = 0;  // bytes on the device no longer match their check: left in place
    bool limit_reached = false; // writeback_limit ran out
    bool device_full = false;   // no free block was left for some
};

// The secondary algorithm currently set for a priority (the recomp_algorithm attribute).
struct RecompAlgorithm {
    unsigned priority = 0;
    std::string algorithm;
    CodecParams params;
};

struct StoreConfig {
    std::uint64_t disksize = 0;       // bytes; rounded up to whole pages; 0 is EINVAL
    std::string algorithm = "lzo-rle"; // the kernel's default
    CodecParams params;
    std::uint64_t mem_limit = 0;      // bytes, 0 = none
    unsigned streams = 0;             // compression streams; 0 = one per CPU
    // For a store used as swap by the process serving it: writes and reads never fault in new
    // memory (a fault in an I/O-flusher thread under pressure can deadlock). The slot table and
    // codec workspaces are populated at creation, object memory is kept populated ahead by a
    // refill thread (reserve_pages_per_class pages per size class, doubling for a class that
    // runs dry while all of them stay within reserve_limit_bytes, halving again after ~10 s
    // without a miss; a class that ran dry borrows a slot of a larger class, and the top class
    // keeps a quarter of reserve_limit_bytes, at least 256 KiB, as the pool every write can
    // use); a write that finds no populated memory waits a few ms for it, then fails with
    // ENOMEM.
    bool never_fault_on_io = false;
    std::uint32_t reserve_pages_per_class = 2;
    // 0: sized from the machine (1/16 of RAM, 4 to 16 MiB; at most 1/16 of mem_limit).
    std::uint64_t reserve_limit_bytes = 0;
    // Runs first on the refill thread. A swap server makes it an I/O flusher: the refiller's
    // faults must not write swap to the very device whose writes wait for the refiller.
    std::function<void()> refill_thread_setup;
    // false: no refill thread; tests refill (and run its maintenance) by hand.
    bool refill_thread = true;
    // Where the store's memory lives. 0: private to this process, gone with it. Otherwise the
    // key of a System V shared memory segment made for it (EEXIST if the key is taken) that
    // outlives the process, locked in RAM so it is never swapped out, and that
    // PageStore::attach() takes over again: swap that survives its server.
    std::int32_t shared_memory_key = 0;
};

class PageStore {
public:
    // Validates the config (algorithm, params, size) and builds an empty store.
    static Result<std::unique_ptr<PageStore>> create(const StoreConfig& config);
    // Takes over the store kept in shared memory segment `key` (see StoreConfig) by a process
    // that died or let go of it: every page written before reads back. The size, algorithm,
    // params, streams, memory limit, recompression codecs and saved settings come from the
    // segment; never_fault_on_io, the reserve and refill_thread_setup from `runtime`.
    // ENOENT: no such segment. EPROTO: a layout this binary does not know, EBADMSG: a damaged
    // header; in both cases the segment is left exactly as it was.
    static Result<std::unique_ptr<PageStore>> attach(std::int32_t key, const StoreConfig& runtime);
    // Removes shared memory segment `key` (the device is gone for good). Its memory goes back
    // once no process has it attached. ENOENT: no such segment.
    static Status remove_shared_memory(std::int32_t key);
    // Whether segment `key` holds a store (of any layout version): it has the store's magic.
    static bool is_shared_store(std::int32_t key);
    // The keys in [first, last] that have a shared memory segment now.
    static std::vector<std::int32_t> shared_memory_keys(std::int32_t first, std::int32_t last);
    virtual ~PageStore() = default;

    virtual std::uint64_t page_count() const = 0;
    virtual std::uint64_t disksize() const = 0;
    virtual const std::string& algorithm() const = 0;
    virtual const CodecParams& params() const = 0;
    virtual unsigned streams() const = 0;

    // Whole pages. Unwritten or discarded pages read as zeros. A write past the memory limit
    // fails with ENOMEM and leaves the page as it was. Index out of range: EINVAL (invalid_io).
    // Decompression failure of stored data: EIO (failed_reads) -- never silent corruption.
    virtual Status write_page(std::uint64_t index, PageView data) = 0;
    virtual Status read_page(std::uint64_t index, MutablePageView out) = 0;

    // Any byte range, any alignment: partial pages are read, modified and rewritten atomically
    // with respect to other callers on the same page. What the block device's READ/WRITE use.
    virtual Status write_bytes(std::uint64_t offset, std::span<const std::byte> data) = 0;
    virtual Status read_bytes(std::uint64_t offset, std::span<std::byte> out) = 0;

    // Frees whole pages in [first, first + count) (DISCARD / WRITE_ZEROES / swap slot free);
    // every page in the range counts once in notify_free, as the kernel's discard does.
    virtual void discard(std::uint64_t first, std::uint64_t count) = 0;

    // Many consecutive pages, compressed on the pool's threads (bulk writes). Stops at the first
    // error and reports it; pages before it are written.
    virtual Status write_pages(std::uint64_t first, std::span<const std::byte> pages,
                               ThreadPool& pool) = 0;

    // Frees every page (the kernel's reset minus forgetting the config).
    virtual void clear() = 0;

    virtual MmStat mm_stat() const = 0;
    virtual IoStat io_stat() const = 0;
    virtual void reset_mem_used_max() = 0;
    virtual void set_mem_limit(std::uint64_t bytes) = 0;
    // Never-fault mode: bytes populated ahead for future objects (not in mem_used_total: they
    // hold no data) and writes refused because none was ready.
    virtual std::uint64_t reserve_bytes() const { return 0; }
    virtual std::uint64_t reserve_misses() const { return 0; }
    // Never-fault mode: a count that changes whenever the refill thread has published memory
    // (a write that found none may succeed now). Constant where there is no reserve.
    virtual std::uint64_t reserve_progress() const { return 0; }
    // The heap the store's bookkeeping holds outside its arena (zero where there is none).
    virtual StoreBookkeeping bookkeeping() const { return {}; }
    // ... of those misses: objects placed in a larger class's slot instead, writes that waited
    // for the refiller, and writes refused after that wait.
    struct ReserveEvents {
        std::uint64_t borrows = 0;
        std::uint64_t waits = 0;
        std::uint64_t refusals = 0;
        // The refill thread: pages populated, time spent populating them, and the longest one
        // size class's population took.
        std::uint64_t refilled_pages = 0;
        std::uint64_t refill_busy_us = 0;
        std::uint64_t slowest_refill_us = 0;
        // The refill thread's CPU time: its refill passes (and how many) and its maintenance.
        std::uint64_t refill_runs = 0;
        std::uint64_t refill_cpu_us = 0;
        std::uint64_t maintenance_cpu_us = 0;
    };
    virtual ReserveEvents reserve_events() const { return {}; }
    // What a take-over found in memory: the pages of the store that were resident (left by the
    // dead server) and mapped into this process before it served, so that no I/O thread faults
    // on them, and those it could not map (their first access faults).
    struct TakeOverMapping {
        std::uint64_t mapped_pages = 0;
        std::uint64_t unmapped_pages = 0;
    };
    virtual TakeOverMapping takeover_mapping() const { return {}; }

    // Moves objects out of sparse spans and returns the freed memory; returns pages freed.
    virtual std::uint64_t compact() = 0;

    // The kernel's idle attribute: marks pages not accessed for at least age_seconds
    // (0 = all written pages) idle; returns how many were marked.
    virtual std::uint64_t mark_idle(std::uint64_t age_seconds) = 0;

    // The kernel's recomp_algorithm: the secondary algorithm of a priority (1..3). Setting it
    // again (or training a dictionary) adds a new generation; pages compressed with older
    // generations still decode. Unknown algorithm or bad params: EINVAL.
    virtual Status set_recomp_algorithm(unsigned priority, const std::string& algorithm,
                                        const CodecParams& params) {
        (void)priority, (void)algorithm, (void)params;
        return make_error(EOPNOTSUPP, "this store has no recompression");
    }

    // Trains a zstd dictionary (at most dict_bytes) on up to sample_pages pages spread over the
    // device and makes it a new generation of priority's recomp algorithm (which must be zstd).
    // Returns the dictionary's size.
    virtual Result<std::size_t> train_recomp_dictionary(unsigned priority, std::size_t dict_bytes,
                                                        std::uint64_t sample_pages) {
        (void)priority, (void)dict_bytes, (void)sample_pages;
        return make_error(EOPNOTSUPP, "this store has no recompression");
    }

    // The kernel's recompress: recompresses matching pages on the calling thread, keeping a
    // result only when it lands in a smaller size class. Foreground reads and writes of a page
    // wait at most for a handle swap. No recomp algorithm at that priority: EINVAL.
    virtual Result<RecompressReport> recompress(const RecompressOptions& options) {
        (void)options;
        return make_error(EOPNOTSUPP, "this store has no recompression");
    }

    // The current generation of each priority that has one, in priority order.
    virtual std::vector<RecompAlgorithm> recomp_algorithms() const { return {}; }

    // Writeback to a backing device (writeback.cpp). The device (a block device, or a regular
    // file) is kept with the store and opened again when a new process takes it over. It can be
    // set or changed ("" = none) only while no page is written back: EBUSY otherwise.
    virtual Status set_backing_device(const std::string& path) {
        (void)path;
        return make_error(EOPNOTSUPP, "this store has no writeback");
    }
    // The path, or "" for none.
    virtual std::string backing_device() const { return {}; }
    // Writes matching stored objects (single-page objects only: not same-filled, grouped or
    // deduplicated pages) to the backing device, packed several to a 4 KiB block, and frees
    // their memory. A written-back page reads back from the device; a rewrite or discard frees
    // its place there. ENODEV without a backing device; EIO when the limit is enabled and
    // spent before the call, or when the device fails (pages written until then stay there).
    virtual Result<WritebackReport> writeback(const WritebackOptions& options) {
        (void)options;
        return make_error(EOPNOTSUPP, "this store has no writeback");
    }
    virtual BdStat bd_stat() const { return {}; }
    // The coldest pages' age: the least time since their last write, in seconds, such that
    // the pages writeback() can take (single-page objects in RAM) that old or older hold at
    // least `bytes` compressed; 0 when all of them hold less. What a writeback that must free
    // `bytes` passes as min_age_seconds, so that it takes the least recently written first.
    virtual std::uint64_t coldest_age(std::uint64_t bytes) const {
        (void)bytes;
        return 0;
    }
    // Whether a write refused at the memory limit is one to wait for (a writeback is making
    // room: the writeback policy's room on demand) rather than to fail at once. Set by the
    // daemon; not kept with the store.
    virtual void set_limit_waits(bool on) { (void)on; }
    virtual bool limit_waits() const { return false; }
    // Whether a read of [offset, offset + length) would go to the backing device (some page in
    // it is written back), so that the caller can serve it off a thread that must not wait for
    // a disk. A look without locks: the answer may be stale by the time of the read, which
    // then still returns the right data, only on the other thread.
    virtual bool reads_backing_device(std::uint64_t offset, std::uint64_t length) const {
        (void)offset;
        (void)length;
        return false;
    }
    virtual BackingUsage backing_usage() const { return {}; }
    // Repacks the backing device: the live objects of blocks at most 3/4 full are read,
    // checked and written packed into new blocks, and their slots switched there, so the old
    // blocks empty and are reused. Each new block is written before any slot points to it, and
    // an old one is reused only once no slot does: a process killed meanwhile loses nothing.
    // Its writes count in bd_writes and against writeback_limit when enabled. Nothing to do
    // (no backing device, nothing sparse) is an empty report; EIO when the device fails.
    virtual Result<BackingCompaction> compact_backing() { return BackingCompaction{}; }
    // writeback_limit (4 KiB blocks still allowed) and writeback_limit_enable, kept with the
    // store.
    virtual void set_writeback_limit(std::uint64_t blocks) { (void)blocks; }
    virtual std::uint64_t writeback_limit() const { return 0; }
    virtual void set_writeback_limit_enable(bool on) { (void)on; }
    virtual bool writeback_limit_enable() const { return false; }
    // The writeback_policy attribute's text, kept with the store as save_policy's (at most
    // 255 bytes).
    virtual Status save_writeback_policy(std::string_view text) {
        (void)text;
        return {};
    }
    virtual std::string saved_writeback_policy() const { return {}; }

    // Multi-page objects and deduplication (see ObjectStat).
    virtual ObjectStat object_stat() const { return {}; }

    // A device setting kept with the store, so it comes back with it after attach (the
    // recompress_policy attribute's text). Saving replaces it atomically; at most 511 bytes.
    virtual Status save_policy(std::string_view text) {
        (void)text;
        return {};
    }
    virtual std::string saved_policy() const { return {}; }
    // Recovery: how many times a new process took this store over, and pages found unusable
    // when it did (they read as EIO until rewritten; never silently wrong).
    virtual std::uint64_t attaches() const { return 0; }
    virtual std::uint64_t damaged_pages() const { return 0; }
};

// Named recompression setups for users and the benchmark (see recompress_policy.cpp).
struct RecompressPolicy {
    std::string_view name;
    std::string_view algorithm;
    int level;
    std::size_t dictionary_bytes; // 0 = no trained dictionary
    std::uint64_t sample_pages;   // pages sampled to train it
    unsigned group_pages;         // multi-page objects of up to this many pages (1 = none)
    bool dedup;                   // share identical pages first
    std::string_view description;
};

std::span<const RecompressPolicy> recompress_policies();
const RecompressPolicy* find_recompress_policy(std::string_view name);
// "fast balanced strong strongest", for messages.
std::string recompress_policy_names();

// Sets the policy's algorithm as recomp priority `priority`, trains its dictionary on the
// store's pages, recompresses every page matching options, then compacts the store so the
// memory of the replaced objects is given back. cpu_seconds includes training and compaction.
Result<RecompressReport> run_recompress_policy(PageStore& store, const RecompressPolicy& policy,
                                               RecompressOptions options);

} // namespace trueno
