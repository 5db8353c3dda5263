// An in-memory DaemonClient for the CLI tests: fixed devices, scripted failures, a call log.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app.hpp"
#include "daemon_client.hpp"

namespace trueno::zramctl::testing {

struct FakeState {
    std::map<int, Device> devices;
    std::map<int, Error> remove_errors;   // RemoveDevice(id) fails with this
    std::optional<Error> create_error;
    std::optional<Error> everything_error; // every call fails (e.g. unreachable)
    std::vector<std::string> calls;        // "ListDevices", "RemoveDevice 3", ...
    std::vector<CreateDeviceRequest> creates;
    std::string socket_used;
    int next_id = 7;
};

class FakeDaemon final : public DaemonClient {
public:
    explicit FakeDaemon(std::shared_ptr<FakeState> s) : s_(std::move(s)) {}

    Result<std::vector<Device>> list_devices() override
    {
        s_->calls.push_back("ListDevices");
        if (s_->everything_error)
            return *s_->everything_error;
        std::vector<Device> out;
        for (const auto& [id, d] : s_->devices)
            out.push_back(d);
        return out;
    }
    Result<AttributeMap> attributes(int id) override
    {
        s_->calls.push_back("GetAttributes " + std::to_string(id));
        if (s_->everything_error)
            return *s_->everything_error;
        auto it = s_->devices.find(id);
        if (it == s_->devices.end())
            return make_error(ENODEV, "No such device");
        return it->second.attributes;
    }
    Result<CreatedDevice> create_device(const CreateDeviceRequest& r) override
    {
        s_->calls.push_back("CreateDevice");
        s_->creates.push_back(r);
        if (s_->everything_error)
            return *s_->everything_error;
        if (s_->create_error)
            return *s_->create_error;
        const int id = r.id.value_or(s_->next_id);
        if (s_->devices.count(id))
            return make_error(EEXIST, "File exists");
        Device e{id, "/dev/ublkb" + std::to_string(id), {{"disksize", std::to_string(r.size)}}};
        s_->devices[id] = e;
        return CreatedDevice{id, e.name};
    }
    Status remove_device(int id) override
    {
        s_->calls.push_back("RemoveDevice " + std::to_string(id));
        if (s_->everything_error)
            return *s_->everything_error;
        if (auto it = s_->remove_errors.find(id); it != s_->remove_errors.end())
            return it->second;
        if (!s_->devices.erase(id))
            return make_error(ENODEV, "No such device");
        return {};
    }
    Status set_attribute(int id, const std::string& name, const std::string& value) override
    {
        s_->calls.push_back("SetAttribute " + std::to_string(id) + " " + name + "=" + value);
        if (s_->everything_error)
            return *s_->everything_error;
        auto it = s_->devices.find(id);
        if (it == s_->devices.end())
            return make_error(ENODEV, "No such device");
        it->second.attributes[name] = value;
        return {};
    }

private:
    std::shared_ptr<FakeState> s_;
};

// The three devices every rendering golden file shows.
std::map<int, Device> sample_devices();

// An environment around a FakeState with a fixed mount table: ublkb0 is swap, ublkb1 is
// mounted on "/mnt/scratch dir".
Environment fake_environment(std::shared_ptr<FakeState> state);

struct RunResult {
    int status;
    std::string out;
    std::string err;
};

RunResult run_cli(std::vector<std::string> args, const Environment& env);

} // namespace trueno::zramctl::testing
