// A DeviceManager for control tests that need real attributes: each device is a ZramAttributes
// over an in-process store (no ublk), locked the way UblkDeviceManager locks: the mutex only
// to find a device and queue a write, never while compact or idle runs; remove() takes the
// device out under it and stops it outside. Every finished write is logged, by attribute name.
#pragma once

#include "device_manager.hpp"
#include "recording_store.hpp"
#include "zram_attributes.hpp"

#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>

namespace trueno::testing {

class InProcessDevices : public service::DeviceManager {
public:
    // Given to every new device's store.
    std::shared_ptr<Gate> compact_gate;
    DoneLog accepted; // writes handed to their device (queued on its worker, or done)
    DoneLog finished;

    Result<service::DeviceSummary> create(const service::DeviceSpec& spec) override {
        StoreConfig config;
        config.disksize = (spec.size + kPageSize - 1) / kPageSize * kPageSize;
        config.algorithm = spec.algorithm.empty() ? "lz4" : spec.algorithm;
        config.streams = 1;
        auto real = PageStore::create(config);
        if (!real)
            return real.error();
        auto store = std::make_shared<RecordingStore>(std::move(*real));
        store->compact_gate = compact_gate;
        std::lock_guard lock(mutex_);
        const int id = spec.id >= 0 ? spec.id : next_id_++;
        if (devices_.contains(id))
            return make_error(EEXIST, "device " + std::to_string(id) + " exists");
        devices_[id] = std::make_unique<service::ZramAttributes>(store, config);
        return service::DeviceSummary{id, "/dev/ublkb" + std::to_string(id)};
    }

    Status remove(int id) override {
        std::unique_ptr<service::ZramAttributes> device;
        {
            std::lock_guard lock(mutex_);
            const auto it = devices_.find(id);
            if (it == devices_.end())
                return make_error(ENODEV, "no device " + std::to_string(id));
            device = std::move(it->second);
            devices_.erase(it);
        }
        device.reset(); // its worker: queued writes cancelled, the running one finishes
        return {};
    }

    std::vector<service::DeviceSummary> list() const override {
        std::lock_guard lock(mutex_);
        std::vector<service::DeviceSummary> out;
        for (const auto& [id, _] : devices_)
            out.push_back({id, "/dev/ublkb" + std::to_string(id)});
        return out;
    }

    Result<service::AttributeMap> read_attributes(int id) const override {
        std::lock_guard lock(mutex_);
        const auto it = devices_.find(id);
        if (it == devices_.end())
            return make_error(ENODEV, "no device " + std::to_string(id));
        return it->second->read_all();
    }

    Status write_attribute(int id, const std::string& name, const std::string& value) override {
        std::promise<Status> result;
        auto done = result.get_future();
        write_attribute_async(id, name, value,
                              [&result](Status st) { result.set_value(std::move(st)); });
        return done.get();
    }

    void write_attribute_async(int id, const std::string& name, const std::string& value,
                               service::WriteDone done) override {
        if (name == "reset")
            return done(remove(id));
        auto logged = [this, name, log = finished.recorder(name),
                       done = std::move(done)](Status st) {
            log(st);
            done(std::move(st));
        };
        std::lock_guard lock(mutex_);
        const auto it = devices_.find(id);
        if (it == devices_.end())
            return logged(make_error(ENODEV, "no device " + std::to_string(id)));
        it->second->write_async(name, value, std::move(logged));
        accepted.recorder(name)(Status{});
    }

private:
    mutable std::mutex mutex_;
    std::map<int, std::unique_ptr<service::ZramAttributes>> devices_;
    int next_id_ = 0;
};

} // namespace trueno::testing
