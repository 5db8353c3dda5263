// DeviceManager over ublk: each device is a page store + its zram attributes + a UblkDevice.
// One process serves any number of them; all methods are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "device_manager.hpp"
#include "ublk/control_device.hpp"
#include "ublk/ublk_device.hpp"
#include "zram_attributes.hpp"

namespace trueno::service {

class UblkDeviceManager final : public DeviceManager {
public:
    UblkDeviceManager(ublk::ControlDevice& control, ublk::DeviceOptions options);
    ~UblkDeviceManager() override;

    Result<DeviceSummary> create(const DeviceSpec& spec) override;
    Status remove(int id) override;
    std::vector<DeviceSummary> list() const override;
    Result<AttributeMap> read_attributes(int id) const override;
    Status write_attribute(int id, const std::string& name, const std::string& value) override;

    // Removes every device that is not in use; returns how many are still held (active swap
    // or mounted), each logged with its reason.
    std::size_t remove_unused();

    std::size_t device_count() const;
    // Sum of orig_data_size and of mem_used_total over all devices, for the status line.
    std::pair<std::uint64_t, std::uint64_t> totals() const;

private:
    struct Entry {
        std::shared_ptr<PageStore> store;
        std::unique_ptr<ZramAttributes> attributes;
        std::unique_ptr<ublk::UblkDevice> device;
    };

    ublk::ControlDevice& control_;
    ublk::DeviceOptions options_;
    mutable std::mutex mutex_;
    std::map<int, Entry> devices_;
};

// Deletes ublk devices left behind by a server that died (state DEAD or QUIESCED, server pid
// gone), so their ids can be used again. Returns how many were deleted.
unsigned delete_orphaned_devices(ublk::ControlDevice& control);

} // namespace trueno::service
