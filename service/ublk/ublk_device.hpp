// One ublk block device served from a page store: ADD_DEV + SET_PARAMS (add), the char device,
// one IoQueue per hardware queue, START_DEV (start); or, for a device whose server died,
// START_USER_RECOVERY, the queues, END_USER_RECOVERY (recover). It ends either removed
// (remove: STOP_DEV, DEL_DEV) or left to the next server (release: the queues let go, the
// kernel quiesces the device and keeps its I/O waiting).
//
// Devices are made with UBLK_F_USER_RECOVERY and UBLK_F_USER_RECOVERY_REISSUE: when this
// process dies, requests it had taken but not answered are given to the next server again, so
// every request must be idempotent (a write of the same data, a discard of the same range).
#pragma once

#include "control_device.hpp"
#include "io_queue.hpp"
#include "request_handler.hpp"
#include "trueno/page_store.hpp"
#include "trueno/result.hpp"
#include "trueno/unique_fd.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace trueno::ublk {

enum class CopyMode { automatic, user, buffer };

// "auto", "user", "buffer" -> CopyMode; nothing for anything else.
Result<CopyMode> parse_copy_mode(const std::string& text);

struct DeviceOptions {
    unsigned queues = 0;                // 0: one per CPU, at most 4
    unsigned depth = 128;
    std::uint32_t max_io_bytes = 64 * 1024; // per request, and per tag buffer
    CopyMode copy_mode = CopyMode::automatic;
    bool realtime = true; // queue and refill threads at SCHED_FIFO 1 (service/realtime.hpp)
    std::chrono::milliseconds reserve_wait =
        kDefaultReserveWait;                // a write's wait for the store's refiller
    std::uint64_t reserve_budget_bytes = 0; // StoreConfig::reserve_limit_bytes; 0: from RAM
};

// The block layer's sysfs file of /dev/ublkbN: /sys/block/ublkbN/<file> ("stat",
// "queue/io_timeout", ...).
std::string block_sysfs_path(int id, std::string_view file);

class UblkDevice {
public:
    // ADD_DEV and SET_PARAMS for a device of size_bytes: it has an id, not yet a block node.
    // requested_id < 0 lets the kernel pick. Destroyed before start(), it is deleted again.
    static Result<std::unique_ptr<UblkDevice>> add(ControlDevice& control, int requested_id,
                                                    std::uint64_t size_bytes, const DeviceOptions& options);
    // Serves the store (of the size given to add) and adds /dev/ublkbN.
    Status start(std::shared_ptr<PageStore> store);
    // Takes over device `id` whose server is gone (state QUIESCED, or LIVE until the kernel
    // noticed), serving `store`: waits up to `wait` for the kernel to let it be recovered. Its
    // queues run on `spares` where it has them ready (a standby's: spare_queue_threads.hpp).
    static Result<std::unique_ptr<UblkDevice>> recover(ControlDevice& control, int id,
                                                       std::shared_ptr<PageStore> store,
                                                       std::chrono::milliseconds wait,
                                                       const DeviceOptions& options,
                                                       SpareQueueThreads* spares = nullptr);
    ~UblkDevice(); // a started device is released (left to the next server), never removed
    UblkDevice(const UblkDevice&) = delete;
    UblkDevice& operator=(const UblkDevice&) = delete;

    int id() const { return id_; }
    std::string block_path() const { return block_device_path(id_); }
    dev_t block_devt() const { return devt_; }
    bool user_copy() const { return user_copy_; }
    std::uint64_t flags() const { return flags_; }
    std::uint64_t requests() const;
    bool serving() const; // a queue thread is inside a request now
    // Writes its queues set aside to wait for memory (ParkedWrites), those that failed after
    // the wait, and those waiting now; since this process began serving the device.
    struct ParkedCounts {
        std::uint64_t parked = 0;
        std::uint64_t failed = 0;
        std::uint64_t waiting = 0;
    };
    ParkedCounts parked_writes() const;

    // STOP_DEV, waits for the queue threads, closes the char device, DEL_DEV: the device is
    // gone for good. Idempotent. `exclusive_hold` (the block device opened O_EXCL by the
    // caller, so nothing can take it meanwhile) is closed once the device is stopped: DEL_DEV
    // waits for the disk's last opener.
    Status remove(UniqueFd exclusive_hold = {});
    // The queues let go of the device and the char device is closed; the device stays, its
    // requests waiting in the kernel, until a new server recovers it. Idempotent.
    void release();

private:
    UblkDevice(ControlDevice& control, int id);
    // Opens the char device and starts one queue per hardware queue, each with a fetch
    // outstanding on every tag. `log_steps`: each queue's steps are logged as they end (a
    // take-over, where the device's I/O waits meanwhile: one that stalls says where).
    Status start_queues(std::shared_ptr<PageStore> store, const ublksrv_ctrl_dev_info& info,
                        SpareQueueThreads* spares = nullptr, bool log_steps = false);

    ControlDevice& control_;
    int id_;
    std::shared_ptr<PageStore> store_;
    UniqueFd char_fd_;
    std::vector<std::unique_ptr<IoQueue>> queues_;
    dev_t devt_ = 0;
    bool user_copy_ = false;
    std::uint64_t flags_ = 0;
    std::uint64_t finished_requests_ = 0; // of queues already stopped
    ublksrv_ctrl_dev_info info_{};        // as the kernel negotiated it
    bool realtime_ = true;
    std::chrono::milliseconds reserve_wait_ = kDefaultReserveWait;
    bool added_ = false;
    bool started_ = false;
};

} // namespace trueno::ublk
