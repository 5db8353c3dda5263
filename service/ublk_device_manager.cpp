#include "ublk_device_manager.hpp"

#include <dirent.h>
#include <signal.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <spdlog/spdlog.h>

#include "device_usage.hpp"
#include "io_flusher.hpp"

namespace trueno::service {

UblkDeviceManager::UblkDeviceManager(ublk::ControlDevice& control, ublk::DeviceOptions options)
    : control_(control), options_(options)
{
}

UblkDeviceManager::~UblkDeviceManager()
{
    std::lock_guard lock(mutex_);
    devices_.clear(); // each device stops itself
}

Result<DeviceSummary> UblkDeviceManager::create(const DeviceSpec& spec)
{
    if (spec.size == 0)
        return make_error(EINVAL, "size must be greater than 0");
    if (spec.id < -1)
        return make_error(EINVAL, "id must be -1 (any) or a ublk device number");
    StoreConfig config;
    config.disksize = (spec.size + kPageSize - 1) / kPageSize * kPageSize;
    if (!spec.algorithm.empty())
        config.algorithm = spec.algorithm;
    if (!spec.params.empty()) {
        auto params = parse_codec_params(spec.params);
        if (!params)
            return params.error();
        config.params = std::move(params.value());
    }
    config.mem_limit = spec.mem_limit;
    config.streams = spec.streams;
    // The device may be swap: its queue threads (PR_SET_IO_FLUSHER) must never fault for
    // store memory, which under pressure they could not reclaim (see StoreConfig).
    config.never_fault_on_io = true;
    config.refill_thread_setup = [] { become_io_flusher("store refill thread"); };
    auto store = PageStore::create(config);
    if (!store)
        return store.error();
    std::shared_ptr<PageStore> shared = std::move(store.value());

    std::lock_guard lock(mutex_);
    if (spec.id >= 0 && devices_.count(spec.id))
        return make_error(EEXIST, "device " + std::to_string(spec.id) + " exists");
    auto device = ublk::UblkDevice::create(control_, spec.id, shared, options_);
    if (!device) {
        const auto& e = device.error();
        // The kernel says EEXIST when a requested id is taken by any ublk server.
        return make_error(e.code, e.message);
    }
    Entry entry;
    entry.store = shared;
    entry.attributes = std::make_unique<ZramAttributes>(shared, config);
    entry.device = std::move(device.value());
    const int id = entry.device->id();
    DeviceSummary summary{id, entry.device->block_path()};
    devices_.emplace(id, std::move(entry));
    spdlog::info("created {} ({} bytes, {})", summary.name, config.disksize, shared->algorithm());
    return summary;
}

Status UblkDeviceManager::remove(int id)
{
    std::unique_ptr<ublk::UblkDevice> device;
    {
        std::lock_guard lock(mutex_);
        auto it = devices_.find(id);
        if (it == devices_.end())
            return make_error(ENODEV, "no device " + std::to_string(id));
        const auto& d = *it->second.device;
        if (auto reason = device_busy_reason(d.block_path(), d.block_devt()))
            return make_error(EBUSY, d.block_path() + " is " + *reason);
        device = std::move(it->second.device);
        devices_.erase(it);
    }
    // Stopping waits for in-flight I/O: done outside the lock so other devices keep working.
    const std::string path = device->block_path();
    auto st = device->stop();
    if (st)
        spdlog::info("removed {}", path);
    return st;
}

std::vector<DeviceSummary> UblkDeviceManager::list() const
{
    std::lock_guard lock(mutex_);
    std::vector<DeviceSummary> out;
    for (const auto& [id, entry] : devices_)
        out.push_back({id, entry.device->block_path()});
    return out;
}

Result<AttributeMap> UblkDeviceManager::read_attributes(int id) const
{
    std::lock_guard lock(mutex_);
    auto it = devices_.find(id);
    if (it == devices_.end())
        return make_error(ENODEV, "no device " + std::to_string(id));
    return it->second.attributes->read_all();
}

Status UblkDeviceManager::write_attribute(int id, const std::string& name, const std::string& value)
{
    if (name == "reset")
        return remove(id);
    std::lock_guard lock(mutex_);
    auto it = devices_.find(id);
    if (it == devices_.end())
        return make_error(ENODEV, "no device " + std::to_string(id));
    return it->second.attributes->write(name, value);
}

std::size_t UblkDeviceManager::remove_unused()
{
    std::size_t held = 0;
    for (const auto& summary : list()) {
        auto st = remove(summary.id);
        if (!st) {
            if (st.error().code == EBUSY)
                ++held;
            spdlog::warn("not removing {}: {}", summary.name, st.error().message);
        }
    }
    return held;
}

std::size_t UblkDeviceManager::device_count() const
{
    std::lock_guard lock(mutex_);
    return devices_.size();
}

std::pair<std::uint64_t, std::uint64_t> UblkDeviceManager::totals() const
{
    std::lock_guard lock(mutex_);
    std::uint64_t orig = 0;
    std::uint64_t used = 0;
    for (const auto& [id, entry] : devices_) {
        const MmStat s = entry.store->mm_stat();
        orig += s.orig_data_size;
        used += s.mem_used_total;
    }
    return {orig, used};
}

unsigned delete_orphaned_devices(ublk::ControlDevice& control)
{
    unsigned deleted = 0;
    DIR* dir = opendir("/sys/class/ublk-char");
    if (!dir)
        return 0;
    std::vector<int> ids;
    while (dirent* e = readdir(dir)) {
        const std::string name = e->d_name;
        if (name.rfind("ublkc", 0) == 0 && name.size() > 5)
            ids.push_back(std::atoi(name.c_str() + 5));
    }
    closedir(dir);
    for (int id : ids) {
        auto info = control.device_info(static_cast<std::uint32_t>(id));
        if (!info)
            continue;
        const pid_t pid = info->ublksrv_pid;
        const bool server_alive = pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
        if (server_alive && info->state != UBLK_S_DEV_DEAD)
            continue;
        if (server_alive)
            continue; // another live server owns it (it is setting up or tearing down)
        spdlog::info("deleting ublk device {} left by dead server pid {} (state {})", id, pid, info->state);
        (void)control.stop_device(static_cast<std::uint32_t>(id));
        if (auto st = control.delete_device(static_cast<std::uint32_t>(id)); st)
            ++deleted;
        else
            spdlog::warn("could not delete orphaned ublk device {}: {}", id, st.error().message);
    }
    return deleted;
}

} // namespace trueno::service
