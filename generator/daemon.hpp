// What device setup needs from trueno-zramd, as an interface so the setup logic is testable
// without a daemon; DaemonClient (daemon_client.hpp) is the real one, over varlink.
#pragma once

#include <string>
#include <vector>

#include "trueno/result.hpp"
#include "trueno/zram_client/requests.hpp"

namespace trueno::generator {

// The request and reply structs are the io.trueno.zram client's.
using zram_client::CreateDeviceRequest;
using zram_client::Device;

class Daemon {
public:
    virtual ~Daemon() = default;
    virtual Result<std::vector<std::string>> algorithms() = 0;
    virtual Result<std::vector<Device>> list_devices() = 0;
    virtual Result<int> create_device(const CreateDeviceRequest& request) = 0;
    virtual Status set_attribute(int id, const std::string& name, const std::string& value) = 0;
    virtual Status remove_device(int id) = 0;
};

} // namespace trueno::generator
