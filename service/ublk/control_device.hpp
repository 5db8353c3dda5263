// /dev/ublk-control: the kernel's ublk control commands (add, parameters, start, stop, delete,
// info, features) sent as IORING_OP_URING_CMD on an SQE128 ring. Thread-safe: one command at a
// time. START_DEV blocks until every queue has fetched, so call it off the queue threads.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "trueno/result.hpp"
#include "ublk_uapi.hpp"
#include "trueno/unique_fd.hpp"

namespace trueno::ublk {

struct DeviceParams {
    std::uint64_t size_bytes = 0;    // a multiple of 4096
    std::uint32_t max_io_bytes = 0;  // the negotiated max_io_buf_bytes
};

class ControlDevice {
public:
    // Opens /dev/ublk-control, loading ublk_drv with modprobe when the node is missing.
    // The error says which kernel is needed when it cannot be had.
    static Result<std::unique_ptr<ControlDevice>> open();
    ~ControlDevice();
    ControlDevice(const ControlDevice&) = delete;
    ControlDevice& operator=(const ControlDevice&) = delete;

    // The kernel's UBLK_F_* mask (GET_FEATURES, 6.5+); nothing on older kernels.
    std::optional<std::uint64_t> features() const { return features_; }
    bool encoded_opcodes() const { return encoded_; }

    // ADD_DEV: `info` carries the request (dev_id, queues, depth, max_io_buf_bytes, flags) and
    // comes back as the kernel negotiated it.
    Status add_device(ublksrv_ctrl_dev_info& info);
    Status set_params(std::uint32_t dev_id, const DeviceParams& params);
    Status start_device(std::uint32_t dev_id, int server_pid);
    Status stop_device(std::uint32_t dev_id);
    Status delete_device(std::uint32_t dev_id);
    Result<ublksrv_ctrl_dev_info> device_info(std::uint32_t dev_id);
    // Recovery (UBLK_F_USER_RECOVERY): START_USER_RECOVERY on a device whose server died
    // (EBUSY until the kernel has quiesced it and the old server's char device is closed),
    // then, once every queue of the new server fetched, END_USER_RECOVERY with its pid: the
    // device is LIVE again and the requests that waited are served.
    Status start_user_recovery(std::uint32_t dev_id);
    Status end_user_recovery(std::uint32_t dev_id, int server_pid);

private:
    ControlDevice(UniqueFd fd, io_uring ring);
    // Sends one command; tries the ioctl-encoded opcode, then the legacy one when the kernel
    // does not know the encoding. Returns the CQE result (>= 0) or the errno.
    Result<int> command(unsigned encoded_op, unsigned legacy_op, ublksrv_ctrl_cmd cmd);
    Result<int> submit(unsigned op, const ublksrv_ctrl_cmd& cmd);

    UniqueFd fd_;
    io_uring ring_{};
    std::mutex mutex_;
    std::optional<std::uint64_t> features_;
    bool encoded_ = true;
};

// The id-th ublk nodes.
std::string block_device_path(int id);
std::string char_device_path(int id);

// Ids of every ublk device the kernel has now (from /sys/class/ublk-char), in order.
std::vector<int> existing_device_ids();

} // namespace trueno::ublk
