// What the control API (varlink) needs from the daemon's devices: create, remove, list, and
// kernel-zram attributes. The ublk side implements it; the varlink side only calls it, so each
// can be tested without the other.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "trueno/result.hpp"

namespace trueno::service {

struct DeviceSpec {
    std::uint64_t size = 0;   // bytes, rounded up to a page; 0 is EINVAL
    std::string algorithm;    // empty: the default (lzo-rle, as the kernel)
    std::string params;       // algorithm_params text, e.g. "level=3"
    std::uint64_t mem_limit = 0;
    int id = -1;              // -1: the kernel picks
    unsigned streams = 0;     // 0: one per CPU
};

struct DeviceSummary {
    int id = -1;
    std::string name; // "/dev/ublkbN"
};

// Attribute name -> value exactly as kernel zram's sysfs file reads (trailing newline removed).
using AttributeMap = std::map<std::string, std::string>;

// Takes the result of an attribute write, once, on whichever thread finished it.
using WriteDone = std::function<void(Status)>;

class DeviceManager {
public:
    virtual ~DeviceManager() = default;

    // Errors: EINVAL (bad size/algorithm/params, with a message listing what is valid),
    // EEXIST (id taken), ENOMEM, or the kernel's errno from a ublk command.
    virtual Result<DeviceSummary> create(const DeviceSpec& spec) = 0;

    // Stops and deletes the device. EBUSY (with the reason) while it is active swap or mounted;
    // ENODEV for an unknown id.
    virtual Status remove(int id) = 0;

    virtual std::vector<DeviceSummary> list() const = 0;

    // Every readable attribute; ENODEV for an unknown id.
    virtual Result<AttributeMap> read_attributes(int id) const = 0;

    // Writes one attribute with the kernel's semantics and errors (EINVAL, EBUSY, ENOMEM ...).
    // "reset" removes the device, as trueno-zramctl --reset expects. Returns when the write is
    // done, like the kernel's; slow ones (compact, idle) may wait for the device's worker.
    virtual Status write_attribute(int id, const std::string& name, const std::string& value) = 0;

    // The same write for a caller that must not wait (the control thread): done gets the
    // result when the write is over. A slow write runs elsewhere and done is called there,
    // after this returns; anything else may call done before this returns. By default the
    // write above, here.
    virtual void write_attribute_async(int id, const std::string& name, const std::string& value,
                                       WriteDone done) {
        done(write_attribute(id, name, value));
    }
};

} // namespace trueno::service
