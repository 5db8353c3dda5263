#include "control_device.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include <spdlog/spdlog.h>

extern char** environ;

namespace trueno::ublk {
namespace {

constexpr const char* kControlPath = "/dev/ublk-control";
constexpr int kKernelENOTSUPP = 524; // the kernel-internal code 6.1 returns for unknown commands

// Runs `modprobe ublk_drv` and waits for it; true when it exited 0.
bool load_module()
{
    const char* argv[] = {"modprobe", "ublk_drv", nullptr};
    pid_t pid = -1;
    if (posix_spawnp(&pid, "modprobe", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0)
        return false;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool unknown_command(int err) { return err == EOPNOTSUPP || err == kKernelENOTSUPP || err == EINVAL; }

std::string errno_text(int err) { return std::strerror(err); }

} // namespace

std::string block_device_path(int id) { return "/dev/ublkb" + std::to_string(id); }
std::string char_device_path(int id) { return "/dev/ublkc" + std::to_string(id); }

Result<std::unique_ptr<ControlDevice>> ControlDevice::open()
{
    int fd = ::open(kControlPath, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        spdlog::info("{} missing: trying modprobe ublk_drv", kControlPath);
        if (load_module())
            fd = ::open(kControlPath, O_RDWR | O_CLOEXEC);
        else
            errno = ENOENT;
    }
    if (fd < 0) {
        const int err = errno;
        return make_error(err, std::string("cannot open ") + kControlPath + ": " + errno_text(err) +
                                   (err == ENOENT ? " (the kernel needs CONFIG_BLK_DEV_UBLK: Linux 6.0 or "
                                                    "later, 6.5 or later for user copy; module ublk_drv)"
                                                  : ""));
    }
    UniqueFd owned(fd);
    io_uring ring{};
    // The control commands carry 32 bytes in the SQE's command area: only SQE128 has room.
    if (int rc = io_uring_queue_init(4, &ring, IORING_SETUP_SQE128); rc < 0)
        return make_error(-rc, "io_uring_queue_init(SQE128) for ublk control: " + errno_text(-rc));
    std::unique_ptr<ControlDevice> control(new ControlDevice(std::move(owned), ring));

    std::uint64_t features = 0;
    ublksrv_ctrl_cmd cmd{};
    cmd.dev_id = ~0U;
    cmd.queue_id = 0xffff;
    cmd.addr = reinterpret_cast<std::uintptr_t>(&features);
    cmd.len = sizeof(features);
    if (auto rc = control->submit(UBLK_U_CMD_GET_FEATURES, cmd); rc.ok()) {
        control->features_ = features;
        spdlog::info("ublk features offered by the kernel: {:#x}", features);
    } else {
        spdlog::info("ublk GET_FEATURES not supported ({}): kernel older than 6.5",
                     errno_text(rc.error().code));
    }
    return control;
}

ControlDevice::ControlDevice(UniqueFd fd, io_uring ring) : fd_(std::move(fd)), ring_(ring) {}

ControlDevice::~ControlDevice() { io_uring_queue_exit(&ring_); }

Result<int> ControlDevice::submit(unsigned op, const ublksrv_ctrl_cmd& cmd)
{
    std::lock_guard lock(mutex_);
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (!sqe)
        return make_error(EBUSY, "ublk control ring full");
    std::memset(sqe, 0, 2 * sizeof(io_uring_sqe)); // SQE128: two slots' worth
    sqe->opcode = IORING_OP_URING_CMD;
    sqe->fd = fd_.get();
    sqe->cmd_op = op;
    std::memcpy(reinterpret_cast<std::byte*>(sqe) + offsetof(io_uring_sqe, cmd), &cmd, sizeof(cmd));
    int rc = io_uring_submit_and_wait(&ring_, 1);
    if (rc < 0)
        return make_error(-rc, "io_uring_submit_and_wait: " + errno_text(-rc));
    io_uring_cqe* cqe = nullptr;
    while ((rc = io_uring_wait_cqe(&ring_, &cqe)) == -EINTR) {
    }
    if (rc < 0)
        return make_error(-rc, "io_uring_wait_cqe: " + errno_text(-rc));
    const int res = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    if (res < 0)
        return make_error(-res, errno_text(-res));
    return res;
}

Result<int> ControlDevice::command(unsigned encoded_op, unsigned legacy_op, ublksrv_ctrl_cmd cmd)
{
    if (encoded_) {
        auto rc = submit(encoded_op, cmd);
        if (rc.ok() || !unknown_command(rc.error().code) || features_)
            return rc; // a kernel with GET_FEATURES knows the encoding: the error is real
        auto legacy = submit(legacy_op, cmd);
        if (legacy.ok()) {
            spdlog::info("ublk: kernel takes legacy opcodes only");
            encoded_ = false;
        }
        return legacy.ok() ? legacy : rc;
    }
    return submit(legacy_op, cmd);
}

Status ControlDevice::add_device(ublksrv_ctrl_dev_info& info)
{
    ublksrv_ctrl_cmd cmd{};
    cmd.dev_id = info.dev_id;
    cmd.queue_id = 0xffff;
    cmd.addr = reinterpret_cast<std::uintptr_t>(&info);
    cmd.len = sizeof(info);
    if (auto rc = command(UBLK_U_CMD_ADD_DEV, UBLK_CMD_ADD_DEV, cmd); !rc)
        return make_error(rc.error().code, "ublk ADD_DEV: " + rc.error().message);
    return {};
}

Status ControlDevice::set_params(std::uint32_t dev_id, const DeviceParams& params)
{
    ublk_params p{};
    p.len = sizeof(p);
    p.types = UBLK_PARAM_TYPE_BASIC | UBLK_PARAM_TYPE_DISCARD;
    p.basic.logical_bs_shift = 12; // swap and the store work in 4096-byte pages
    p.basic.physical_bs_shift = 12;
    p.basic.io_opt_shift = 12;
    p.basic.io_min_shift = 12;
    p.basic.max_sectors = params.max_io_bytes >> 9;
    p.basic.dev_sectors = params.size_bytes >> 9;
    // Without DISCARD parameters the kernel never sends DISCARD, and swap's freed slots would
    // stay allocated in the store.
    p.discard.discard_granularity = 4096;
    p.discard.max_discard_sectors = UINT32_MAX >> 9;
    p.discard.max_write_zeroes_sectors = UINT32_MAX >> 9;
    p.discard.max_discard_segments = 1;
    ublksrv_ctrl_cmd cmd{};
    cmd.dev_id = dev_id;
    cmd.queue_id = 0xffff;
    cmd.addr = reinterpret_cast<std::uintptr_t>(&p);
    cmd.len = sizeof(p);
    if (auto rc = command(UBLK_U_CMD_SET_PARAMS, UBLK_CMD_SET_PARAMS, cmd); !rc)
        return make_error(rc.error().code, "ublk SET_PARAMS: " + rc.error().message);
    return {};
}

Status ControlDevice::start_device(std::uint32_t dev_id, int server_pid)
{
    ublksrv_ctrl_cmd cmd{};
    cmd.dev_id = dev_id;
    cmd.queue_id = 0xffff;
    cmd.data[0] = static_cast<std::uint64_t>(server_pid);
    if (auto rc = command(UBLK_U_CMD_START_DEV, UBLK_CMD_START_DEV, cmd); !rc)
        return make_error(rc.error().code, "ublk START_DEV: " + rc.error().message);
    return {};
}

Status ControlDevice::stop_device(std::uint32_t dev_id)
{
    ublksrv_ctrl_cmd cmd{};
    cmd.dev_id = dev_id;
    cmd.queue_id = 0xffff;
    if (auto rc = command(UBLK_U_CMD_STOP_DEV, UBLK_CMD_STOP_DEV, cmd); !rc)
        return make_error(rc.error().code, "ublk STOP_DEV: " + rc.error().message);
    return {};
}

Status ControlDevice::delete_device(std::uint32_t dev_id)
{
    ublksrv_ctrl_cmd cmd{};
    cmd.dev_id = dev_id;
    cmd.queue_id = 0xffff;
    if (auto rc = command(UBLK_U_CMD_DEL_DEV, UBLK_CMD_DEL_DEV, cmd); !rc)
        return make_error(rc.error().code, "ublk DEL_DEV: " + rc.error().message);
    return {};
}

Status ControlDevice::start_user_recovery(std::uint32_t dev_id)
{
    ublksrv_ctrl_cmd cmd{};
    cmd.dev_id = dev_id;
    cmd.queue_id = 0xffff;
    if (auto rc = command(UBLK_U_CMD_START_USER_RECOVERY, UBLK_CMD_START_USER_RECOVERY, cmd); !rc)
        return make_error(rc.error().code, "ublk START_USER_RECOVERY: " + rc.error().message);
    return {};
}

Status ControlDevice::end_user_recovery(std::uint32_t dev_id, int server_pid)
{
    ublksrv_ctrl_cmd cmd{};
    cmd.dev_id = dev_id;
    cmd.queue_id = 0xffff;
    cmd.data[0] = static_cast<std::uint64_t>(server_pid);
    if (auto rc = command(UBLK_U_CMD_END_USER_RECOVERY, UBLK_CMD_END_USER_RECOVERY, cmd); !rc)
        return make_error(rc.error().code, "ublk END_USER_RECOVERY: " + rc.error().message);
    return {};
}

std::vector<int> existing_device_ids()
{
    std::vector<int> ids;
    if (DIR* dir = opendir("/sys/class/ublk-char")) {
        while (dirent* e = readdir(dir)) {
            const std::string name = e->d_name;
            if (name.rfind("ublkc", 0) == 0 && name.size() > 5 &&
                name.find_first_not_of("0123456789", 5) == std::string::npos)
                ids.push_back(std::stoi(name.substr(5)));
        }
        closedir(dir);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

Result<ublksrv_ctrl_dev_info> ControlDevice::device_info(std::uint32_t dev_id)
{
    ublksrv_ctrl_dev_info info{};
    ublksrv_ctrl_cmd cmd{};
    cmd.dev_id = dev_id;
    cmd.queue_id = 0xffff;
    cmd.addr = reinterpret_cast<std::uintptr_t>(&info);
    cmd.len = sizeof(info);
    if (auto rc = command(UBLK_U_CMD_GET_DEV_INFO, UBLK_CMD_GET_DEV_INFO, cmd); !rc)
        return make_error(rc.error().code, "ublk GET_DEV_INFO: " + rc.error().message);
    return info;
}

} // namespace trueno::ublk
