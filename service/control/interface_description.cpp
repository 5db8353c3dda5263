// The io.trueno.zram interface text, embedded so the daemon needs no data file at run time.
// Keep identical to service/io.trueno.zram.varlink: tests/varlink checks it.
#include "interface_description.hpp"

namespace trueno::service {

std::string_view zram_interface_description() {
    static constexpr std::string_view text =
        R"VARLINK(# Compressed-RAM block devices (/dev/ublkbN) served by trueno-zramd through the kernel's ublk
# driver. Attributes carry kernel zram's names and value formats (see zram(4) sysfs).
interface io.trueno.zram

# One device as listed.
type Device (
  # Kernel-assigned ublk device id: the N of /dev/ublkbN.
  id: int,
  # Block device path, e.g. "/dev/ublkb0".
  name: string,
  # Every readable attribute by kernel zram name, value exactly as the kernel prints it; also
  # object_stat, recompress_policy and recompress_status, which are trueno-zram's own.
  attributes: [string]string
)

# Lists every device this daemon serves.
method ListDevices() -> (devices: []Device)

# Creates and starts a device. size is in bytes (rounded up to 4096). algorithm defaults to
# lzo-rle; params is algorithm_params text ("level=3 dict=/path"); mem_limit 0 means none;
# id asks for a specific ublk id (-1 or absent: the kernel picks); streams 0 means one per CPU.
method CreateDevice(
  size: int,
  algorithm: ?string,
  params: ?string,
  mem_limit: ?int,
  id: ?int,
  streams: ?int
) -> (id: int, name: string)

# Stops and deletes a device, freeing its memory. Refused while it is active swap or mounted.
method RemoveDevice(id: int) -> ()

# Every readable attribute of one device.
method GetAttributes(id: int) -> (attributes: [string]string)

# Writes one attribute, as "echo value > /sys/block/zramN/name" would. "reset" with a nonzero
# number (as the kernel takes it, e.g. "1") removes the device.
# recomp_algorithm and a secondary priority's algorithm_params apply to the live device.
# "compact" and "idle" run on the device's worker thread and the reply comes when they are done,
# as the kernel's write returns then; the daemon answers other connections meanwhile.
# "recompress" returns once the work is queued on the device's recompression thread (the kernel's
# write blocks until done): recompress_status tells when it has finished. recompress_policy
# starts ("balanced age=3600 ...") or stops ("off") automatic idle recompression.
method SetAttribute(id: int, name: string, value: string) -> ()

# Daemon-wide facts: version, algorithms available, ublk features the kernel offered.
method GetDaemonInfo() -> (
  version: string,
  algorithms: []string,
  ublk_features: int,
  user_copy: bool
)

error NoSuchDevice (id: int)

# CreateDevice asked for an id that is already taken.
error DeviceExists (id: int)

# The device is in use (active swap, mounted, open) or already initialised: the kernel's EBUSY.
error DeviceBusy (id: int, reason: string)

# A value the kernel would reject with EINVAL (or ERANGE, E2BIG ...): errno names the code.
# name is the parameter or attribute at fault. Also an unknown attribute (ENOENT), reading a
# write-only or writing a read-only one (EACCES), what this service does not support
# (EOPNOTSUPP), and writeback without a backing device (ENODEV, as the kernel's).
error InvalidArgument (name: string, reason: string, errno: int)

# Only root may change state (CreateDevice, RemoveDevice, SetAttribute); anyone may read.
error PermissionDenied (method: string)

# The kernel refused a ublk command, or the store could not allocate.
error SystemError (operation: string, errno: int, reason: string)
)VARLINK";
    return text;
}

} // namespace trueno::service
