// Is a block device in use? The kernel decides (claim_for_removal: an exclusive open fails while
// the device is swap, mounted in any namespace, or held by a dm/md device); /proc/swaps and
// /proc/self/mountinfo only say what holds it. Parsers take the files' text so they are
// testable; the reason says what holds the device.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "trueno/result.hpp"
#include "trueno/unique_fd.hpp"

namespace trueno::service {

// The reason the device is busy, or nothing. Swap entries match by path or, when `same_device`
// says so, by the device number behind the path; mounts match by "major:minor".
std::optional<std::string> swap_user(std::string_view proc_swaps, std::string_view device_path,
                                     dev_t devt, bool (*same_device)(const std::string& path, dev_t devt));
std::optional<std::string> mount_user(std::string_view mountinfo, dev_t devt);

// Both checks against the live /proc files.
std::optional<std::string> device_busy_reason(const std::string& device_path, dev_t devt);

// What a failed exclusive open of the device (errno open_errno) means for its removal: EBUSY
// (the device is in use: "<path> is <reason>") or go ahead. `busy_reason` is asked only then:
// for the message after EBUSY, or as the only check left when the kernel could not be asked
// (no node at the path). Other errors (ENXIO: a dead device) do not stop the removal.
Status removal_verdict(const std::string& device_path, int open_errno,
                       const std::function<std::optional<std::string>()>& busy_reason);

// Opens the device O_RDONLY | O_EXCL for its removal. While that is held no swapon or mount
// can take the device, so the check cannot race one: hold it until the device is stopped. An
// invalid fd with success: the device could not be opened and nothing was found to hold it.
Result<UniqueFd> claim_for_removal(const std::string& device_path, dev_t devt);

} // namespace trueno::service
