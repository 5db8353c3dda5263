// The compressed-object allocator (what zsmalloc is to kernel zram).
//
// Objects are rounded up to a size class (16 bytes apart) and packed back to back in the
// class's segments: 16 MiB pieces of the class's region of the store's arena (faulted in
// lazily), in which slot i of the class lives at i * class_size. Objects straddle page boundaries freely,
// so there is no per-span tail waste and at most one partly used page at the top of each
// class. Memory is accounted per page: a page counts in used_pages() from the first object
// placed on it until it is given back (madvise) after its last object left -- exactly the
// memory the store holds, not just live bytes.
//
// Each class has its own lock. Compaction moves the highest objects of a class into its lowest
// free slots, using the back-reference slot -> owner to let the owner (the store) re-point its
// handle under its own per-page lock. It neither allocates nor faults under a class lock: the
// pages given back under the slots it fills are populated before, without the lock.
//
// Nothing of the bookkeeping here lives in the arena: a process that takes over a store
// rebuilds it from the objects its owners hold (adopt(), finish_adoption()), so a process
// killed in the middle of an allocation or a compaction leaves nothing to repair.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "page_ranges.hpp"
#include "arena.hpp"
#include "store_layout.hpp"
#include "trueno/background_failures.hpp"
#include "trueno/page.hpp"
#include "trueno/result.hpp"
#include "trueno/store_bookkeeping.hpp"

namespace trueno::store {

// Class index in the top 8 bits, slot within the class below.
using Handle = std::uint64_t;

// Called by compaction for each object it wants to move. The owner must lock the page that
// owns the object without waiting (return false if busy), check it still refers to `from`,
// copy `source` into `target` and re-point itself to `to`, all under that lock.
class ObjectOwners {
public:
    virtual bool try_move(std::uint64_t owner, Handle from, Handle to,
                          std::span<const std::byte> source, std::span<std::byte> target) = 0;

protected:
    ~ObjectOwners() = default;
};

class SegmentDirectory;

class SizeClassAllocator {
    friend class SegmentDirectory;

public:
    static constexpr std::size_t kClassStep = 16;
    static constexpr std::size_t kSegmentBytes = store::kSegmentBytes;

    // The counters that outlive the process (in the arena's header).
    struct Counters {
        PersistentCounter& limit_pages;
        PersistentCounter& max_used_pages;
        PersistentCounter& pages_compacted;
    };

    // Objects go into the class regions the geometry gives, inside `arena`.
    SizeClassAllocator(Arena& arena, const ArenaGeometry& geometry, Counters counters);
    ~SizeClassAllocator();
    SizeClassAllocator(const SizeClassAllocator&) = delete;
    SizeClassAllocator& operator=(const SizeClassAllocator&) = delete;

    // Never-fault mode (for a store used as swap): allocate() and free() touch only memory
    // that is already populated. A refill thread (whose faults may reclaim) keeps
    // `pages_per_class` pages beyond each class's top populated, creates segments and grows
    // metadata ahead of need; a class that runs dry doubles its window. An allocation that
    // would need an unpopulated page waits at most a few ms for the refiller, then fails with
    // ENOMEM (the caller's write fails and is retried later) instead of faulting in a thread
    // that may not reclaim. In this mode free() keeps emptied pages (compact() gives them
    // back). With background = false no thread runs and refill_now() does the work (tests).
    // Call once, before any allocation.
    // thread_setup runs first on the refill thread. budget_pages caps the sum of every class's
    // window (0: no cap), so the populated reserve a burst grew stays bounded.
    // The first reserve is populated before this returns, or with first_fill_on_thread (and a
    // background thread) by the refill thread as it starts: a store taken over serves at once
    // with the reserve it adopted, never waiting for new memory the machine may not have.
    void enable_reserve(std::uint32_t pages_per_class, bool background = true,
                        std::function<void()> thread_setup = {}, std::uint64_t budget_pages = 0,
                        bool first_fill_on_thread = false);
    // One refill pass over every class, on the calling thread.
    void refill_now();
    // Populated pages not holding objects: not in used_pages() (they hold no data).
    std::uint64_t reserve_pages() const { return reserve_pages_.load(std::memory_order_relaxed); }
    // What the refiller aims to keep populated: the sum of every class's window, in pages (each
    // class may hold a page or two more where its slots straddle pages).
    std::uint64_t reserve_target_pages() const { return windows_total_.load(std::memory_order_relaxed); }
    // Allocations whose own class had no populated room (then served by a larger class's
    // populated slot, or refused).
    std::uint64_t reserve_misses() const { return reserve_misses_.load(std::memory_order_relaxed); }
    // Changes each time the refiller publishes populated pages: a caller that found the reserve
    // empty tries again when it has changed (ublk queues park such writes until then).
    std::uint64_t refill_progress() const {
        return refill_progress_.load(std::memory_order_acquire);
    }

    // An object of 1..kPageSize bytes owned by `owner` (a page index). ENOMEM when it would
    // take used_pages() past the limit or the OS refuses memory.
    Result<Handle> allocate(std::size_t size, std::uint64_t owner);
    // The same in the object's own size class only: never a borrowed slot of a larger class,
    // never a wait for the refiller (ENOMEM instead). For moving borrowed objects back.
    Result<Handle> allocate_in_own_class(std::size_t size, std::uint64_t owner);
    // Objects placed in a larger class's slot because their own class had no populated room,
    // since the store was made or taken over (a count of events, not of objects still there).
    std::uint64_t borrows() const { return borrows_.load(std::memory_order_relaxed); }
    // Allocations that waited for the refiller, and those refused after the wait (ENOMEM).
    std::uint64_t reserve_waits() const { return reserve_waits_.load(std::memory_order_relaxed); }
    std::uint64_t reserve_refusals() const { return reserve_refusals_.load(std::memory_order_relaxed); }
    // The refiller's work: pages it populated, the time it spent populating them, and the
    // longest one class's population took (under pressure each page may wait in reclaim).
    std::uint64_t refilled_pages() const { return refilled_pages_.load(std::memory_order_relaxed); }
    std::uint64_t refill_busy_us() const { return refill_busy_us_.load(std::memory_order_relaxed); }
    std::uint64_t slowest_refill_us() const { return slowest_refill_us_.load(std::memory_order_relaxed); }
    // The refill thread's own cost: refill passes run (one per wake-up that found reserve used)
    // and the CPU time they took (populating included), and the CPU time of its maintenance
    // (moving borrowed objects back, trimming); thread CPU time, not wall time.
    std::uint64_t refill_runs() const { return refill_runs_.load(std::memory_order_relaxed); }
    std::uint64_t refill_cpu_us() const { return refill_cpu_us_.load(std::memory_order_relaxed); }
    std::uint64_t maintenance_cpu_us() const { return maintenance_cpu_us_.load(std::memory_order_relaxed); }
    // Classes refill passes looked at (a pass looks only at those whose reserve was used).
    std::uint64_t refill_class_visits() const { return class_visits_.load(std::memory_order_relaxed); }
    // Segments trim_empty_pages walked page by page (it skips those where no page emptied).
    std::uint64_t trim_segments_walked() const { return segments_trimmed_.load(std::memory_order_relaxed); }
    // Never-fault mode: pages that lost their last object stay counted until something gives
    // them back; this turns them into reserve (up to each class's window) or returns them to
    // the OS, so mem_used_total counts pages that hold data. It also halves the window of a
    // class that missed nothing for a while (down to the configured one; the top class keeps
    // an emergency pool) and gives back the reserve beyond it. Returns the pages given back.
    std::uint64_t trim_empty_pages();
    // Never-fault mode: work for the refill thread when the reserve is full and no write found
    // it dry for a while (the store moves borrowed objects back to their own class). Runs at
    // most every few hundred ms. Call before enable_reserve().
    void set_maintenance(std::function<void()> work) { maintenance_ = std::move(work); }
    // Called on the refilling thread each time a refill has published pages, before it
    // populates more (no lock held): tests place objects there, as writers do meanwhile.
    void set_publish_observer(std::function<void()> observer) { publish_observer_ = std::move(observer); }
    // Stops and joins the refill thread (an owner whose maintenance work uses its own members
    // calls it first in its destructor). Idempotent.
    void stop_reserve();
    // Refill or maintenance passes that threw (each logged at most every few seconds); the
    // refill thread carries on and tries again on its next period.
    std::uint64_t background_failures() const { return failures_.count(); }
    void free(Handle handle);

    // The object's bytes; valid until it is freed or moved (the owner's lock prevents both).
    std::byte* address(Handle handle) const;
    std::size_t class_size(Handle handle) const;

    // Taking over a store: the owners declare every object that exists (adopt), then
    // finish_adoption() counts the pages objects touch and gives back the rest, except, with
    // keep_populated (never-fault mode follows), empty pages still resident, which become the
    // reserve. EINVAL for
    // a handle outside the arena or of size 0, EEXIST for one already adopted (its owner's
    // entry is damaged). Call before enable_reserve() and before any allocation.
    Status adopt(Handle handle, std::uint64_t owner);
    void finish_adoption(bool keep_populated = false);
    // A handle that lies inside its class's region.
    bool valid(Handle handle) const;

    // Moves objects out of sparse places and gives empty pages and segments back to the OS.
    // Objects go only into populated memory (an object whose hole could not be populated stays
    // where it is). Returns the pages given back.
    std::uint64_t compact(ObjectOwners& owners);

    void set_limit_pages(std::uint64_t pages) { counters_.limit_pages.store(pages); }
    std::uint64_t limit_pages() const { return counters_.limit_pages.load(); }
    std::uint64_t used_pages() const { return used_pages_.load(std::memory_order_relaxed); }
    std::uint64_t max_used_pages() const { return counters_.max_used_pages.load(); }
    void reset_max_used_pages() { counters_.max_used_pages.store(used_pages()); }
    std::uint64_t pages_compacted() const { return counters_.pages_compacted.load(); }
    void reset_counters();

    // The heap this bookkeeping holds (not the arena). Takes each class's lock in turn.
    using Bookkeeping = StoreBookkeeping;
    Bookkeeping bookkeeping() const;

    static std::size_t class_count();
    static std::size_t size_of_class(std::size_t class_index);
    static std::size_t class_for_size(std::size_t size);

private:
    struct Segment;
    struct SizeClass;

    bool reserve_pages(std::uint64_t pages);
    void unreserve_pages(std::uint64_t pages);
    Result<Segment*> segment_for_slot(SizeClass& cls, std::uint64_t slot);
    std::unique_ptr<Segment> make_segment(const SizeClass& cls, std::uint64_t index) const;
    std::uint64_t new_pages_for(const SizeClass& cls, std::uint64_t slot) const;
    void place(SizeClass& cls, std::uint64_t slot, std::uint64_t owner);
    bool populated(const SizeClass& cls, std::uint64_t slot) const;
    // note_miss = false: a fallback attempt in a larger class; an empty reserve there is not
    // that class's miss (its window does not grow).
    Result<Handle> allocate_populated(SizeClass& cls, std::size_t class_index, std::uint64_t owner,
                                      bool note_miss = true);
    // Doubles a dry class's window if the budget allows (under cls.lock).
    void grow_window(SizeClass& cls);
    // Halves the window of a class that missed nothing for a while (under cls.lock).
    void shrink_quiet_window(SizeClass& cls);
    // A populated slot in any class above class_index, for an object whose own class ran dry.
    Result<Handle> allocate_populated_above(std::size_t class_index, std::uint64_t owner);
    // Populates what cls lacks of its window (at most page_limit pages; 0: no limit),
    // publishing the pages a few at a time as they come. True if it stopped at the limit.
    bool refill_class(SizeClass& cls, std::uint64_t page_limit = 0);
    // After pages were published: allocations waiting for the refiller look again.
    void note_refill_progress();
    void refill_loop(std::stop_token stop) noexcept;
    void wake_refill();
    // Classes the next refill pass visits: marked by allocations from the reserve, misses,
    // compaction and enable_reserve; cleared by the pass as it takes each.
    void want_refill(std::size_t class_index);
    void want_refill_everywhere();
    bool take_refill_wanted(std::size_t class_index);
    template <typename Visit>
    void for_each_refill_wanted(Visit&& visit);
    void remove(SizeClass& cls, std::uint64_t slot, bool note_emptied = true);
    std::uint64_t release_empty_pages(SizeClass& cls);
    std::uint64_t compact_class(SizeClass& cls, std::size_t class_index, ObjectOwners& owners);
    // Compaction's steps under cls.lock (see compact_class).
    void plan_hole_pages(SizeClass& cls, std::span<const std::uint64_t> holes,
                         std::vector<std::uint64_t>& planned);
    void populate_planned(SizeClass& cls, std::vector<std::uint64_t>& planned,
                          std::unique_lock<std::mutex>& guard);
    std::uint64_t give_back_empty(SizeClass& cls, std::vector<std::unique_ptr<Segment>>& retired);

    Arena& arena_;
    Counters counters_;
    std::vector<std::unique_ptr<SizeClass>> classes_;
    std::atomic<std::uint64_t> used_pages_{0};

    std::uint32_t reserve_window_ = 0; // 0: plain mode (faults allowed)
    std::uint64_t reserve_budget_ = 0; // most pages the windows may sum to; 0: no cap
    std::atomic<std::uint64_t> windows_total_{0};
    std::atomic<std::uint64_t> reserve_pages_{0};
    std::atomic<std::uint64_t> reserve_misses_{0};
    std::atomic<std::uint64_t> borrows_{0};
    std::atomic<std::uint64_t> reserve_waits_{0};
    std::atomic<std::uint64_t> reserve_refusals_{0};
    std::atomic<std::uint64_t> refilled_pages_{0};
    std::atomic<std::uint64_t> refill_busy_us_{0};
    std::atomic<std::uint64_t> slowest_refill_us_{0};
    std::function<void()> maintenance_;
    std::function<void()> publish_observer_;
    // A refill's plan (under refill_mutex_): pages to populate, segments and page-map chunks
    // to make. Capacity made once, by enable_reserve().
    std::vector<PageRange> plan_ranges_;
    std::vector<std::uint64_t> plan_segments_;
    std::vector<std::uint64_t> plan_chunks_;
    std::mutex refill_mutex_; // one refill at a time; compaction holds it to unmap segments
    std::mutex wake_mutex_;
    std::condition_variable_any wake_;
    std::atomic<bool> wake_pending_{false};
    std::condition_variable_any refilled_; // after each refill period, for waiting allocations
    std::atomic<std::uint64_t> refill_passes_{0};
    std::atomic<std::uint64_t> refill_progress_{0}; // pages published, for waiting allocations
    std::atomic<bool> reserve_used_{false}; // an allocation or compaction since the last refill
    std::array<std::atomic<std::uint64_t>, 4> refill_wanted_{}; // one bit a class (256)
    std::atomic<std::uint64_t> refill_runs_{0};
    std::atomic<std::uint64_t> refill_cpu_us_{0};
    std::atomic<std::uint64_t> maintenance_cpu_us_{0};
    std::atomic<std::uint64_t> segments_trimmed_{0};
    std::atomic<std::uint64_t> class_visits_{0};
    BackgroundFailures failures_{"store refill thread"};
    std::jthread refiller_; // last: stopped and joined before the classes go
};

} // namespace trueno::store
