// The PageStore implementation: a slot table (one locked entry per page), a pool of
// compression streams and the size-class allocator, all in one arena (arena.hpp,
// store_layout.hpp) that can outlive the process.
#pragma once

#include "arena.hpp"
#include "backing_blocks.hpp"
#include "backing_device.hpp"
#include "group_cache.hpp"
#include "recomp_codecs.hpp"
#include "shared_objects.hpp"
#include "size_class_allocator.hpp"
#include "slot_table.hpp"
#include "store_layout.hpp"
#include "stream_pool.hpp"
#include "trueno/page_store.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace trueno::store {

// Compressed objects at least this large are stored raw as "huge" pages (kernel zsmalloc's
// huge class size with its default 8-page chain, so huge_pages means the same as in zram).
inline constexpr std::size_t kHugeSize = 3632;

class CompressedPageStore final : public PageStore, private ObjectOwners {
public:
    static Result<std::unique_ptr<PageStore>> create(const StoreConfig& config);
    static Result<std::unique_ptr<PageStore>> attach(std::int32_t key, const StoreConfig& runtime);
    // The refill thread (which runs store maintenance) stops before any member goes.
    ~CompressedPageStore() override { allocator_->stop_reserve(); }

    std::uint64_t page_count() const override { return slots_.size(); }
    std::uint64_t disksize() const override { return slots_.size() * kPageSize; }
    const std::string& algorithm() const override { return algorithm_; }
    const CodecParams& params() const override { return params_; }
    unsigned streams() const override { return streams_->size(); }

    Status write_page(std::uint64_t index, PageView data) override;
    Status read_page(std::uint64_t index, MutablePageView out) override;
    Status write_bytes(std::uint64_t offset, std::span<const std::byte> data) override;
    Status read_bytes(std::uint64_t offset, std::span<std::byte> out) override;
    void discard(std::uint64_t first, std::uint64_t count) override;
    Status write_pages(std::uint64_t first, std::span<const std::byte> pages,
                       ThreadPool& pool) override;
    void clear() override;

    MmStat mm_stat() const override;
    IoStat io_stat() const override;
    void reset_mem_used_max() override { allocator_->reset_max_used_pages(); }
    void set_mem_limit(std::uint64_t bytes) override;
    std::uint64_t reserve_bytes() const override { return allocator_->reserve_pages() * kPageSize; }
    StoreBookkeeping bookkeeping() const override { return allocator_->bookkeeping(); }
    std::uint64_t reserve_misses() const override { return allocator_->reserve_misses(); }
    std::uint64_t reserve_progress() const override { return allocator_->refill_progress(); }
    ReserveEvents reserve_events() const override {
        return {allocator_->borrows(),         allocator_->reserve_waits(),  allocator_->reserve_refusals(),
                allocator_->refilled_pages(), allocator_->refill_busy_us(), allocator_->slowest_refill_us(),
                allocator_->refill_runs(),    allocator_->refill_cpu_us(),  allocator_->maintenance_cpu_us()};
    }
    TakeOverMapping takeover_mapping() const override { return takeover_mapping_; }
    std::uint64_t compact() override { return allocator_->compact(*this); }
    std::uint64_t mark_idle(std::uint64_t age_seconds) override;

    // Recompression (recompress.cpp).
    Status set_recomp_algorithm(unsigned priority, const std::string& algorithm,
                                const CodecParams& params) override;
    Result<std::size_t> train_recomp_dictionary(unsigned priority, std::size_t dict_bytes,
                                                std::uint64_t sample_pages) override;
    Result<RecompressReport> recompress(const RecompressOptions& options) override;
    std::vector<RecompAlgorithm> recomp_algorithms() const override;
    ObjectStat object_stat() const override;
    // Writeback (writeback.cpp).
    Status set_backing_device(const std::string& path) override;
    std::string backing_device() const override;
    Result<WritebackReport> writeback(const WritebackOptions& options) override;
    BdStat bd_stat() const override;
    std::uint64_t coldest_age(std::uint64_t bytes) const override;
    void set_limit_waits(bool on) override { limit_waits_.store(on, std::memory_order_relaxed); }
    bool limit_waits() const override { return limit_waits_.load(std::memory_order_relaxed); }
    bool reads_backing_device(std::uint64_t offset, std::uint64_t length) const override;
    BackingUsage backing_usage() const override;
    Result<BackingCompaction> compact_backing() override;
    void set_writeback_limit(std::uint64_t blocks) override {
        header_.writeback_limit.store(blocks);
    }
    std::uint64_t writeback_limit() const override { return header_.writeback_limit.load(); }
    void set_writeback_limit_enable(bool on) override;
    bool writeback_limit_enable() const override;
    Status save_writeback_policy(std::string_view text) override;
    std::string saved_writeback_policy() const override;
    // Where a written-back page's object is on the backing device, for tests.
    std::optional<BackingLocation> backing_place(std::uint64_t index);
    // Blocks of the backing device in use, and the live bytes in them.
    std::uint64_t backing_used_blocks() const;
    Status save_policy(std::string_view text) override;
    std::string saved_policy() const override;
    std::uint64_t attaches() const override { return header_.attaches.load(); }
    std::uint64_t damaged_pages() const override { return damaged_pages_.load(std::memory_order_relaxed); }
    // Which codec id (0 = the store's algorithm) holds a page, for tests.
    unsigned codec_id(std::uint64_t index);
    // object_stat's recompressed_pages, counted by a pass over the slot table.
    std::uint64_t recompressed_pages() const;

    // The bytes stored for a page (empty for unwritten and same-filled pages), for diagnostics
    // and for tests that must damage stored data to prove it is never returned silently.
    // Valid only while nothing else touches that page.
    std::span<std::byte> stored_object(std::uint64_t index);
    bool is_idle(std::uint64_t index);
    // Whether a page's object sits in a larger size class than its size needs (borrowed).
    bool borrowed(std::uint64_t index);
    // What the refill thread does, on the calling thread: a refill, then maintenance (tests).
    void maintain_now() {
        allocator_->refill_now();
        maintain();
    }
    std::uint64_t borrows() const { return allocator_->borrows(); }
    // The shared object a page refers to, for tests that recount the statistics.
    struct SharedPage {
        std::uint32_t id;
        bool group;
        std::uint32_t member;
        std::uint32_t refs;
        SharedObjects::Info info;
    };
    std::optional<SharedPage> shared_page(std::uint64_t index);

private:
    // What a slot holds: its kind bits (slot_flags, size included) and value.
    struct Content {
        std::uint32_t kind = 0;
        std::uint64_t value = 0;
        bool empty() const {
            return (kind & (slot_flags::kSame | slot_flags::kObject | slot_flags::kShared |
                            slot_flags::kBacked)) == 0;
        }
    };
    // A page's slot as seen by a background pass: kind, value and the object's bytes.
    struct Snapshot {
        std::uint64_t index = 0;
        std::uint32_t kind = 0;
        std::uint64_t value = 0;
        std::size_t size = 0;
        std::uint32_t access_time = 0;
        alignas(64) std::array<std::byte, kPageSize> bytes;
    };

    // The arena's header is written; streams are made from its identity.
    CompressedPageStore(Arena arena, std::string algorithm, CodecParams params,
                        std::unique_ptr<StreamPool> streams);
    // What a new device or a taken-over store does before serving I/O (see StoreConfig). A
    // taken-over store leaves its first refill to the refill thread (enable_reserve).
    Status prepare_for_io(const StoreConfig& runtime, bool taken_over);
    // On the refill thread when the reserve is ready: objects that borrowed a larger size
    // class's slot under pressure move back to their own class (from the reserve only), then
    // emptied pages become reserve or go back (store_maintenance.cpp).
    void maintain();
    // Moves up to `budget` borrowed objects back; returns how many it moved. Stops when the
    // own class has no populated room (it never borrows or waits).
    std::uint64_t rehome_borrowed(std::uint64_t budget);
    // Attach (store_attach.cpp): rebuilds allocator, shared-object references and statistics
    // from the slot table; replays the codec generations the header lists. keep_reserve: empty
    // pages still resident stay populated, as the reserve (SizeClassAllocator::finish_adoption).
    Status replay_generations();
    void rebuild(bool keep_reserve);
    void damage(Slot& slot); // slot locked
    // Copies bytes into the blob area (dictionaries); returns their offset in it.
    Result<std::uint64_t> store_blob(std::span<const std::byte> bytes);
    std::shared_ptr<const std::vector<std::byte>> load_blob(std::uint64_t offset, std::uint64_t bytes) const;
    CodecParams params_of(const CodecRecord& record) const;
    // Makes a recompression codec generation and records it in the header (dictionary
    // first: a generation pages can use is always one a new process can make again).
    Result<unsigned> add_generation(unsigned priority, const std::string& algorithm, const CodecParams& params);

    // The backing device set for the store, with its blocks' bookkeeping. Once set it is only
    // replaced while no slot points into it, so a reader that found a written-back slot
    // (under its lock) may use it; replaced ones are kept (their device closed) until the
    // store goes.
    struct Backing {
        std::string path;
        std::unique_ptr<BackingDevice> device; // null: it could not be opened at a take-over
        BackingBlocks blocks;
    };
    Backing* backing() const { return backing_.load(std::memory_order_acquire); }
    // Attach: opens the header's backing device again (same identity) and rebuilds its
    // blocks' bookkeeping from the written-back slots (rebuild() adds them).
    void reopen_backing();
    // A written-back page's object, read from the backing device and decoded (slot locked).
    Status decode_backed(std::uint64_t index, std::uint32_t kind, std::uint64_t value,
                         MutablePageView out);
    // One batch of a writeback pass: packs, writes (at most max_blocks in the whole pass, 0:
    // no limit) and switches the snapshots' slots.
    Status write_back_batch(Backing& backing, std::vector<Snapshot>& batch, std::size_t count,
                            WritebackReport& report, std::uint64_t max_blocks);
    // Of `wanted` blocks, how many writeback_limit still allows (all while it is disabled);
    // sets `reached` when it allows fewer.
    std::size_t limit_allows(std::size_t wanted, bool& reached) const;
    // Writes the first `allowed` of the plan's blocks whole, each with the parts of the
    // objects (objects[i] placed at plan.placed[i]) that lie in it, zeros after, counting
    // bd_writes and writeback_limit. written[k]: plan.blocks[k] is on the device. Stops at the
    // first failing write and returns its error (EIO).
    Status write_planned_blocks(Backing& backing, const BackingPlan& plan,
                                std::span<const std::span<const std::byte>> objects,
                                std::size_t allowed, std::vector<bool>& written);
    // One round of compact_backing (backing_compaction.cpp): at most `max_blocks` sparse
    // blocks, none of `stuck` (sorted; the blocks of damaged objects found are added).
    Status compact_backing_round(Backing& backing, std::size_t max_blocks,
                                 std::vector<std::uint64_t>& stuck, BackingCompaction& report);

    Status invalid(std::string what);
    Result<Content> encode(std::uint64_t index, PageView page);
    Content install(Slot& slot, Content content);  // slot locked; returns what it held
    void release(Content old);                      // frees the old object, if any
    Status decode(std::uint64_t index, Slot& slot, MutablePageView out); // slot locked
    // Decompresses an object copied out of a slot whose kind bits were `kind`.
    Status decode_object(std::uint64_t index, std::uint32_t kind, std::span<const std::byte> object,
                         MutablePageView out);
    // One page of recompress(); updates report.
    void recompress_page(std::uint64_t index, const RecompressOptions& options, unsigned codec,
                         RecompressReport& report);
    // Multi-page objects and deduplication (multi_page.cpp, dedup.cpp).
    Status decode_shared(std::uint64_t index, std::uint32_t kind, std::uint32_t id,
                         MutablePageView out);
    // Drops a reference to a shared object after a slot let go of it (or, with creator, the
    // reference its maker held), keeping the statistics exact.
    void drop_shared(std::uint32_t kind, std::uint32_t id, bool creator = false);
    bool snapshot(std::uint64_t index, Snapshot& out);       // false: not a single object
    bool unchanged(Slot& slot, const Snapshot& snap) const;  // slot locked
    std::uint64_t split_sparse_groups(RecompressReport& report);
    void split_group(std::uint32_t id, RecompressReport& report);
    void group_pass(const RecompressOptions& options, unsigned codec, RecompressReport& report);
    void flush_group(std::span<const Snapshot> run, std::span<std::byte> pages,
                     std::span<std::byte> payload, const RecompressOptions& options, unsigned codec,
                     RecompressReport& report);
    void dedup_pass(const RecompressOptions& options, unsigned codec, RecompressReport& report);
    // The dedup object a page holds or now becomes, with a reference for the caller, and
    // the page's contents in `page`; nullopt when the page changed or is not single.
    std::optional<std::uint32_t> dedup_object(std::uint64_t index, unsigned codec,
                                              MutablePageView page);
    // Codec id -> a stream of it (0 = the store's algorithm); nullopt for an unknown id.
    std::optional<StreamPool::Lease> stream_for(unsigned codec);
    void touch(Slot& slot);                          // slot locked
    Status write_partial(std::uint64_t index, std::size_t offset, std::span<const std::byte> data);
    bool range_valid(std::uint64_t offset, std::uint64_t length) const;
    std::uint32_t now_seconds() const;

    bool try_move(std::uint64_t owner, Handle from, Handle to, std::span<const std::byte> source,
                  std::span<std::byte> target) override;

    Arena arena_; // first: everything below lives in it or points into it
    ArenaHeader& header_;
    std::string algorithm_;
    CodecParams params_;
    SlotTable slots_;
    std::unique_ptr<StreamPool> streams_;
    std::unique_ptr<SizeClassAllocator> allocator_;
    SharedObjects objects_;
    GroupCache group_cache_;
    RecompCodecs recomp_;
    std::mutex pass_mutex_; // one recompression pass at a time
    std::mutex settings_mutex_; // generations, blobs and the saved policy in the header

    std::atomic<std::uint64_t> stored_pages_{0};
    std::atomic<std::uint64_t> compr_data_size_{0};
    std::atomic<std::uint64_t> same_pages_{0};
    std::atomic<std::uint64_t> huge_pages_{0};
    // Events, not states: kept in the header (they survive the process with the store).
    PersistentCounter& huge_pages_since_;
    PersistentCounter& failed_reads_;
    PersistentCounter& failed_writes_;
    PersistentCounter& invalid_io_;
    PersistentCounter& notify_free_;
    std::atomic<std::uint64_t> damaged_pages_{0};
    TakeOverMapping takeover_mapping_; // set once, before the store serves
    std::uint64_t rehome_cursor_ = 0;     // where the next rehoming scan goes on (refill thread)
    std::uint64_t rehome_seen_borrows_ = 0; // borrows() when clean scans began that covered all
    std::uint64_t rehome_clean_scanned_ = 0; // slots scanned since a run last found work
    std::uint64_t rehome_clean_since_ = 0;   // borrows() when those scans began
    std::atomic<std::uint64_t> grouped_pages_{0};
    std::atomic<std::uint64_t> groups_{0};
    std::atomic<std::uint64_t> dedup_slots_{0}; // slots referring to deduplicated objects
    std::atomic<std::uint64_t> shared_objects_{0};
    std::atomic<std::uint64_t> backed_pages_{0}; // bd_count
    std::atomic<bool> limit_waits_{false};
    std::atomic<Backing*> backing_{nullptr};
    std::vector<std::unique_ptr<Backing>> backings_; // settings_mutex_; the last is current
};

} // namespace trueno::store
