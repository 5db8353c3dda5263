#include "ublk_device.hpp"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>

namespace trueno::ublk {
namespace {

// The char node appears when devtmpfs/udev gets to it, shortly after ADD_DEV returns.
Result<UniqueFd> open_char_device(int id)
{
    const std::string path = char_device_path(id);
    for (int attempt = 0; attempt < 200; ++attempt) {
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd >= 0)
            return UniqueFd(fd);
        if (errno != ENOENT)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const int err = errno;
    return make_error(err, "open " + path + ": " + std::strerror(err));
}

// /sys/block/ublkbN/dev reads "major:minor".
dev_t read_block_devt(int id)
{
    std::ifstream in(block_sysfs_path(id, "dev"));
    unsigned major_no = 0;
    unsigned minor_no = 0;
    char colon = 0;
    if (in >> major_no >> colon >> minor_no && colon == ':')
        return makedev(major_no, minor_no);
    return 0;
}

// When the server dies with every tag of a queue in its hands, no fetch of that queue is left
// for the kernel to cancel: only the block layer's request timeout lets the kernel notice and
// quiesce the device (before that, a new server cannot recover it). The timeout costs nothing
// while a server lives (ublk just re-arms it), so make it short: 30 s by default.
constexpr unsigned kRequestTimeoutMs = 1000;

void shorten_request_timeout(int id)
{
    const std::string path = block_sysfs_path(id, "queue/io_timeout");
    std::ofstream out(path);
    if (!(out << kRequestTimeoutMs << "\n") || !out.flush())
        spdlog::warn("cannot set {} to {} ms: after a crash, recovery may wait up to 30 s", path, kRequestTimeoutMs);
}

unsigned default_queue_count()
{
    const unsigned cpus = std::max(1U, std::thread::hardware_concurrency());
    return std::min(cpus, 4U);
}

} // namespace

std::string block_sysfs_path(int id, std::string_view file)
{
    return "/sys/block/ublkb" + std::to_string(id) + "/" + std::string(file);
}

Result<CopyMode> parse_copy_mode(const std::string& text)
{
    if (text == "auto")
        return CopyMode::automatic;
    if (text == "user")
        return CopyMode::user;
    if (text == "buffer")
        return CopyMode::buffer;
    return make_error(EINVAL, "copy mode '" + text + "': expected auto, user or buffer");
}

UblkDevice::UblkDevice(ControlDevice& control, int id) : control_(control), id_(id) {}

UblkDevice::~UblkDevice()
{
    if (started_) {
        release();
    } else if (added_) {
        // Added but never served: no data, nothing to wait for it.
        if (auto st = remove(); !st)
            spdlog::error("ublk device {}: {}", id_, st.error().message);
    }
}

std::uint64_t UblkDevice::requests() const
{
    std::uint64_t total = finished_requests_;
    for (const auto& q : queues_)
        total += q->counters().requests.load(std::memory_order_relaxed);
    return total;
}

bool UblkDevice::serving() const
{
    for (const auto& q : queues_)
        if (q->counters().serving.load(std::memory_order_relaxed))
            return true;
    return false;
}

UblkDevice::ParkedCounts UblkDevice::parked_writes() const {
    ParkedCounts counts;
    for (const auto& q : queues_) {
        counts.parked += q->counters().parked.load(std::memory_order_relaxed);
        counts.failed += q->counters().parked_failed.load(std::memory_order_relaxed);
        counts.waiting += q->counters().parked_now.load(std::memory_order_relaxed);
    }
    return counts;
}

Result<std::unique_ptr<UblkDevice>> UblkDevice::add(ControlDevice& control, int requested_id,
                                                     std::uint64_t size_bytes, const DeviceOptions& options)
{
    if (size_bytes == 0 || size_bytes % kPageSize != 0)
        return make_error(EINVAL, "device size must be a non-zero multiple of 4096");
    if (options.depth == 0 || options.depth > UBLK_MAX_QUEUE_DEPTH)
        return make_error(EINVAL, "queue depth must be 1..4096");

    const bool kernel_user_copy = control.features() && (*control.features() & UBLK_F_USER_COPY);
    if (options.copy_mode == CopyMode::user && !kernel_user_copy)
        return make_error(EOPNOTSUPP, "copy mode 'user' needs UBLK_F_USER_COPY (Linux 6.5 or later); "
                                      "this kernel does not offer it");
    const bool want_user_copy = options.copy_mode == CopyMode::user ||
                                (options.copy_mode == CopyMode::automatic && kernel_user_copy);

    ublksrv_ctrl_dev_info info{};
    info.nr_hw_queues = static_cast<std::uint16_t>(options.queues ? options.queues : default_queue_count());
    info.queue_depth = static_cast<std::uint16_t>(options.depth);
    info.max_io_buf_bytes = options.max_io_bytes;
    info.dev_id = requested_id < 0 ? ~0U : static_cast<std::uint32_t>(requested_id);
    // Recovery with reissue: the device and its I/O outlive this process (see the header).
    info.flags = UBLK_F_CMD_IOCTL_ENCODE | UBLK_F_USER_RECOVERY | UBLK_F_USER_RECOVERY_REISSUE |
                 (want_user_copy ? UBLK_F_USER_COPY : 0);
    if (auto st = control.add_device(info); !st)
        return st.error();

    std::unique_ptr<UblkDevice> device(new UblkDevice(control, static_cast<int>(info.dev_id)));
    device->realtime_ = options.realtime;
    device->reserve_wait_ = options.reserve_wait;
    device->added_ = true;
    device->info_ = info;
    device->flags_ = info.flags;
    device->user_copy_ = (info.flags & UBLK_F_USER_COPY) != 0;
    if (want_user_copy && !device->user_copy_)
        return make_error(EOPNOTSUPP, "the kernel refused UBLK_F_USER_COPY");
    if (!(info.flags & UBLK_F_USER_RECOVERY) || !(info.flags & UBLK_F_USER_RECOVERY_REISSUE))
        return make_error(EOPNOTSUPP, "the kernel refused UBLK_F_USER_RECOVERY_REISSUE: a device whose "
                                      "server restarts would lose its I/O");
    spdlog::info("ublk device {}: {} queues x depth {}, {} KiB per request, flags {:#x}, {} copy",
                 device->id_, info.nr_hw_queues, info.queue_depth, info.max_io_buf_bytes / 1024,
                 info.flags, device->user_copy_ ? "user" : "buffer");

    DeviceParams params;
    params.size_bytes = size_bytes;
    params.max_io_bytes = info.max_io_buf_bytes;
    if (auto st = control.set_params(device->id_, params); !st)
        return st.error();
    return device;
}

Status UblkDevice::start_queues(std::shared_ptr<PageStore> store, const ublksrv_ctrl_dev_info& info,
                                SpareQueueThreads* spares, bool log_steps) {
    const auto began = std::chrono::steady_clock::now();
    const auto step = [&](std::string_view what, unsigned q) {
        if (log_steps)
            spdlog::info("ublk device {}: queue {} {} at {} ms", id_, q, what,
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - began)
                             .count());
    };
    store_ = std::move(store);
    auto fd = open_char_device(id_);
    if (!fd)
        return fd.error();
    char_fd_ = std::move(fd.value());
    const bool encoded = (info.flags & UBLK_F_CMD_IOCTL_ENCODE) != 0;
    std::vector<std::future<Status>> armed;
    for (unsigned q = 0; q < info.nr_hw_queues; ++q) {
        QueueConfig qc;
        qc.queue_id = q;
        qc.depth = info.queue_depth;
        qc.buffer_bytes = info.max_io_buf_bytes;
        qc.user_copy = user_copy_;
        qc.encoded_opcodes = encoded;
        qc.char_fd = char_fd_.get();
        qc.realtime = realtime_;
        qc.reserve_wait = reserve_wait_;
        auto queue = IoQueue::create(qc, store_);
        if (!queue)
            return queue.error();
        queues_.push_back(std::move(queue.value()));
        step("made (descriptors mapped, buffers locked)", q);
        armed.push_back(queues_.back()->start(spares));
    }
    for (unsigned q = 0; q < armed.size(); ++q) {
        if (auto st = armed[q].get(); !st)
            return st.error();
        step("armed (a fetch on every tag)", q);
    }
    return {};
}

Status UblkDevice::start(std::shared_ptr<PageStore> store)
{
    if (!added_ || started_)
        return make_error(EINVAL, "ublk device " + std::to_string(id_) + " cannot be started now");
    if (!store || store->disksize() == 0 || store->disksize() % kPageSize != 0)
        return make_error(EINVAL, "device size must be a non-zero multiple of 4096");
    if (auto st = start_queues(std::move(store), info_); !st)
        return st; // the destructor removes what was added
    // Only now: START_DEV waits until every tag of every queue has a fetch outstanding.
    if (auto st = control_.start_device(id_, getpid()); !st)
        return st;
    started_ = true;
    devt_ = read_block_devt(id_);
    shorten_request_timeout(id_);
    return {};
}

Result<std::unique_ptr<UblkDevice>> UblkDevice::recover(ControlDevice& control, int id,
                                                        std::shared_ptr<PageStore> store,
                                                        std::chrono::milliseconds wait,
                                                        const DeviceOptions& options,
                                                        SpareQueueThreads* spares) {
    // The kernel quiesces the device once the dead server's ring is gone, and lets a new
    // server in once its char device is closed too: until then START_USER_RECOVERY is EBUSY.
    const auto deadline = std::chrono::steady_clock::now() + wait;
    Status started = make_error(EBUSY, "not tried");
    bool said = false;
    for (;;) {
        started = control.start_user_recovery(static_cast<std::uint32_t>(id));
        if (started || started.error().code != EBUSY || std::chrono::steady_clock::now() >= deadline)
            break;
        if (!said && std::chrono::steady_clock::now() >= deadline - wait + std::chrono::seconds(1)) {
            spdlog::info("ublk device {}: waiting for the kernel to quiesce it (its requests time out first)", id);
            said = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!started)
        return started.error();
    // Each step of a take-over is logged: a take-over that hangs says in which one.
    spdlog::info("ublk device {}: START_USER_RECOVERY accepted after {} ms", id,
                 std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                       (deadline - wait))
                     .count());
    auto info = control.device_info(static_cast<std::uint32_t>(id));
    if (!info)
        return info.error();
    std::unique_ptr<UblkDevice> device(new UblkDevice(control, id));
    device->realtime_ = options.realtime;
    device->reserve_wait_ = options.reserve_wait;
    device->info_ = *info;
    device->flags_ = info->flags;
    device->user_copy_ = (info->flags & UBLK_F_USER_COPY) != 0;
    // From here on the device is ours to serve; if that fails, it stays quiesced (never
    // removed: its data is in the store) for the next attempt.
    if (auto st = device->start_queues(std::move(store), *info, spares, true); !st) {
        device->release();
        return st.error();
    }
    device->started_ = true;
    spdlog::info("ublk device {}: {} queue(s) fetching every tag; END_USER_RECOVERY", id, info->nr_hw_queues);
    if (auto st = control.end_user_recovery(static_cast<std::uint32_t>(id), getpid()); !st) {
        device->release();
        return st.error();
    }
    device->added_ = true;
    device->devt_ = read_block_devt(id);
    shorten_request_timeout(id);
    return device;
}

Status UblkDevice::remove(UniqueFd exclusive_hold)
{
    if (!added_)
        return {};
    Status result;
    // STOP_DEV also aborts the outstanding fetches, which ends the queue threads.
    if (auto st = control_.stop_device(static_cast<std::uint32_t>(id_)); !st)
        result = st;
    exclusive_hold.reset(); // the disk is gone: no swapon or mount can take it now
    for (auto& q : queues_) {
        q->join();
        finished_requests_ += q->counters().requests.load();
    }
    queues_.clear(); // unmaps descriptors and buffers
    char_fd_.reset(); // DEL_DEV waits for the char device to be closed
    if (auto st = control_.delete_device(static_cast<std::uint32_t>(id_)); !st && result.ok())
        result = st;
    added_ = false;
    started_ = false;
    return result;
}

void UblkDevice::release()
{
    for (auto& q : queues_)
        q->request_exit();
    for (auto& q : queues_) {
        q->join();
        finished_requests_ += q->counters().requests.load();
    }
    queues_.clear();
    char_fd_.reset(); // the next server's START_USER_RECOVERY waits for this
    store_.reset();
    added_ = false;
    started_ = false;
}

} // namespace trueno::ublk
