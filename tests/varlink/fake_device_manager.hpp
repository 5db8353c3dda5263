// A DeviceManager test double: records calls, answers from a table, and fails on demand.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "device_manager.hpp"

namespace trueno::testing {

class FakeDeviceManager : public service::DeviceManager {
public:
    std::map<int, service::AttributeMap> devices;
    std::optional<Error> fail_next;       // the next call returns this error
    bool throw_next = false;              // the next call throws
    std::vector<service::DeviceSpec> created;
    std::vector<std::tuple<int, std::string, std::string>> writes;

    Result<service::DeviceSummary> create(const service::DeviceSpec& spec) override {
        if (auto e = take_failure()) return *e;
        int id = spec.id;
        if (id < 0) id = devices.empty() ? 0 : devices.rbegin()->first + 1;
        if (devices.contains(id)) return make_error(EEXIST, "ublk id " + std::to_string(id) + " is taken");
        created.push_back(spec);
        devices[id] = {{"disksize", std::to_string(spec.size)}, {"initstate", "1"}};
        return service::DeviceSummary{id, "/dev/ublkb" + std::to_string(id)};
    }

    Status remove(int id) override {
        if (auto e = take_failure()) return *e;
        if (!devices.erase(id)) return make_error(ENODEV, "no device " + std::to_string(id));
        return {};
    }

    std::vector<service::DeviceSummary> list() const override {
        if (throw_next) throw std::runtime_error("list exploded");
        std::vector<service::DeviceSummary> out;
        for (const auto& [id, _] : devices) out.push_back({id, "/dev/ublkb" + std::to_string(id)});
        return out;
    }

    Result<service::AttributeMap> read_attributes(int id) const override {
        const auto it = devices.find(id);
        if (it == devices.end()) return make_error(ENODEV, "no device " + std::to_string(id));
        return it->second;
    }

    Status write_attribute(int id, const std::string& name, const std::string& value) override {
        if (name == "reset") return remove(id); // as UblkDeviceManager does
        if (auto e = take_failure()) return *e;
        if (!devices.contains(id)) return make_error(ENODEV, "no device " + std::to_string(id));
        writes.emplace_back(id, name, value);
        return {};
    }

private:
    std::optional<Error> take_failure() {
        if (throw_next) {
            throw_next = false;
            throw std::runtime_error("device manager exploded");
        }
        auto e = std::move(fail_next);
        fail_next.reset();
        return e;
    }
};

} // namespace trueno::testing
