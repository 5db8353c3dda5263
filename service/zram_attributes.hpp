// Kernel zram's sysfs attributes over one page store: the same names, value formats and errors
// as /sys/block/zramN/*, independent of ublk so it is testable without a kernel.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

// The recompression worker lives with the store code (lib/store); its header is not public.
#include "auto_compaction.hpp"
#include "device_manager.hpp"
#include "device_worker.hpp"
#include "trueno/background_recompressor.hpp"
#include "trueno/page_store.hpp"
#include "trueno/result.hpp"
#include "trueno/writeback_policy.hpp"

namespace trueno::service {

class ZramAttributes {
public:
    // The store is initialised (disksize set) for the attributes' whole life: a ublk device's
    // size is fixed when it starts, so writes that need an uninitialised device are EBUSY.
    // Recompression settings are the exception: recomp_algorithm and a secondary priority's
    // algorithm_params change a live device (each adds a codec generation; pages written with
    // older ones still decode). Starts the device's recompression worker thread, which the
    // destructor stops.
    ZramAttributes(std::shared_ptr<PageStore> store, StoreConfig config);

    // Every readable attribute (disksize, initstate, comp_algorithm, algorithm_params is
    // write-only and absent, mem_limit, mm_stat, io_stat, debug_stat, recomp_algorithm, ...).
    AttributeMap read_all() const;

    // One attribute; ENOENT for an unknown name, EACCES for a write-only one.
    Result<std::string> read(const std::string& name) const;

    // The kernel's semantics and errors: EINVAL for bad values, EBUSY for init-only attributes,
    // EACCES for read-only ones, ENOENT for unknown names. "reset" is not handled here (the
    // device manager removes the device). "recompress" queues the work on the device's
    // recompression thread and returns at once (recompress_status shows when it is done);
    // EBUSY while the previous one still runs. "compact", "idle" and "writeback" run on the
    // device's worker (as write_async); this waits for them, as the kernel's write does.
    Status write(const std::string& name, const std::string& value);

    // write() for a caller that must not wait: done gets the result. compact and idle (which
    // walk the whole store: seconds on a large one) are queued on the device's worker, done is
    // called there once they are over, and they hold no lock of the caller's meanwhile; a bad
    // value, and every other attribute, is done on this thread before this returns. A slow
    // write still queued when the attributes go gets ENODEV.
    void write_async(const std::string& name, const std::string& value, WriteDone done);

    // Called every few seconds (the daemon's status timer): compacts the store on the device's
    // worker when AutoCompaction says it is due (service/auto_compaction.hpp), unless a
    // compaction it asked for is still queued or running; runs the writeback policy's pass
    // when due, and repacks a fragmented backing device. `device` names it in the log.
    void maintain(const std::string& device,
                  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
    // Room on demand (trueno/writeback_policy.hpp): with the writeback policy on, a backing
    // device and a mem_limit, arms the store's limit_waits and, from kRoomStartPercent of the
    // limit, posts a pass writing the coldest pages back on the worker (one at a time). Cheap:
    // the daemon calls it every 100 ms while any device's is armed, and from maintain().
    // Returns whether it is armed.
    bool make_room(const std::string& device,
                   std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
    // Room passes that wrote pages back, since the daemon started.
    std::uint64_t room_passes() const { return room_passes_.load(); }
    // Compactions maintain() has started and seen finish.
    std::uint64_t auto_compactions() const { return auto_compactions_.load(); }

    // The recompression worker, for tests that wait for it.
    const BackgroundRecompressor& recompressor() const { return recompressor_; }

private:
    Status write_now(const std::string& name, const std::string& value);
    Status write_recomp_algorithm(const std::string& value);
    Status write_algorithm_params(const std::string& value);
    Status write_recompress(const std::string& value);
    Status write_backing_dev(const std::string& value);
    // Runs writeback passes on the worker; done gets EIO when the limit ran out, ENOSPC when
    // the backing device filled (what was written before stays written).
    void post_writeback(std::vector<WritebackOptions> passes, WriteDone done);
    // The automatic writeback policy's pass, when due (maintain()).
    void maybe_writeback(const std::string& device, std::chrono::steady_clock::time_point now);
    // Repacks the backing device on the worker when it is fragmented (backing_fragmented), at
    // most once a minute (maintain()).
    void maybe_compact_backing(const std::string& device,
                               std::chrono::steady_clock::time_point now);
    std::string writeback_policy_text() const;
    std::string recomp_algorithm_text() const;
    std::string recompress_policy_text() const;
    std::string recompress_status_text() const;

    std::shared_ptr<PageStore> store_;
    StoreConfig config_;
    // Serialises attribute writes, as sysfs does per device; compact and idle run without it.
    mutable std::mutex mutex_;
    BackgroundRecompressor recompressor_; // its thread stops before the rest goes
    void report_refusals(const std::string& device);

    AutoCompaction auto_compaction_;      // maintain()'s, on the status timer's thread only
    PageStore::ReserveEvents reserve_seen_; // maintain()'s too: what it last reported
    std::atomic<bool> auto_compacting_{false};
    std::atomic<std::uint64_t> auto_compactions_{0};
    // The writeback policy (mutex_) and its schedule: the next pass, and the day its budget
    // counts from (bd_writes then). What the last pass did, or why it did not run, for reading.
    std::optional<WritebackPolicy> writeback_policy_;
    std::chrono::steady_clock::time_point writeback_next_{};
    std::chrono::steady_clock::time_point writeback_day_start_{};
    std::uint64_t writeback_day_writes_ = 0;
    std::string writeback_last_;
    std::atomic<bool> writeback_running_{false};
    // Blocks written since the budget's day began (mutex_ held); starts a new day when due.
    std::uint64_t blocks_today(std::chrono::steady_clock::time_point now);
    // Room on demand: a pass queued or running; no pass (and writes not waiting at the limit)
    // until room_pause_until_ after one that could free nothing; what the last one did (mutex_).
    std::atomic<bool> room_running_{false};
    std::atomic<std::uint64_t> room_passes_{0};
    std::chrono::steady_clock::time_point room_pause_until_{};
    std::string room_last_;
    std::chrono::steady_clock::time_point backing_compaction_next_{}; // the status timer's
    std::atomic<bool> backing_compacting_{false};
    // compact and idle; last: what it runs finishes (what is queued is cancelled) first of all.
    DeviceWorker worker_;
};

} // namespace trueno::service
