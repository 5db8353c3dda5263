// The kernel's ublk interface (include/uapi/linux/ublk_cmd.h). Debian 12 ships the 6.1 header:
// what later kernels added (encoded opcodes, GET_FEATURES, user copy) is defined here, guarded.
#pragma once

#include <linux/ioctl.h>
#include <linux/ublk_cmd.h>

#include <cstddef>
#include <cstdint>

#ifndef UBLK_U_CMD_GET_DEV_INFO
#define UBLK_U_CMD_GET_DEV_INFO _IOR('u', UBLK_CMD_GET_DEV_INFO, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_ADD_DEV _IOWR('u', UBLK_CMD_ADD_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_DEL_DEV _IOWR('u', UBLK_CMD_DEL_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_START_DEV _IOWR('u', UBLK_CMD_START_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_STOP_DEV _IOWR('u', UBLK_CMD_STOP_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_SET_PARAMS _IOWR('u', UBLK_CMD_SET_PARAMS, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_GET_PARAMS _IOR('u', UBLK_CMD_GET_PARAMS, struct ublksrv_ctrl_cmd)
#endif
#ifndef UBLK_U_CMD_START_USER_RECOVERY
#define UBLK_U_CMD_START_USER_RECOVERY _IOWR('u', UBLK_CMD_START_USER_RECOVERY, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_END_USER_RECOVERY _IOWR('u', UBLK_CMD_END_USER_RECOVERY, struct ublksrv_ctrl_cmd)
#endif
#ifndef UBLK_U_CMD_GET_FEATURES
#define UBLK_U_CMD_GET_FEATURES _IOR('u', 0x13, struct ublksrv_ctrl_cmd)
#endif
#ifndef UBLK_U_IO_FETCH_REQ
#define UBLK_U_IO_FETCH_REQ _IOWR('u', UBLK_IO_FETCH_REQ, struct ublksrv_io_cmd)
#define UBLK_U_IO_COMMIT_AND_FETCH_REQ _IOWR('u', UBLK_IO_COMMIT_AND_FETCH_REQ, struct ublksrv_io_cmd)
#endif
#ifndef UBLK_F_UNPRIVILEGED_DEV
#define UBLK_F_UNPRIVILEGED_DEV (1ULL << 5)
#endif
#ifndef UBLK_F_CMD_IOCTL_ENCODE
#define UBLK_F_CMD_IOCTL_ENCODE (1ULL << 6)
#endif
#ifndef UBLK_F_USER_COPY
#define UBLK_F_USER_COPY (1ULL << 7)
#endif
#ifndef UBLK_S_DEV_FAIL_IO
#define UBLK_S_DEV_FAIL_IO 3
#endif

namespace trueno::ublk {

// The sizes the kernel's ABI fixes; a mismatch would corrupt every command.
static_assert(sizeof(ublksrv_ctrl_cmd) == 32);
static_assert(sizeof(ublksrv_ctrl_dev_info) == 64);
static_assert(sizeof(ublksrv_io_desc) == 24);
static_assert(sizeof(ublksrv_io_cmd) == 16);

// Where queue q's descriptor array is mmapped on /dev/ublkcN: the kernel reserves room for the
// largest depth per queue.
inline constexpr std::size_t kMaxDescriptorBytes = UBLK_MAX_QUEUE_DEPTH * sizeof(ublksrv_io_desc);

// User-copy offsets on /dev/ublkcN (6.5+): the request's data of (queue, tag) at byte_offset.
inline constexpr std::uint64_t kUserCopyBase = UBLKSRV_IO_BUF_OFFSET;
inline constexpr unsigned kUserCopyTagShift = 16 + 9; // UBLK_TAG_OFF
inline constexpr unsigned kUserCopyQueueShift = kUserCopyTagShift + 16; // UBLK_QID_OFF

inline std::uint64_t user_copy_offset(unsigned queue, unsigned tag, std::uint64_t byte_offset = 0)
{
    return kUserCopyBase + ((static_cast<std::uint64_t>(queue) << kUserCopyQueueShift) |
                            (static_cast<std::uint64_t>(tag) << kUserCopyTagShift) | byte_offset);
}

} // namespace trueno::ublk
