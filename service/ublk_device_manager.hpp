// DeviceManager over ublk: each device is a page store + its zram attributes + a UblkDevice.
// One process serves any number of them; all methods are thread-safe. The lock is never held
// while something slow runs (waiting for a new device's node, stopping a device, compact or
// idle), so the status timer's totals() and the other calls go on meanwhile.
//
// A device's store lives in a System V shared memory segment keyed by its ublk id
// (store_key), so the device outlives this process: when it dies or stops, the kernel holds
// the device's I/O, and the next trueno-zramd takes every device over (recover()). Devices are
// only removed on request (remove(), the "reset" attribute).
#pragma once

#include "device_manager.hpp"
#include "request_stall_watch.hpp"
#include "ublk/control_device.hpp"
#include "ublk/spare_queue_threads.hpp"
#include "ublk/ublk_device.hpp"
#include "zram_attributes.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>

namespace trueno::service {

// The shared memory key of ublk device id's store ("tZ" and the id).
inline constexpr std::int32_t kStoreKeyBase = 0x745a0000;
inline constexpr int kMaxDeviceId = 0xffff;
inline std::int32_t store_key(int id) { return kStoreKeyBase + id; }

// What recover() found.
struct RecoveryReport {
    unsigned recovered = 0; // devices served again
    unsigned waiting = 0;   // left quiesced: a store this binary cannot serve (see the log)
    unsigned deleted = 0;   // devices that never started, or that the kernel had stopped
    unsigned stale_stores = 0; // segments of devices that no longer exist, removed
    unsigned spare_queues =
        0; // queues served on a standby's spare threads (spare_queue_threads.hpp)
    unsigned spares_unused = 0; // spares no queue took, ended
    std::chrono::milliseconds took{0};
};

class UblkDeviceManager final : public DeviceManager {
public:
    UblkDeviceManager(ublk::ControlDevice& control, ublk::DeviceOptions options);
    ~UblkDeviceManager() override; // releases every device: each waits for the next server

    Result<DeviceSummary> create(const DeviceSpec& spec) override;
    Status remove(int id) override;
    std::vector<DeviceSummary> list() const override;
    Result<AttributeMap> read_attributes(int id) const override;
    Status write_attribute(int id, const std::string& name, const std::string& value) override;
    void write_attribute_async(int id, const std::string& name, const std::string& value,
                               WriteDone done) override;

    // At start, before serving anything else: takes over every device an earlier trueno-zramd
    // left behind (its server dead, its store in shared memory), deletes devices that can
    // never serve again (never started, or stopped by the kernel), and removes store segments
    // whose device is gone.
    // The queues run on the spare threads prepare_takeover() made, where it made them; the
    // spares left over are ended.
    RecoveryReport recover();
    // In a standby, while it waits (and again and again: the server may add or remove devices
    // meanwhile): starts a spare queue thread, with its ring, for every queue of every device
    // `server` serves that could be taken over, and ends spares no such queue needs. Returns
    // the number of spares kept. Never throws.
    std::size_t prepare_takeover(pid_t server);
    // Waits (at most `patience`) until the spares prepare_takeover() started are ready.
    bool takeover_prepared(std::chrono::milliseconds patience) const {
        return spares_.wait_ready(patience);
    }
    // Lets go of every device (a planned stop or restart): its queues stop, so the kernel
    // quiesces it and its I/O waits until the next trueno-zramd recovers it. The stores stay
    // attached: the caller exits without tearing them down.
    void release_all();

    std::size_t device_count() const;
    // Every few seconds (the status timer): each device's own upkeep, for now compacting a store
    // that holds much more memory than its data once the pressure is over
    // (ZramAttributes::maintain). Only queues work; returns at once.
    void maintain();
    // Every device's ZramAttributes::make_room; true while any device's room on demand is
    // armed (the daemon then calls this every 100 ms).
    bool make_room();
    // Sum of orig_data_size and of mem_used_total over all devices, for the status line.
    std::pair<std::uint64_t, std::uint64_t> totals() const;

private:
    struct Entry {
        std::shared_ptr<PageStore> store;
        std::unique_ptr<ZramAttributes> attributes;
        std::unique_ptr<ublk::UblkDevice> device;
        RequestStallWatch stall_watch; // requests the kernel holds that never reach the queues
        ublk::UblkDevice::ParkedCounts parked_seen; // at the last status period, for the log
    };
    StoreConfig runtime_config() const;
    // One device left by a dead server: recovered, deleted or left alone (and why, logged).
    void recover_device(int id, const ublksrv_ctrl_dev_info& info, RecoveryReport& report);
    // Why id is not in devices_ although the kernel may have it (caller holds mutex_).
    Error missing(int id) const;
    class Reservation;

    ublk::ControlDevice& control_;
    ublk::DeviceOptions options_;
    ublk::SpareQueueThreads spares_; // a standby's, for recover()
    mutable std::mutex mutex_;
    std::map<int, Entry> devices_; // started and served
    // Ids between ADD_DEV (or the EEXIST check of a requested id) and being served: calls on
    // them are EBUSY, and list() leaves them out.
    std::multiset<int> creating_;
    // Ids out of devices_ whose store segment is not removed yet: a new device the kernel
    // gives the same id waits for it (removed_), or the removal would take the new store.
    std::multiset<int> removing_;
    std::condition_variable removed_;
};

} // namespace trueno::service
