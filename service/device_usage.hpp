// Is a block device in use as active swap (/proc/swaps) or mounted (/proc/self/mountinfo)?
// Parsers take the files' text so they are testable; the reason says what holds the device.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace trueno::service {

// The reason the device is busy, or nothing. Swap entries match by path or, when `same_device`
// says so, by the device number behind the path; mounts match by "major:minor".
std::optional<std::string> swap_user(std::string_view proc_swaps, std::string_view device_path,
                                     dev_t devt, bool (*same_device)(const std::string& path, dev_t devt));
std::optional<std::string> mount_user(std::string_view mountinfo, dev_t devt);

// Both checks against the live /proc files.
std::optional<std::string> device_busy_reason(const std::string& device_path, dev_t devt);

} // namespace trueno::service
