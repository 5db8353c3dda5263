// --setup-device / --reset-device: what trueno-zram-setup@ublkbN.service runs.
#pragma once

#include <iosfwd>
#include <string>

#include "config.hpp"
#include "daemon.hpp"
#include "trueno/result.hpp"

namespace trueno::generator {

// The host side of setup: block device nodes, swap and mount state, formatting.
class BlockTools {
public:
    virtual ~BlockTools() = default;
    // Waits (bounded) for udev to create the node after the daemon added the device.
    virtual Status wait_for_node(const std::string& path) = 0;
    // Active swap or mounted: formatting it would destroy live data.
    virtual bool is_active(const std::string& path) = 0;
    // Whether it already carries a swap signature or a file system of that type.
    virtual bool has_signature(const std::string& path, const std::string& fs_type) = 0;
    // mkswap for "swap", else mkfs.TYPE.
    virtual Status make_filesystem(const std::string& path, const std::string& fs_type) = 0;
};

// "ublkb3" or "/dev/ublkb3" -> 3; EINVAL otherwise.
Result<int> parse_device_name(std::string_view name);

// Creates the device as configured (or accepts an existing one of the same size), applies
// recompression and writeback settings, and formats it. Progress and problems go to log.
Status setup_device(const DeviceConfig& config, Daemon& daemon, BlockTools& tools, std::ostream& log);

// Removes the device; a device that is already gone is success.
Status reset_device(int id, Daemon& daemon, std::ostream& log);

} // namespace trueno::generator
