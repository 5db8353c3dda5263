// Where a block device is in use: active swap (/proc/swaps) or a mount (/proc/self/mountinfo),
// as zramctl's MOUNTPOINT column reports it.
#pragma once

#include <string>
#include <sys/types.h>

namespace trueno::zramctl {

class MountTable {
public:
    // Reads /proc/swaps and /proc/self/mountinfo now; unreadable files count as empty.
    static MountTable from_proc();
    // From file contents (tests).
    MountTable(std::string swaps_text, std::string mountinfo_text);

    // "[SWAP]" if the device is active swap, else its first mount point, else "". The device
    // matches by path or, when it exists, by its major:minor.
    std::string usage_of(const std::string& device_path) const;
    std::string usage_of(const std::string& device_path, dev_t rdev, bool have_rdev) const;

private:
    std::string swaps_;
    std::string mountinfo_;
};

// Undoes the octal escapes (\040 for a space) the kernel writes in /proc mount tables.
std::string unescape_proc_field(const std::string& field);

} // namespace trueno::zramctl
