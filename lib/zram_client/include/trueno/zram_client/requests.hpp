// What the io.trueno.zram interface carries (service/io.trueno.zram.varlink), as the clients
// (trueno-zramctl, trueno-zram-generator) send and read it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace trueno::zram_client {

inline constexpr const char* default_socket_path = "/run/trueno-zram/io.trueno.zram";

// Attributes by kernel zram name, values exactly as the kernel prints them.
using Attributes = std::map<std::string, std::string>;

// One device as ListDevices lists it.
struct Device {
    int id = -1;
    std::string name; // "/dev/ublkbN"
    Attributes attributes;
};

// CreateDevice's parameters; what is not set is not sent, and the daemon's default applies.
struct CreateDeviceRequest {
    std::uint64_t size = 0;                 // bytes
    std::optional<std::string> algorithm;   // default lzo-rle
    std::optional<std::string> params;      // algorithm_params text: "level=3 dict=/path"
    std::optional<std::uint64_t> mem_limit; // bytes; 0: no limit
    std::optional<int> id;                  // the ublk id to take; none: the kernel picks
    std::optional<unsigned> streams;        // 0: one per CPU
};

struct CreatedDevice {
    int id = -1;
    std::string name;
};

// GetDaemonInfo's reply.
struct DaemonInfo {
    std::string version;
    std::vector<std::string> algorithms;
    std::uint64_t ublk_features = 0;
    bool user_copy = false;
};

} // namespace trueno::zram_client
