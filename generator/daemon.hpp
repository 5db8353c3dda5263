// What device setup needs from trueno-zramd, as an interface so the setup logic is testable
// without a daemon; DaemonClient (daemon_client.hpp) is the real one, over varlink.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "trueno/result.hpp"

namespace trueno::generator {

struct DaemonDevice {
    int id = -1;
    std::string name; // "/dev/ublkbN"
    std::map<std::string, std::string> attributes;
};

struct CreateRequest {
    std::uint64_t size = 0;  // bytes
    std::string algorithm;   // empty: the daemon's default
    std::string params;      // algorithm_params text
    std::uint64_t mem_limit = 0;
    int id = -1;
};

class Daemon {
public:
    virtual ~Daemon() = default;
    virtual Result<std::vector<std::string>> algorithms() = 0;
    virtual Result<std::vector<DaemonDevice>> list_devices() = 0;
    virtual Result<int> create_device(const CreateRequest& request) = 0;
    virtual Status set_attribute(int id, const std::string& name, const std::string& value) = 0;
    virtual Status remove_device(int id) = 0;
};

} // namespace trueno::generator
